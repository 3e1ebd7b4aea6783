package embedded_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// fail-on, the noop command, publish-on-complete and a callee named by an
// expression, together.
func TestFailOnNoopPublishOnCompleteDynamicAction(t *testing.T) {
	h, e := run(t, `
version: '2.0'
wf:
  input:
    - which: std.echo
  output:
    seen: <% $.seen %>
    done: <% $.done %>
  tasks:
    pick:
      action: <% $.which %>
      input:
        output: 7
      fail-on: <% task().result > 5 %>
      on-error:
        - noop
      on-complete:
        publish:
          seen: <% task().result %>
        next: last
    last:
      action: std.noop
      publish:
        done: true
`, "wf", nil)
	if e.State != engine.Success {
		t.Fatalf("state %s %q", e.State, e.StateInfo)
	}
	out, _ := value.AsGoMap(e.Output)
	if out["done"] != true {
		t.Fatalf("output %v", e.Output)
	}
	pick, err := h.Store.Task(context.Background(), e.ID, "pick")
	if err != nil || pick == nil {
		t.Fatal(err)
	}
	// fail-on turned the successful echo of 7 into an error the noop handled;
	// publish-on-complete still published.
	if pick.State != engine.Error || !strings.Contains(pick.StateInfo, "fail-on") {
		t.Fatalf("pick: %s %q", pick.State, pick.StateInfo)
	}
	if !pick.Published.Has("seen") {
		t.Fatalf("publish-on-complete did not publish: %v", pick.Published)
	}
}

// In a cycle, task(name) is the latest run of that task, as in Mistral.
func TestTaskFunctionInCycle(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  vars:
    n: 0
  output:
    seen: <% $.seen %>
  tasks:
    begin:
      action: std.noop
      on-success: count
    count:
      action: std.echo output=<% $.n + 1 %>
      publish:
        n: <% task().result %>
      on-success: look
    look:
      action: std.echo output=<% task(count).result %>
      publish:
        seen: <% $.get(seen, []) + [task().result] %>
      on-success:
        - count: <% $.n < 3 %>
`, "wf", nil)
	if e.State != engine.Success {
		t.Fatalf("state %s %q", e.State, e.StateInfo)
	}
	seen, _ := e.Output.(*value.Map).Value("seen").([]any)
	if len(seen) != 3 || seen[0] != int64(1) || seen[2] != int64(3) {
		t.Fatalf("task(count) did not follow the cycle: %v", e.Output)
	}
}

// Cancelling a parent cancels its running sub-workflow, as in Mistral.
func TestCancelCascadesToSubWorkflow(t *testing.T) {
	reg := actions.New()
	reg.RegisterAsync("test.hold", func(ctx context.Context, in map[string]any, cb actions.Callback) error { return nil })
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg})
	h.CallbackKey = []byte(strings.Repeat("k", 32))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    hold:
      action: test.hold
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the child to be running.
	var childID string
	for childID == "" && ctx.Err() == nil {
		page, _ := h.Store.ListExecutions(ctx, store.ListParams{Workflow: "child"})
		if page != nil && len(page.Executions) == 1 {
			childID = page.Executions[0].ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	if childID == "" {
		t.Fatal("child never started")
	}
	if _, err := h.Cancel(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	child, err := h.Wait(ctx, childID, false)
	if err != nil || child.State != engine.Cancelled {
		t.Fatalf("child after the parent's cancel: %v %v", child, err)
	}
}

// A join reached again in a cycle runs again, as in Mistral: each round
// counts its own arrivals and merges its own branches' contexts.
func TestJoinInCycleRunsEachRound(t *testing.T) {
	h, e := run(t, `
version: '2.0'
wf:
  output:
    rounds: <% $.i %>
    seen: <% $.seen %>
    viaTask: <% $.viaTask %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0, seen: [], viaTask: []}
      on-success: [a, b]
    a:
      action: std.echo output=<% $.i %>
      publish: {fromA: <% task().result %>}
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
      publish:
        i: <% $.i + 1 %>
        seen: <% $.seen + [$.fromA] %>
        viaTask: <% $.viaTask + [task(a).result] %>
      on-success:
        - a: <% $.i < 3 %>
        - b: <% $.i < 3 %>
