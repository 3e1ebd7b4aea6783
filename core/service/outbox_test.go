package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
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
	s.InlineSteps = 0 // std.noop would otherwise run inline, with no message
	if err := s.UseOutbox("tasks", "results"); err != nil {
		t.Fatal(err)
	}
	src := "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [b]\n    b:\n      action: std.noop\n"
	if _, err := s.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{})})
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

// outboxService is a service over one bbolt file holding the store and its
// task and result queues, committing through the outbox, with src
// registered; commits, when set, is asked before each commit with messages.
func outboxService(t *testing.T, src string, commits func() error) (*service.Service, *boltqueue.Queue, *boltqueue.Queue) {
	t.Helper()
	db, err := boltstore.OpenDB(filepath.Join(t.TempDir(), "lazyflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { boltstore.CloseDB(db) })
	st, err := boltstore.New(db, false)
	if err != nil {
		t.Fatal(err)
	}
	queues := map[string]*boltqueue.Queue{}
	for _, name := range []string{"tasks", "results"} {
		if queues[name], err = boltqueue.New(db, name, boltqueue.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var sst store.Store = st
	if commits != nil {
		sst = &commitHook{Store: st, commit: commits}
	}
	s := service.New(sst, actions.New(), nil)
	s.Tasks, s.Results = queues["tasks"], queues["results"]
	if err := s.UseOutbox("tasks", "results"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(context.Background(), "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return s, queues["tasks"], queues["results"]
}

// commitHook lets a test fail a commit, as a process that dies before it
// would leave the step.
type commitHook struct {
	*kvstore.Store
	commit func() error
}

func (h *commitHook) CommitSending(ctx context.Context, ops []engine.Op, msgs []store.Outgoing) error {
	if err := h.commit(); err != nil {
		return err
	}
	return h.Store.CommitSending(ctx, ops, msgs)
}

// With the outbox, trivial actions still run inline within the budget: a
// chain of std.noop longer than the budget puts one message on the task
// queue per budget's worth of tasks, and none on the result queue.
func TestOutboxRunsTrivialActionsInline(t *testing.T) {
	const n = service.DefaultInlineSteps + 8
	s, tasks, results := outboxService(t, chain(n, "std.noop"), nil)
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := tasks.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("after the start the task queue gave %d messages (%v); want 1, the task past the budget", len(msgs), err)
	}
	want := fmt.Sprintf(`"task":"t%d"`, service.DefaultInlineSteps+1)
	if !strings.Contains(string(msgs[0].Body), want) {
		t.Fatalf("queued %s; want the task after the %d run inline (%s)", msgs[0].Body, service.DefaultInlineSteps, want)
	}
	if err := s.RunTask(ctx, msgs[0].Body); err != nil {
		t.Fatal(err)
	}
	res, err := results.Receive(ctx, 10, 0)
	if err != nil || len(res) != 1 {
		t.Fatalf("the runner sent %d results (%v); want 1", len(res), err)
	}
	if err := s.HandleMessage(ctx, res[0].Body); err != nil {
		t.Fatal(err)
	}
	if st := execState(t, s, e.ID); st.State != engine.Success {
		t.Fatalf("state %s %q; want SUCCESS, the rest of the chain inline", st.State, st.StateInfo)
	}
	for name, q := range map[string]*boltqueue.Queue{"task": tasks, "result": results} {
		if left, err := q.Receive(ctx, 10, 0); err != nil || len(left) != 0 {
			t.Fatalf("%d messages left on the %s queue (%v); want none", len(left), name, err)
		}
	}
}

// A trivial action left to run inline has no message in the outbox: if the
// process stops before its result commits, its attempt is committed as
// pending and unclaimed, and recovery runs it, so the execution still
// finishes.
func TestOutboxInlineWorkSurvivesAStop(t *testing.T) {
	var commits atomic.Int32
	var dead atomic.Bool
	s, tasks, results := outboxService(t, chain(3, "std.noop"), func() error {
		if commits.Add(1) > 1 && dead.Load() {
			return errors.New("process stopped")
		}
		return nil
	})
	// The stopped process cannot hand the result to the queue either.
	s.Results = refusingSender{}
	dead.Store(true)
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err == nil {
		t.Fatal("start succeeded though t1's result could not be committed or sent")
	}
	if e == nil {
		t.Fatalf("start did not commit the execution: %v", err)
	}
	for name, q := range map[string]*boltqueue.Queue{"task": tasks, "result": results} {
		if n, err := q.Len(); err != nil || n != 0 {
			t.Fatalf("%s queue holds %d messages (%v); want none, t1 was left to run inline", name, n, err)
		}
	}
	if tk, err := s.Store.Task(ctx, e.ID, "t1"); err != nil || tk == nil || tk.State != engine.Running || tk.Claimed != 0 {
		t.Fatalf("t1: %+v %v; want RUNNING and unclaimed", tk, err)
	}
	dead.Store(false)
	if err := s.Recover(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if st := execState(t, s, e.ID); st.State != engine.Success {
		t.Fatalf("after recovery: state %s %q; want SUCCESS", st.State, st.StateInfo)
	}
}

// With the outbox, the write that completes a message's handling deletes
// the message in its own transaction: the runner's result send deletes the
// task message, and a result step whose commit sends everything it does
// deletes the result message. A step with more to carry out after its
// commit (here the end of the execution) leaves the deletion to the host.
func TestOutboxAcknowledgesWithTheLastWrite(t *testing.T) {
	s, tasks, results := outboxService(t, chain(2, "std.noop"), nil)
	s.InlineSteps = 0
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	handle := func(q *boltqueue.Queue, fn func(context.Context, []byte) error) bool {
		t.Helper()
		msgs, err := q.Receive(ctx, 1, 0)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("receive: %d messages, %v", len(msgs), err)
		}
		hctx, ack := service.Consuming(ctx, msgs[0].Receipt)
		if err := fn(hctx, msgs[0].Body); err != nil {
			t.Fatal(err)
		}
		return ack.Done()
	}
	length := func(q *boltqueue.Queue) int {
		t.Helper()
		n, err := q.Len()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !handle(tasks, s.RunTask) || length(tasks) != 0 || length(results) != 1 {
		t.Fatalf("after running t1: task queue %d, result queue %d; want the task message deleted with the result's send",
			length(tasks), length(results))
	}
	if !handle(results, s.HandleMessage) || length(results) != 0 || length(tasks) != 1 {
		t.Fatalf("after t1's result step: result queue %d, task queue %d; want the result deleted with the commit that sent t2",
			length(results), length(tasks))
	}
	if !handle(tasks, s.RunTask) {
		t.Fatal("t2's task message was not deleted with its result's send")
	}
	if handle(results, s.HandleMessage) || length(results) != 1 {
		t.Fatalf("the last result step acknowledged its message (queue holds %d) though its commit leaves the end to carry out",
			length(results))
	}
	if st := execState(t, s, e.ID); st.State != engine.Success {
		t.Fatalf("state %s %q; want SUCCESS", st.State, st.StateInfo)
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
