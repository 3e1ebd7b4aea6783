package boltstore_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/storetest"
)

// TestCorruptRecords plants bytes that are not JSON in the file.
func TestCorruptRecords(t *testing.T) {
	db, err := boltstore.OpenDB(filepath.Join(t.TempDir(), "lazyflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = boltstore.CloseDB(db) })
	st, err := boltstore.New(db, false)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st.SetLog(slog.New(slog.NewTextHandler(&logs, nil)))
	storetest.Corrupt(t, st, func(pk, sk string) {
		err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("records")).Put([]byte(pk+"\x00"+sk), []byte("{this record is corrupt"))
		})
		if err != nil {
			t.Fatal(err)
		}
	}, &logs)
}