`, "wf", nil)
	if e.State != engine.Success {
		t.Fatalf("state %s %q", e.State, e.StateInfo)
	}
	out, _ := value.AsGoMap(e.Output)
	if out["rounds"] != int64(3) || fmt.Sprint(out["seen"]) != "[0 1 2]" || fmt.Sprint(out["viaTask"]) != "[0 1 2]" {
		t.Fatalf("output %v, want 3 rounds seeing a's result of each, also through task(a)", out)
	}
	tasks, err := h.Store.Tasks(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	for _, tk := range tasks {
		if tk.State != engine.Success {
			t.Errorf("task %s (%s) ended %s %q", tk.Name, tk.Key, tk.State, tk.StateInfo)
		}
		runs[tk.Name]++
	}
	if runs["j"] != 3 || runs["a"] != 3 || runs["b"] != 3 {
		t.Fatalf("runs %v, want a, b and j three times each", runs)
	}
}

// A task that loops on itself and reaches a join on every round would be
// counted as several branches (Mistral counts each inbound task once): the
// execution fails and says why rather than fire the join early.
func TestJoinArrivalTwiceFromCycleFailsClearly(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  tasks:
    init:
      action: std.noop
      publish: {k: 0}
      on-success: [a, slow]
    a:
      action: std.noop
      publish: {k: <% $.k + 1 %>}
      on-success:
        - j
        - a: <% $.k < 2 %>
    slow:
      action: std.sleep seconds=0.3
      on-success: [b]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
`, "wf", nil)
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "reached join task j a second time") {
		t.Fatalf("state %s %q, want ERROR naming the second arrival", e.State, e.StateInfo)
	}
}

// A cycle that reaches a join once, from its last round, is fine: the check
// above must not refuse it.
func TestJoinAfterCycleRuns(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  output:
    k: <% $.k %>
  tasks:
    init:
      action: std.noop
      publish: {k: 0}
      on-success: [a, b]
    a:
      action: std.noop
      publish: {k: <% $.k + 1 %>}
      on-success:
        - a: <% $.k < 3 %>
        - j: <% $.k >= 3 %>
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
`, "wf", nil)
	if e.State != engine.Success || e.Output.(*value.Map).Value("k") != int64(3) {
		t.Fatalf("state %s %q output %v, want SUCCESS with k 3", e.State, e.StateInfo, e.Output)
	}
}

// taskReads counts the task records a host reads.
type taskReads struct {
	store.Store
	n atomic.Int64
}

func (s *taskReads) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	s.n.Add(1)
	return s.Store.Task(ctx, exec, key)
}

// A join in a loop of many rounds: every round runs, and finding the open
// round costs the same at round 40 as at round 10 (an arrival starts after
// the round its branch came through instead of walking from the first).
func TestJoinRoundsReadsStayFlat(t *testing.T) {
	src := `
version: '2.0'
wf:
  input: [n]
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a, b]
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - a: <% $.i < $.n %>
        - b: <% $.i < $.n %>
`
	perRound := map[int]float64{}
	for _, n := range []int{10, 40} {
		st := &taskReads{Store: kvstore.NewMemory()}
		h := embedded.New(embedded.Options{Store: st})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		h.Run(ctx)
		if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
			t.Fatal(err)
		}
		e, _, err := h.Start(ctx, serviceStart("wf", map[string]any{"n": n}))
		if err != nil {
			t.Fatal(err)
		}
		if e, err = h.Wait(ctx, e.ID, false); err != nil {
			t.Fatal(err)
		}
		h.Close()
		cancel()
		if e.State != engine.Success || e.Output.(*value.Map).Value("rounds") != int64(n) {
			t.Fatalf("%d rounds: %s %q output %v", n, e.State, e.StateInfo, e.Output)
		}
		perRound[n] = float64(st.n.Load()) / float64(n)
	}
	if perRound[40] > 1.5*perRound[10] {
		t.Fatalf("task reads per round grow with the rounds: %.1f at 10 rounds, %.1f at 40", perRound[10], perRound[40])
	}
}

// Partial joins in a cycle: a late arrival of a round is counted in that
// round and ignored, as in round 1, rather than opening a round of its own.
func TestPartialJoinInCycleRounds(t *testing.T) {
	for _, c := range []struct{ join, slow string }{{"1", "b"}, {"2", "c"}} {
		t.Run("join "+c.join, func(t *testing.T) {
			h, e := run(t, `
