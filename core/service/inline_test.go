package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// chain is a direct workflow of n tasks running action one after another.
func chain(n int, action string) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  tasks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: %s\n", i, action)
		if i < n {
			fmt.Fprintf(&b, "      on-success: t%d\n", i+1)
		}
	}
	return b.String()
}

func inlineService(t *testing.T, src string) (*service.Service, *box, *box) {
	t.Helper()
	s := service.New(kvstore.NewMemory(), actions.New(), nil)
	tq, rq := &box{}, &box{}
	s.Tasks, s.Results = tq, rq
	if _, err := s.Register(context.Background(), "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return s, tq, rq
}

func execState(t *testing.T, s *service.Service, id string) *engine.Execution {
	t.Helper()
	e, err := s.Store.Execution(context.Background(), id)
	if err != nil || e == nil {
		t.Fatalf("load %s: %v %v", id, e, err)
	}
	return e
}

// A chain of std.noop and std.echo tasks finishes within the start's own
// step: no message goes to the task queue or the result queue.
func TestInlineTrivialChainSendsNothing(t *testing.T) {
	src := chain(10, "std.noop") + "    t11:\n      action: std.echo output=done\n      publish:\n        r: <% task().result %>\n"
	src = strings.Replace(src, "    t11:", "      on-complete: t11\n    t11:", 1)
	s, tq, rq := inlineService(t, src)
	e, _, err := s.Start(context.Background(), service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	if e = execState(t, s, e.ID); e.State != engine.Success {
		t.Fatalf("state %s %q; want SUCCESS within the start", e.State, e.StateInfo)
	}
	if n, m := len(tq.take()), len(rq.take()); n != 0 || m != 0 {
		t.Fatalf("%d task and %d result messages; want none", n, m)
	}
	task, err := s.Store.Task(context.Background(), e.ID, "t11")
	if err != nil || task == nil || task.State != engine.Success || task.Published.Value("r") != "done" {
		t.Fatalf("t11: %+v %v; want SUCCESS publishing r=done", task, err)
	}
}

// One invocation runs at most InlineSteps trivial actions; the next goes to
// the task queue, and the invocation that takes it has a budget of its own.
func TestInlineBudgetFallsBackToQueue(t *testing.T) {
	const n = service.DefaultInlineSteps + 8
	s, tq, rq := inlineService(t, chain(n, "std.noop"))
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := tq.take()
	if len(msgs) != 1 || execState(t, s, e.ID).State != engine.Running {
		t.Fatalf("%d task messages after the start; want 1 (the step past the budget)", len(msgs))
	}
	if !strings.Contains(string(msgs[0]), fmt.Sprintf(`"t%d"`, service.DefaultInlineSteps+1)) {
		t.Fatalf("queued %s; want task t%d", msgs[0], service.DefaultInlineSteps+1)
	}
	if err := s.RunTask(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	res := rq.take()
	if len(res) != 1 {
		t.Fatalf("%d results; want 1", len(res))
	}
	if err := s.HandleMessage(ctx, res[0]); err != nil {
		t.Fatal(err)
	}
	if e = execState(t, s, e.ID); e.State != engine.Success || len(tq.take()) != 0 {
		t.Fatalf("state %s; want SUCCESS with the rest of the chain inline", e.State)
	}
}

// std.fail inline is an ordinary error result: the retry policy runs it
// again, and on-error handles the task's failure.
func TestInlineFailHonoursRetry(t *testing.T) {
	s, tq, rq := inlineService(t, `version: '2.0'
wf:
  tasks:
    f:
      action: std.fail error_data=boom
      retry:
        count: 2
        delay: 0
      on-error: handled
    handled:
      action: std.echo output=<% task(f).state_info %>
      publish:
        why: <% task().result %>
`)
	e, _, err := s.Start(context.Background(), service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	e = execState(t, s, e.ID)
	f, err := s.Store.Task(context.Background(), e.ID, "f")
	if err != nil || f == nil {
		t.Fatal(err)
	}
	if e.State != engine.Success || f.State != engine.Error || f.Attempt != 3 {
		t.Fatalf("execution %s %q, f %s after %d attempts; want SUCCESS, f ERROR after 3", e.State, e.StateInfo, f.State, f.Attempt)
	}
	h, _ := s.Store.Task(context.Background(), e.ID, "handled")
	if h == nil || !strings.Contains(fmt.Sprint(h.Published.Value("why")), "boom") {
		t.Fatalf("handled published %v; want f's error", h)
	}
	if n, m := len(tq.take()), len(rq.take()); n != 0 || m != 0 {
		t.Fatalf("%d task and %d result messages; want none", n, m)
	}
}

// A replaced std.noop is not trivial any more: it goes to the runners.
func TestReplacedBuiltinNotInline(t *testing.T) {
	s, tq, _ := inlineService(t, chain(2, "std.noop"))
	s.Actions.Register("std.noop", func(ctx context.Context, in map[string]any) (any, error) { return "mine", nil })
	if _, _, err := s.Start(context.Background(), service.StartRequest{Workflow: "wf"}); err != nil {
		t.Fatal(err)
	}
	if n := len(tq.take()); n != 1 {
		t.Fatalf("%d task messages; want the replaced action sent to a runner", n)
	}
}

// batchBox is a queue that records each batch it is asked to send.
type batchBox struct {
	box
	mu      sync.Mutex
	batches []int
}

func (b *batchBox) SendBatch(ctx context.Context, bodies [][]byte) error {
	b.mu.Lock()
	b.batches = append(b.batches, len(bodies))
	b.mu.Unlock()
	for _, body := range bodies {
		if err := b.Send(ctx, body, 0); err != nil {
			return err
		}
	}
	return nil
}

// The actions one step sends go to a batching queue in one batch.
func TestActionsSentInOneBatch(t *testing.T) {
	var src strings.Builder
	src.WriteString("version: '2.0'\nwf:\n  tasks:\n")
	for i := range 5 {
		fmt.Fprintf(&src, "    w%d:\n      action: test.work\n", i)
	}
	s := service.New(kvstore.NewMemory(), actions.New(), nil)
	s.Actions.Register("test.work", func(ctx context.Context, in map[string]any) (any, error) { return 1, nil })
	tq := &batchBox{}
	s.Tasks, s.Results = tq, &box{}
	if _, err := s.Register(context.Background(), "wf.yaml", []byte(src.String())); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(context.Background(), service.StartRequest{Workflow: "wf"}); err != nil {
		t.Fatal(err)
	}
	if len(tq.batches) != 1 || tq.batches[0] != 5 || len(tq.take()) != 5 {
		t.Fatalf("batches %v; want the 5 actions in one", tq.batches)
	}
}

// startRunnerApplies starts a chain of n runner actions on a service whose
// runners apply their own results.
func startRunnerApplies(t *testing.T, n int) (*service.Service, *box, *box, *engine.Execution) {
	t.Helper()
	s, tq, rq := inlineService(t, chain(n, "test.work"))
	s.Actions.Register("test.work", func(ctx context.Context, in map[string]any) (any, error) { return 1, nil })
	s.RunnerApplies = true
	e, _, err := s.Start(context.Background(), service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	return s, tq, rq, e
}

// With RunnerApplies, a runner applies its own result: nothing goes to the
// result queue, and the next action goes straight to the task queue.
func TestRunnerAppliesOwnResult(t *testing.T) {
	ctx := context.Background()
	s, tq, rq, e := startRunnerApplies(t, 3)
	for range 3 {
		msgs := tq.take()
		if len(msgs) != 1 {
			t.Fatalf("%d task messages; want 1", len(msgs))
		}
		if err := s.RunTask(ctx, msgs[0]); err != nil {
			t.Fatal(err)
		}
		if n := len(rq.take()); n != 0 {
			t.Fatalf("%d result messages; want none", n)
		}
	}
	if e = execState(t, s, e.ID); e.State != engine.Success {
		t.Fatalf("state %s; want SUCCESS", e.State)
	}
}

// failingCommits fails every commit with err (a throttled table, a
// conflicting writer) and counts them.
type failingCommits struct {
	store.Store
	err     error
	commits int
}

func (f *failingCommits) Commit(context.Context, []engine.Op) error { f.commits++; return f.err }

// A runner that cannot apply its result (throttling, a conflict) sends it
// to the result queue, after at most one recompute, instead of losing it or
// holding the runner in the engine's long conflict loop.
func TestRunnerAppliesFallsBackToResultQueue(t *testing.T) {
	for _, cause := range []error{store.ErrUnavailable, store.ErrConflict} {
		t.Run(cause.Error(), func(t *testing.T) { runnerAppliesFallsBack(t, cause) })
	}
}

func runnerAppliesFallsBack(t *testing.T, cause error) {
	ctx := context.Background()
	s, tq, rq, e := startRunnerApplies(t, 2)
	msgs := tq.take()
	good := s.Store
	failing := &failingCommits{Store: good, err: cause}
	s.Store = failing
	if err := s.RunTask(ctx, msgs[0]); err != nil {
		t.Fatalf("runtask: %v; want the result handed to the result queue", err)
	}
	s.Store = good
	if failing.commits > 2 {
		t.Fatalf("%d commits tried; want at most one recompute before the fallback", failing.commits)
	}
	res := rq.take()
	if len(res) != 1 {
		t.Fatalf("%d result messages; want the result that could not be applied", len(res))
	}
	if err := s.HandleMessage(ctx, res[0]); err != nil {
		t.Fatal(err)
	}
	if msgs = tq.take(); len(msgs) != 1 {
		t.Fatalf("%d task messages after the engine applied the result; want t2's", len(msgs))
	}
	if err := s.RunTask(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	if e = execState(t, s, e.ID); e.State != engine.Success || len(rq.take()) != 0 {
		t.Fatalf("state %s; want SUCCESS with t2's result applied by its runner", e.State)
	}
}

// Steps carried out under one WithInlineBudget context share its budget:
// a Lambda invocation's batch of messages runs at most InlineSteps inline.
func TestInlineBudgetSharedByInvocation(t *testing.T) {
	s, tq, _ := inlineService(t, chain(3, "std.noop"))
	s.InlineSteps = 4
	ctx := s.WithInlineBudget(context.Background())
	first, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	if st := execState(t, s, first.ID).State; st != engine.Success {
		t.Fatalf("first execution %s; want SUCCESS within the budget", st)
	}
	if st, n := execState(t, s, second.ID).State, len(tq.take()); st != engine.Running || n != 1 {
		t.Fatalf("second execution %s with %d queued actions; want RUNNING with its second task queued", st, n)
	}
}
