package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

type refusingSender struct{}

func (refusingSender) Send(context.Context, []byte, time.Duration) error {
	return errors.New("this sender must not be used")
}

// With the outbox, a step's run-action messages are committed with its
// records in the store's file: the first task's message is on the file's
// task queue once Start returns, exactly once, and so is the next task's
// once the result step returns; the Tasks sender (which a host without an
// outbox uses after the commit) is never called.
func TestOutboxSendsWithTheCommit(t *testing.T) {
	ctx := context.Background()
	db, err := boltstore.OpenDB(filepath.Join(t.TempDir(), "lazyflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := boltstore.New(db, false)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := boltqueue.New(db, "tasks", boltqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results, err := boltqueue.New(db, "results", boltqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := service.New(st, actions.New(), nil)
	s.Tasks, s.Results = refusingSender{}, results
	if err := s.UseOutbox("tasks", "results"); err != nil {
		t.Fatal(err)
	}
	src := "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [b]\n    b:\n      action: std.noop\n"
	if _, err := s.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf", Input: map[string]any{}})
	if err != nil {
		t.Fatalf("start with the outbox: %v", err)
	}
	if n, err := tasks.Len(); err != nil || n != 1 {
		t.Fatalf("task queue holds %d messages (%v), want the first task's 1", n, err)
	}
	msgs, err := tasks.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d messages, %v", len(msgs), err)
	}
	// The runner sends its result through Results (a queue of the file
	// here); the result step that applies it sends the next task with its
	// commit, again not through the Tasks sender.
	if err := s.RunTask(ctx, msgs[0].Body); err != nil {
		t.Fatalf("run task a: %v", err)
	}
	res, err := results.Receive(ctx, 10, 0)
	if err != nil || len(res) != 1 {
		t.Fatalf("receive result: %d messages, %v", len(res), err)
	}
	if err := s.HandleMessage(ctx, res[0].Body); err != nil {
		t.Fatalf("apply the result of a: %v", err)
	}
	next, err := tasks.Receive(ctx, 10, 0)
	if err != nil || len(next) != 1 || !strings.Contains(string(next[0].Body), `"task":"b"`) {
		t.Fatalf("after a's result the task queue gave %d messages (%v), want task b's", len(next), err)
	}
	if tk, err := st.Task(ctx, e.ID, "b"); err != nil || tk == nil {
		t.Fatalf("task b's record: %v, %v", tk, err)
	}
}

// A store whose database holds no queues refuses the outbox by name.
func TestOutboxNeedsTheQueuesInTheStore(t *testing.T) {
	s := service.New(kvstore.NewMemory(), actions.New(), nil)
	err := s.UseOutbox("tasks", "results")
	if err == nil {
		t.Fatal("the memory store accepted an outbox")
	}
	t.Log(err)
}
