package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/storetest"
)

// A record the file holds but that cannot be decoded is store.ErrCorrupt
// naming its key; a corrupt head is left out of every list (logged at ERROR
// naming it) while the others still page, so Sweep goes on recovering the
// other RUNNING executions.
func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lazyflow.db")
	db, err := boltstore.OpenDB(path)
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
	long := time.Now().UTC().Add(-time.Hour)
	for i, id := range []string{"e1", "e2", "e3", "e4"} {
		at := long.Add(time.Duration(i) * time.Second)
		e := &engine.Execution{ID: id, Workflow: "wf", DefID: "d", State: engine.Running, Root: id, Active: 1, Created: at, Updated: at}
		run := engine.Command{Kind: engine.RunAction, Exec: id, Task: "t", Slot: -1, Attempt: 1}
		tk := &engine.Task{Exec: id, Key: "t", Name: "t", State: engine.Running, Attempt: 1, Started: at, Outbox: []engine.Command{run}}
		if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}, engine.PutTask{Task: tk}}); err != nil {
			t.Fatal(err)
		}
	}
	plant := func(pk, sk string) {
		t.Helper()
		err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("records")).Put([]byte(pk+"\x00"+sk), []byte("{this record is corrupt"))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	plant("e3", store.HeadSK)
	plant("e4", store.TaskSK("t"))

	if _, err := st.Execution(ctx, "e3"); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "e3/"+store.HeadSK) {
		t.Fatalf("read of a corrupt head: %v, want ErrCorrupt naming e3/%s", err, store.HeadSK)
	}
	if _, err := st.Task(ctx, "e4", "t"); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "e4/"+store.TaskSK("t")) {
		t.Fatalf("read of a corrupt task: %v, want ErrCorrupt naming its key", err)
	}

	for _, p := range []store.ListParams{{State: engine.Running}, {Workflow: "wf"}, {}} {
		var ids []string
		for cursor := ""; ; {
			p.Limit, p.Cursor = 1, cursor
			page, err := st.ListExecutions(ctx, p)
			if err != nil {
				t.Fatalf("list %+v with a corrupt head: %v", p, err)
			}
			for _, e := range page.Executions {
				ids = append(ids, e.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if got := strings.Join(ids, ","); got != "e4,e2,e1" {
			t.Errorf("list %+v: %s, want e4,e2,e1", p, got)
		}
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "execution_id=e3") {
		t.Fatalf("log %q, want an ERROR naming execution e3", l)
	}

	svc, tasks, _ := storetest.NewService(st)
	n, err := svc.Sweep(ctx, time.Minute, 100)
	if err != nil || n != 3 {
		t.Fatalf("sweep with a corrupt head: %d executions, %v; want the 3 readable ones", n, err)
	}
	for _, id := range []string{"e1", "e2"} {
		if len(tasks.Runs(id)) != 1 {
			t.Errorf("sweep did not re-send the unclaimed action of %s", id)
		}
	}

	// The purge deletes the finished executions it can read and keeps one it
	// cannot.
	for _, id := range []string{"old1", "old2"} {
		e := &engine.Execution{ID: id, Workflow: "old", DefID: "d", State: engine.Success, Root: id, Created: long, Updated: long}
		if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
			t.Fatal(err)
		}
	}
	plant("old1", store.HeadSK)
	if n, err := st.PurgeExecutions(ctx, store.PurgeParams{Before: time.Now()}); err != nil || n != 1 {
		t.Fatalf("purge with a corrupt finished head: %d deleted, %v; want 1", n, err)
	}
	if _, err := st.Execution(ctx, "old1"); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("the corrupt head after the purge: %v, want it kept", err)
	}
}