version: '2.0'
wf:
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a, b, c]
    a:
      action: std.echo output=<% $.i %>
      on-success: [j]
    b:
      action: `+map[bool]string{true: "std.sleep seconds=0.05", false: "std.noop"}[c.slow == "b"]+`
      on-success: [j]
    c:
      action: `+map[bool]string{true: "std.sleep seconds=0.05", false: "std.noop"}[c.slow == "c"]+`
      on-success: [j]
    j:
      join: `+c.join+`
      action: std.noop
      publish:
        i: <% $.i + 1 %>
      on-success:
        - a: <% $.i < 3 %>
        - b: <% $.i < 3 %>
        - c: <% $.i < 3 %>
`, "wf", nil)
			if e.State != engine.Success {
				t.Fatalf("state %s %q", e.State, e.StateInfo)
			}
			out, _ := value.AsGoMap(e.Output)
			if out["rounds"] != int64(3) {
				t.Fatalf("output %v, want 3 rounds", out)
			}
			tasks, err := h.Store.Tasks(context.Background(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			runs := map[string]int{}
			for _, tk := range tasks {
				if tk.State == engine.Success {
					runs[tk.Name]++
				}
			}
			if runs["j"] != 3 {
				t.Fatalf("j ran %d times, want 3 (runs %v)", runs["j"], runs)
			}
		})
	}
}

// Branches that came through different rounds of a join meet at another
// join before they loop back: the merged context may name an older round,
// and the next arrivals must still go to the round that has not run.
func TestJoinRoundsAcrossAnotherJoin(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a, b]
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - a: <% $.i = 1 %>
        - b: <% $.i = 1 %>
        - y: <% $.i = 1 %>
        - x: <% $.i = 2 %>
    x:
      action: std.noop
      on-success: [m]
    y:
      action: std.noop
      on-success: [m]
    m:
      join: all
      action: std.noop
      on-success:
        - a: <% $.i < 3 %>
        - b: <% $.i < 3 %>
`, "wf", nil)
	if e.State != engine.Success || e.Output.(*value.Map).Value("rounds") != int64(3) {
		t.Fatalf("state %s %q output %v, want SUCCESS after 3 rounds of j", e.State, e.StateInfo, e.Output)
	}
}

// A task's first run can come back to a join it went through (x is reached
// from j): it arrives at the next round, which runs.
func TestJoinRoundFromFirstRun(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a]
    a:
      action: std.noop
      on-success: [j]
    j:
      join: 1
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - x: <% $.i < 3 %>
    x:
      action: std.noop
      on-success: [j]
`, "wf", nil)
	if e.State != engine.Success || e.Output.(*value.Map).Value("rounds") != int64(3) {
		t.Fatalf("state %s %q output %v, want SUCCESS after 3 rounds of j", e.State, e.StateInfo, e.Output)
	}
}

// A partial join whose branches meet again at another join before they
// loop back: the merged context keeps the latest round the branches came
// through (not whichever branch sorts last), so the loop's next arrival
// opens the next round instead of being taken for a late one.
func TestPartialJoinRoundsAcrossAnotherJoin(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a]
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: 1
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - y: <% $.i = 1 %>
        - b: <% $.i = 1 %>
        - x: <% $.i = 2 %>
    x:
      action: std.noop
      on-success: [m]
    y:
      action: std.noop
      on-success: [m]
    m:
      join: all
      action: std.noop
      on-success:
        - a: <% $.i < 3 %>
`, "wf", nil)
	if e.State != engine.Success || e.Output.(*value.Map).Value("rounds") != int64(3) {
		t.Fatalf("state %s %q output %v, want SUCCESS after 3 rounds of j", e.State, e.StateInfo, e.Output)
	}
}

