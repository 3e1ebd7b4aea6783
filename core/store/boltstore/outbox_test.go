package boltstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// CommitSending is all or nothing across the store and the queue: a commit
// that conflicts sends nothing, one that succeeds sends its messages, and
// after a reopen the records and the messages are there together.
func TestCommitSendingIsAtomic(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lazyflow.db")
	open := func() (*boltqueue.Queue, *kvstore.Store, func()) {
		db, err := boltstore.OpenDB(path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := boltstore.New(db, false)
		if err != nil {
			t.Fatal(err)
		}
		q, err := boltqueue.New(db, "tasks", boltqueue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !st.CanSend("tasks") || st.CanSend("elsewhere") {
			t.Fatal("CanSend does not tell the file's queues from others")
		}
		return q, st, func() { _ = q.Close(); _ = st.Close(); _ = db.Close() }
	}
	q, st, closeAll := open()
	now := time.Now().UTC()
	e := &engine.Execution{ID: "ex-1", Workflow: "wf", DefID: "d", State: engine.Running, Active: 1, Created: now, Updated: now}
	put := []engine.Op{engine.PutExecution{Exec: e}}
	if err := st.CommitSending(ctx, put, []store.Outgoing{{Queue: "tasks", Body: []byte(`{"n":1}`)}}); err != nil {
		t.Fatal(err)
	}
	// Creating the same execution again conflicts: its message must not go.
	err := st.CommitSending(ctx, put, []store.Outgoing{{Queue: "tasks", Body: []byte(`{"n":2}`)}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v, want a conflict", err)
	}
	if n, err := q.Len(); err != nil || n != 1 {
		t.Fatalf("queue holds %d messages (%v) after one commit that sent and one that conflicted, want 1", n, err)
	}
	// A message to a queue the file does not hold fails the whole commit.
	e2 := *e
	e2.ID = "ex-2"
	if err := st.CommitSending(ctx, []engine.Op{engine.PutExecution{Exec: &e2}}, []store.Outgoing{{Queue: "nowhere", Body: []byte(`{}`)}}); err == nil {
		t.Fatal("a message to a missing queue was accepted")
	}
	closeAll()

	q, st, closeAll = open()
	defer closeAll()
	if got, err := st.Execution(ctx, "ex-1"); err != nil || got == nil {
		t.Fatalf("ex-1 after reopen: %v, %v", got, err)
	}
	if got, err := st.Execution(ctx, "ex-2"); err != nil || got != nil {
		t.Fatalf("ex-2 was written by a commit that failed: %v, %v", got, err)
	}
	msgs, err := q.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 || string(msgs[0].Body) != `{"n":1}` {
		t.Fatalf("queue after reopen: %v (%v), want only the committed message", msgs, err)
	}
}
