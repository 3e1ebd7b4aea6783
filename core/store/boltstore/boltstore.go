// Package boltstore is Lazyflow's durable embedded store: the conditional
// rules of package kvstore over a single bbolt file, so the local mode keeps
// its executions across restarts with no server to run.
//
// Layout: one bucket, "records"; a record's key is its partition key, a NUL
// byte and its sort key (kvstore's layout). NUL sorts before every other
// byte, so the records of one partition are contiguous and in sort-key
// order, and a prefix scan is a cursor seek. A bbolt read-write transaction
// is serialised and atomic, which is all kvstore needs for its commits.
//
// The file may also hold other buckets (boltqueue shares it): see OpenDB.
package boltstore

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

var bucket = []byte("records")

// Open opens (creating if needed) the store in the bbolt file at path. The
// file is locked: a second process opening it waits up to 5 seconds, then
// fails.
func Open(path string) (*kvstore.Store, error) {
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	s, err := New(db, true)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB opens a bbolt file with the options the Lazyflow drivers expect, for
// callers that share one file between the store and the queue.
func OpenDB(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store file %s: %w: %v", path, store.ErrUnavailable, err)
	}
	return db, nil
}

// New returns a store over an open database. With own set, closing the
// store closes db; otherwise the caller closes it (after every user of it).
func New(db *bolt.DB, own bool) (*kvstore.Store, error) {
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("prepare store bucket in %s: %w", db.Path(), err)
	}
	return kvstore.New(&backend{db: db, own: own}), nil
}

type backend struct {
	db  *bolt.DB
	own bool
}

func key(pk, sk string) []byte {
	k := make([]byte, 0, len(pk)+1+len(sk))
	k = append(k, pk...)
	k = append(k, 0)
	return append(k, sk...)
}

type tx struct{ b *bolt.Bucket }

func (t tx) Get(pk, sk string) (any, error) {
	v := t.b.Get(key(pk, sk))
	if v == nil {
		return nil, nil
	}
	// bbolt's slices are valid only inside the transaction.
	return append([]byte(nil), v...), nil
}

func (t tx) Put(pk, sk string, v any) error {
	b, ok := v.([]byte)
	if !ok {
		return fmt.Errorf("write %s/%s: %T is not bytes", pk, sk, v)
	}
	if err := t.b.Put(key(pk, sk), b); err != nil {
		return fmt.Errorf("write %s/%s: %w", pk, sk, err)
	}
	return nil
}

func (t tx) Scan(pk, prefix string, fn func(sk string, v any) error) error {
	p := key(pk, prefix)
	skAt := len(pk) + 1
	c := t.b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k[skAt:]), append([]byte(nil), v...)); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) Update(fn func(kvstore.Tx) error) error {
	return b.run(b.db.Update, fn)
}

func (b *backend) View(fn func(kvstore.Tx) error) error {
	return b.run(b.db.View, fn)
}

// run keeps the driver's own errors (conflicts, too large) as they are and
// marks bbolt's failures (disk full, closed database) as unavailable.
func (b *backend) run(do func(func(*bolt.Tx) error) error, fn func(kvstore.Tx) error) error {
	var inner error
	err := do(func(btx *bolt.Tx) error {
		bk := btx.Bucket(bucket)
		if bk == nil {
			return fmt.Errorf("store bucket missing in %s", b.db.Path())
		}
		inner = fn(tx{bk})
		return inner
	})
	if err != nil && inner == nil {
		return fmt.Errorf("store file %s: %w: %v", b.db.Path(), store.ErrUnavailable, err)
	}
	return err
}

func (b *backend) Close() error {
	if !b.own {
		return nil
	}
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store file: %w", err)
	}
	return nil
}