// Each round of a join counts the arrivals made in it: an inbound task
// outside the cycle, which runs once, does not arrive again, and the second
// round fails as a join that can never be satisfied (Mistral would reuse
// that task's one run; README says so).
func TestJoinRoundWithInboundOutsideCycle(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a, s]
    s:
      action: std.noop
      on-success: [j]
    a:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - a: <% $.i < 3 %>
`, "wf", nil)
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "can never be satisfied") {
		t.Fatalf("state %s %q, want ERROR: the second round can never be satisfied", e.State, e.StateInfo)
	}
}

// Tasks listed before a fail/succeed command are started with it and run to
// the end after the execution ended, as in Mistral (its dispatcher runs the
// task commands before the first state command): on-error: [notify, fail]
// notifies. The action here is slow and only finishes once the execution
// has ended, so it cannot have run before. Tasks after the command never
// start; a with-items task before it is cancelled with the execution (a
// documented limit: only plain action tasks outlive it).
func TestTasksBeforeEndingCommandRun(t *testing.T) {
	reg := actions.New()
	var h *embedded.Host
	var execID atomic.Value
	reg.Register("test.notify", func(ctx context.Context, in map[string]any) (any, error) {
		// Finish only after the execution ended: proves it ran past the end.
		for ctx.Err() == nil {
			if id, _ := execID.Load().(string); id != "" {
				if e, err := h.Store.Execution(ctx, id); err == nil && e != nil && e.State.Terminal() {
					return map[string]any{"sent": in["msg"], "after_end": string(e.State)}, nil
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil, fmt.Errorf("the execution never ended while notify ran")
	})
	h = embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
wf:
  tasks:
    work:
      action: std.fail
      on-error:
        - notify
        - many
        - fail
        - never
    notify:
      action: test.notify msg="work failed"
      publish:
        sent: <% task().result.sent %>
    many:
      with-items: x in [1, 2]
      action: std.noop
    never:
      action: std.noop
ok:
  tasks:
    work:
      action: std.noop
      on-success:
        - notify
        - succeed
    notify:
      action: test.notify msg="done"
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		wf    string
		state engine.State
		msg   string
	}{{"wf", engine.Error, "work failed"}, {"ok", engine.Success, "done"}} {
		// notify may start before Start returns (its predecessor runs
		// inline): it must not look at the previous case's execution.
		execID.Store("")
		e, _, err := h.Start(ctx, service.StartRequest{Workflow: c.wf})
		if err != nil {
			t.Fatal(err)
		}
		execID.Store(e.ID)
		if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != c.state {
			t.Fatalf("%s: %v %v, want %s", c.wf, e, err, c.state)
		}
		if err := h.Settle(ctx, e.ID); err != nil {
			t.Fatalf("%s: settle: %v", c.wf, err)
		}
		n, err := h.Store.Task(ctx, e.ID, "notify")
		if err != nil || n == nil {
			t.Fatalf("%s: notify: %v %v", c.wf, n, err)
		}
		res, _ := value.AsGoMap(n.Result)
		if n.State != engine.Success || res["sent"] != c.msg || res["after_end"] != string(c.state) {
			t.Fatalf("%s: notify %s %q result %v; want SUCCESS after the end, sent %q", c.wf, n.State, n.StateInfo, n.Result, c.msg)
		}
		if c.wf != "wf" {
			continue
		}
		if m, _ := h.Store.Task(ctx, e.ID, "many"); m == nil || m.State != engine.Cancelled {
			t.Fatalf("with-items task before fail: %+v, want CANCELLED", m)
		}
		if nv, _ := h.Store.Task(ctx, e.ID, "never"); nv != nil {
			t.Fatalf("task after the fail command started: %+v", nv)
		}
		if got, _ := h.Store.Execution(ctx, e.ID); got.State != engine.Error || !strings.Contains(got.StateInfo, "failed by task work") {
			t.Fatalf("execution after notify: %s %q", got.State, got.StateInfo)
		}
		// The result that ended the execution, delivered again (the step
		// may have died before sending): notify's action is sent again, and
		// its claim keeps it from running twice.
		p, err := h.Engine.TaskComplete(ctx, h.Store, engine.Result{Exec: e.ID, Task: "work", Slot: -1, Attempt: 1, Error: "again"})
		if err != nil || !p.Duplicate {
			t.Fatalf("redelivered result: %+v %v", p, err)
		}
		var again int
		for _, c := range p.Commands {
			if c.Kind == engine.RunAction && c.Task == "notify" && c.PastEnd {
				again++
			}
		}
		if again != 1 {
			t.Fatalf("redelivered result's commands %+v: want notify's action again", p.Commands)
		}
	}
}

// A pause spreads through sub-workflows as in Mistral (its
// test_subworkflows_pause_resume.py): pausing the parent pauses its running
// sub-workflows and resuming it resumes them (cascade down); pausing a
// sub-workflow pauses the parent and, through it, the other sub-workflows,
// and the parent resumes once none of them is paused (cascade up); a
// pause-before inside a sub-workflow pauses the parent too.
func TestPauseResumeSpreadsThroughSubWorkflows(t *testing.T) {
	const src = `version: '2.0'
name: wb
workflows:
  wf1:
    tasks:
      task1:
        workflow: wf2
        on-success: task3
      task2:
        workflow: wf3
        on-success: task3
      task3:
        join: all
  wf2:
    tasks:
      task1:
        action: std.noop
        on-success: task2
      task2:
        action: test.gate
  wf3:
    tasks:
      task1:
        action: test.gate
        on-success: task2
      task2:
        action: std.noop
  pb1:
    tasks:
      task1:
        workflow: pb2
  pb2:
    tasks:
      task1:
        pause-before: true
        action: std.noop
`
	setup := func(t *testing.T) (*embedded.Host, context.Context, chan struct{}) {
		gate := make(chan struct{})
		reg := actions.New()
		reg.Register("test.gate", func(ctx context.Context, in map[string]any) (any, error) {
			select {
			case <-gate:
				return "open", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		})
		h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		h.Run(ctx)
		t.Cleanup(h.Close)
		t.Cleanup(func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		})
		if _, err := h.Register(ctx, "wb.yaml", []byte(src)); err != nil {
			t.Fatal(err)
		}
		return h, ctx, gate
	}
	// children returns parent's sub-workflow executions by workflow name.
	children := func(t *testing.T, h *embedded.Host, ctx context.Context, parent string, n int) map[string]string {
		t.Helper()
		for ctx.Err() == nil {
			page, err := h.Store.ListExecutions(ctx, store.ListParams{})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, e := range page.Executions {
				if e.Parent == parent && e.State == engine.Running || e.Parent == parent && e.State == engine.Paused {
					out[strings.TrimPrefix(e.Workflow, "wb.")] = e.ID
				}
			}
			if len(out) == n {
				return out
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%d sub-workflows of %s never ran", n, parent)
		return nil
	}
	want := func(t *testing.T, h *embedded.Host, ctx context.Context, st engine.State, ids ...string) {
		t.Helper()
		for _, id := range ids {
			var e *engine.Execution
			for ctx.Err() == nil {
				e, _ = h.Store.Execution(ctx, id)
				if e != nil && e.State == st {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if e == nil || e.State != st {
				t.Fatalf("execution %s: %+v, want %s", id, e, st)
			}
		}
	}
	start := func(t *testing.T, h *embedded.Host, ctx context.Context, wf string) string {
		e, _, err := h.Start(ctx, service.StartRequest{Workflow: wf})
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}

	t.Run("CascadeDown", func(t *testing.T) {
		h, ctx, gate := setup(t)
		wf1 := start(t, h, ctx, "wb.wf1")
		kids := children(t, h, ctx, wf1, 2)
		if _, err := h.Pause(ctx, wf1); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Paused, wf1, kids["wf2"], kids["wf3"])
		if _, err := h.Resume(ctx, wf1); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Running, wf1, kids["wf2"], kids["wf3"])
		close(gate)
		want(t, h, ctx, engine.Success, kids["wf2"], kids["wf3"], wf1)
	})
	t.Run("CascadeUp", func(t *testing.T) {
		h, ctx, gate := setup(t)
		wf1 := start(t, h, ctx, "wb.wf1")
		kids := children(t, h, ctx, wf1, 2)
		if _, err := h.Pause(ctx, kids["wf2"]); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Paused, kids["wf2"], wf1, kids["wf3"])
		if _, err := h.Resume(ctx, kids["wf2"]); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Running, kids["wf2"])
		// wf3 is still paused, so wf1 stays paused: something that must not
		// happen, given a window to happen in.
		time.Sleep(100 * time.Millisecond)
		want(t, h, ctx, engine.Paused, wf1, kids["wf3"])
		if _, err := h.Resume(ctx, kids["wf3"]); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Running, kids["wf3"], wf1)
		close(gate)
		want(t, h, ctx, engine.Success, kids["wf2"], kids["wf3"], wf1)
	})
	t.Run("PauseBefore", func(t *testing.T) {
		h, ctx, _ := setup(t)
		pb1 := start(t, h, ctx, "wb.pb1")
		want(t, h, ctx, engine.Paused, pb1)
		kids := children(t, h, ctx, pb1, 1)
		want(t, h, ctx, engine.Paused, kids["pb2"])
		if _, err := h.Resume(ctx, kids["pb2"]); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Success, kids["pb2"], pb1)
	})
	t.Run("ParentPausedByRequestStays", func(t *testing.T) {
		h, ctx, gate := setup(t)
		wf1 := start(t, h, ctx, "wb.wf1")
		kids := children(t, h, ctx, wf1, 2)
		if _, err := h.Pause(ctx, wf1); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Paused, wf1, kids["wf2"], kids["wf3"])
		// Resuming the sub-workflows does not undo the parent's own pause.
		for _, k := range []string{"wf2", "wf3"} {
			if _, err := h.Resume(ctx, kids[k]); err != nil {
				t.Fatal(err)
			}
		}
		close(gate)
		want(t, h, ctx, engine.Success, kids["wf2"], kids["wf3"])
		want(t, h, ctx, engine.Paused, wf1)
		if _, err := h.Resume(ctx, wf1); err != nil {
			t.Fatal(err)
		}
		want(t, h, ctx, engine.Success, wf1)
	})
}

// global(name) reads the execution's global context as Mistral's does:
// what a task published with publish: global:, the vars, the input; from
// YAQL and Jinja. uuid() gives a fresh UUID in both languages.
func TestGlobalAndUUIDFunctions(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  input:
    - who: Ann
  vars:
    greeting: Hello
  output:
    from_task: <% $.seen %>
    jinja: '{{ global("shared") }}'
    var: <% global(greeting) %>
    input: <% global(who) %>
    missing: <% global(nope) %>
    ids: <% [$.id1, $.id2] %>
  tasks:
    share:
      action: std.noop
      on-success:
        publish:
          branch:
            id1: <% uuid() %>
            id2: '{{ uuid() }}'
          global:
            shared: 42
        next: read
    read:
      action: std.noop
      publish:
        seen: <% global(shared) %>
`, "wf", nil)
	if e.State != engine.Success {
		t.Fatalf("state %s %q", e.State, e.StateInfo)
	}
	out, _ := value.AsGoMap(e.Output)
	if out["from_task"] != int64(42) || out["jinja"] != int64(42) || out["var"] != "Hello" || out["input"] != "Ann" || out["missing"] != nil {
		t.Fatalf("output %v", out)
	}
	ids := out["ids"].([]any)
	if len(fmt.Sprint(ids[0])) != 36 || len(fmt.Sprint(ids[1])) != 36 || ids[0] == ids[1] {
		t.Fatalf("uuids %v", ids)
	}
}
