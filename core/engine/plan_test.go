package engine_test

// Tests of the plans the engine returns for Start, TaskComplete, Fire,
// Pause, Resume and Cancel: the commands and records a host relies on. A
// planHost commits each plan into the kvstore memory store and carries out
// the engine's own follow-ups (join and with-items checks, finalisation)
// only when a test asks it to.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

const planExec = "ex-1"

type planHost struct {
	t   *testing.T
	ctx context.Context
	e   *engine.Engine
	st  *kvstore.Store
}

func newPlanHost(t *testing.T, src string) *planHost {
	t.Helper()
	doc, err := dsl.Load("plan.yaml", []byte(src))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return &planHost{t: t, ctx: context.Background(), e: &engine.Engine{Defs: oneDoc{doc}}, st: kvstore.NewMemory()}
}

// do computes one step and commits its ops.
func (h *planHost) do(what string, fn func() (*engine.Plan, error)) *engine.Plan {
	h.t.Helper()
	p, err := fn()
	if err != nil {
		h.t.Fatalf("%s: %v", what, err)
	}
	oneWritePerRecord(h.t, what, p.Ops)
	if len(p.Ops) > 0 {
		if err := h.st.Commit(h.ctx, p.Ops); err != nil {
			h.t.Fatalf("%s: commit: %v", what, err)
		}
	}
	return p
}

// follow carries out the engine's follow-ups of p (join and with-items
// checks, finalisation) and returns every other command p and they gave.
func (h *planHost) follow(p *engine.Plan) []engine.Command {
	h.t.Helper()
	var out []engine.Command
	for _, c := range p.Commands {
		switch c.Kind {
		case engine.CheckJoin:
			out = append(out, h.follow(h.do("check join", func() (*engine.Plan, error) {
				return h.e.CheckJoin(h.ctx, h.st, c.Exec, c.Task, c.From, c.Need)
			}))...)
		case engine.CheckItems:
			out = append(out, h.follow(h.do("check items", func() (*engine.Plan, error) {
				return h.e.CheckItems(h.ctx, h.st, c.Exec, c.Task)
			}))...)
		default:
			out = append(out, c)
		}
	}
	if p.CheckFinal {
		if hd := h.head(); hd.State == engine.Running && hd.Active == 0 {
			out = append(out, h.follow(h.do("finalize", func() (*engine.Plan, error) {
				return h.e.Finalize(h.ctx, h.st, planExec)
			}))...)
		}
	}
	return out
}

func (h *planHost) start(wf string, input map[string]any) *engine.Plan {
	h.t.Helper()
	return h.do("start", func() (*engine.Plan, error) {
		return h.e.Start(h.ctx, h.st, engine.StartParams{ID: planExec, DefID: "plan", Workflow: wf, Input: value.MapOf(input)})
	})
}

// result delivers the outcome of the attempt c asked for.
func (h *planHost) result(c engine.Command, ok bool, output any, errMsg string) *engine.Plan {
	h.t.Helper()
	return h.do("task complete "+c.Task, func() (*engine.Plan, error) {
		return h.e.TaskComplete(h.ctx, h.st, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: ok, Output: output, Error: errMsg})
	})
}

func (h *planHost) fire(c engine.Command) *engine.Plan {
	h.t.Helper()
	return h.do("fire "+string(c.Timer), func() (*engine.Plan, error) {
		return h.e.Fire(h.ctx, h.st, engine.Timer{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, Kind: c.Timer, Due: c.Due})
	})
}

func (h *planHost) head() *engine.Execution {
	h.t.Helper()
	hd, err := h.st.Execution(h.ctx, planExec)
	if err != nil || hd == nil {
		h.t.Fatalf("head: %v %v", hd, err)
	}
	return hd
}

func (h *planHost) task(key string) *engine.Task {
	h.t.Helper()
	rec, err := h.st.Task(h.ctx, planExec, key)
	if err != nil {
		h.t.Fatalf("task %s: %v", key, err)
	}
	return rec
}

// runs is the run-action commands among cmds, by task key.
func runs(cmds []engine.Command) map[string]engine.Command {
	out := map[string]engine.Command{}
	for _, c := range cmds {
		if c.Kind == engine.RunAction {
			out[c.Task+slotSuffix(c.Slot)] = c
		}
	}
	return out
}

func slotSuffix(i int) string {
	if i < 0 {
		return ""
	}
	return "/" + string(rune('0'+i))
}

func only(t *testing.T, cmds []engine.Command, kind engine.CommandKind) engine.Command {
	t.Helper()
	var found []engine.Command
	for _, c := range cmds {
		if c.Kind == kind {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s command, got %d in %s", kind, len(found), js(cmds))
	}
	return found[0]
}

func keys(m map[string]engine.Command) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

const routingSrc = `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [ok]
      on-error: [handle]
      on-complete: [always]
    ok:
      action: std.noop
    handle:
      action: std.noop
    always:
      action: std.noop
`

// A task's outcome picks its successors: on success on-success then
// on-complete (on-error's are never created); on error on-error then
// on-complete, and the error counts as handled, so the workflow succeeds.
func TestRoutingByOutcome(t *testing.T) {
	cases := []struct {
		name         string
		ok           bool
		output       any
		errMsg       string
		wantRuns     string
		wantState    engine.State
		wantResult   any
		wantInfo     string
		neverCreated string
	}{
		{name: "success", ok: true, output: "fine", wantRuns: "always,ok", wantState: engine.Success, wantResult: "fine", neverCreated: "handle"},
		{name: "error", errMsg: "boom", wantRuns: "always,handle", wantState: engine.Error, wantResult: "boom", wantInfo: "boom", neverCreated: "ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newPlanHost(t, routingSrc)
			a := only(t, h.start("wf", nil).Commands, engine.RunAction)
			p := h.result(a, c.ok, c.output, c.errMsg)
			if got := keys(runs(p.Commands)); got != c.wantRuns {
				t.Fatalf("runs: %s, want %s", got, c.wantRuns)
			}
			if rec := h.task("a"); rec.State != c.wantState || rec.Result != c.wantResult || rec.StateInfo != c.wantInfo {
				t.Fatalf("a: %s %v %q", rec.State, rec.Result, rec.StateInfo)
			}
			for _, s := range runs(p.Commands) {
				h.follow(h.result(s, true, nil, ""))
			}
			if h.task(c.neverCreated) != nil {
				t.Fatalf("%s created after a %s", c.neverCreated, c.name)
			}
			if hd := h.head(); hd.State != engine.Success || hd.Errors != 0 {
				t.Fatalf("head: %s errors=%d", hd.State, hd.Errors)
			}
		})
	}
}

// An error no clause handles ends its branch and fails the workflow with
// Mistral's state_info.
func TestUnhandledErrorFailsWorkflow(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.noop
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	cmds := h.follow(h.result(a, false, nil, "boom"))
	if len(runs(cmds)) != 0 {
		t.Fatalf("successor started after an unhandled error: %s", js(cmds))
	}
	only(t, cmds, engine.Finished)
	hd := h.head()
	if hd.State != engine.Error || hd.StateInfo != "failure caused by error in task 'a': boom" {
		t.Fatalf("head: %s %q", hd.State, hd.StateInfo)
	}
}

// Transition conditions see the published context; only the transitions
// whose condition holds are taken.
func TestTransitionConditions(t *testing.T) {
	src := `version: '2.0'
wf:
  input: [x]
  tasks:
    a:
      action: std.noop
      on-complete:
        - big: <% $.x > 1 %>
        - small: <% $.x <= 1 %>
        - also: <% $.x > 0 %>
    big:
      action: std.noop
    small:
      action: std.noop
    also:
      action: std.noop
`
	for x, want := range map[int64]string{2: "also,big", 1: "also,small"} {
		h := newPlanHost(t, src)
		a := only(t, h.start("wf", map[string]any{"x": x}).Commands, engine.RunAction)
		if got := keys(runs(h.result(a, true, nil, "").Commands)); got != want {
			t.Errorf("x=%d: runs %s, want %s", x, got, want)
		}
	}
}

// A condition that cannot be evaluated fails the task, and the failure is
// unhandled (no transition was taken).
func TestBrokenConditionFailsTask(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        - b: <% $.missing.deeper > 1 %>
    b:
      action: std.noop
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(a, true, nil, "")
	if len(runs(p.Commands)) != 0 {
		t.Fatalf("runs: %s", js(p.Commands))
	}
	rec := h.task("a")
	if rec.State != engine.Error || !strings.HasPrefix(rec.StateInfo, "condition of transition b of task a") {
		t.Fatalf("a: %s %q", rec.State, rec.StateInfo)
	}
	if hd := h.head(); hd.Errors != 1 {
		t.Fatalf("errors counted: %d", hd.Errors)
	}
}

// publish writes into the branch context the successors start with and
// into the task's Published; global publishes go to the workflow's vars
// only, never into Published, as in Mistral 23.0.0 (test_dataflow
// test_get_published_global).
func TestPublishIntoContext(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        publish:
          branch:
            r: <% task().result.v %>
          global:
            g: <% task().result.v + 1 %>
        next: [b]
    b:
      action: std.echo output=<% $.r %>
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(a, true, map[string]any{"v": int64(41)}, "")
	b := only(t, p.Commands, engine.RunAction)
	if b.Input.Value("output") != int64(41) {
		t.Fatalf("b's input: %s", js(b.Input))
	}
	if rec := h.task("a"); rec.Published.Value("r") != int64(41) || rec.Published.Len() != 1 {
		t.Fatalf("a published %s", js(rec.Published))
	}
	if rec := h.task("b"); rec.Ctx.Value("r") != int64(41) {
		t.Fatalf("b's context %s", js(rec.Ctx))
	}
	if hd := h.head(); hd.Vars.Value("g") != int64(42) {
		t.Fatalf("vars %s", js(hd.Vars))
	}
}

// retry: count is the number of extra attempts, each after a retry timer
// of the policy's delay; the attempt after the last fails the task.
func TestRetryCountAndDelay(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      retry:
        count: 2
        delay: 5
`)
	c := only(t, h.start("wf", nil).Commands, engine.RunAction)
	for attempt := 1; attempt <= 3; attempt++ {
		if c.Attempt != attempt {
			t.Fatalf("run for attempt %d, want %d", c.Attempt, attempt)
		}
		p := h.result(c, false, nil, "boom")
		if attempt == 3 {
			if len(runs(p.Commands)) != 0 || len(p.Commands) != len(runs(p.Commands)) {
				t.Fatalf("attempt after the last retry: %s", js(p.Commands))
			}
			if rec := h.task("a"); rec.State != engine.Error {
				t.Fatalf("a after the retries: %s", rec.State)
			}
			return
		}
		tm := only(t, p.Commands, engine.StartTimer)
		if tm.Timer != engine.TimerRetry || tm.Delay != 5 || tm.Attempt != attempt+1 {
			t.Fatalf("retry timer: %s", js(tm))
		}
		rec := h.task("a")
		if rec.State != engine.RunningDelayed || rec.Pending != engine.PendingRetry {
			t.Fatalf("a waiting for its retry: %s %q", rec.State, rec.Pending)
		}
		if len(runs(p.Commands)) != 0 {
			t.Fatal("attempt run before its delay")
		}
		c = only(t, h.fire(tm).Commands, engine.RunAction)
	}
}

// A timer for a wait the task no longer has (a retry timer delivered twice)
// changes nothing.
func TestStaleTimerIsNoop(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      retry:
        count: 1
        delay: 1
`)
	c := only(t, h.start("wf", nil).Commands, engine.RunAction)
	tm := only(t, h.result(c, false, nil, "boom").Commands, engine.StartTimer)
	h.fire(tm)
	if p := h.fire(tm); len(p.Ops) != 0 || len(p.Commands) != 0 {
		t.Fatalf("second delivery of the retry timer: %d ops, %s", len(p.Ops), js(p.Commands))
	}
}

// wait-after holds the successors until its timer fires.
func TestWaitAfterHoldsSuccessors(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      wait-after: 3
      on-success: [b]
    b:
      action: std.noop
`)
	c := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(c, true, nil, "")
	tm := only(t, p.Commands, engine.StartTimer)
	if tm.Timer != engine.TimerWaitAfter || tm.Delay != 3 || len(runs(p.Commands)) != 0 {
		t.Fatalf("after a's result: %s", js(p.Commands))
	}
	if rec := h.task("a"); rec.State != engine.RunningDelayed || rec.Pending != engine.PendingWaitAfter {
		t.Fatalf("a: %s %q", rec.State, rec.Pending)
	}
	if got := keys(runs(h.fire(tm).Commands)); got != "b" {
		t.Fatalf("runs after wait-after: %s", got)
	}
	if rec := h.task("a"); rec.State != engine.Success || rec.Pending != engine.PendingNone {
		t.Fatalf("a after wait-after: %s %q", rec.State, rec.Pending)
	}
}

// A result delivered again, or for an attempt the task is not waiting on,
// writes nothing; the duplicate repeats the outbox of the step it repeats.
func TestDuplicateResultIsNoop(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.noop
`)
	c := only(t, h.start("wf", nil).Commands, engine.RunAction)
	first := h.result(c, true, nil, "")
	again := h.result(c, true, nil, "")
	if !again.Duplicate || len(again.Ops) != 0 {
		t.Fatalf("duplicate: duplicate=%v ops=%d", again.Duplicate, len(again.Ops))
	}
	if js(again.Commands) != js(first.Commands) {
		t.Fatalf("duplicate's commands %s, want the first step's %s", js(again.Commands), js(first.Commands))
	}
	b := only(t, first.Commands, engine.RunAction)
	stale := b
	stale.Attempt = 2
	if p := h.result(stale, false, nil, "late"); !p.Duplicate || len(p.Ops) != 0 {
		t.Fatalf("result for an attempt not running: duplicate=%v ops=%d", p.Duplicate, len(p.Ops))
	}
	if rec := h.task("b"); rec.State != engine.Running {
		t.Fatalf("b after a stale result: %s", rec.State)
	}
}

const joinSrc = `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      publish: {from_a: 1}
      on-success: [j]
    b:
      action: std.noop
      publish: {from_b: 2}
      on-success: [j]
    c:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
`

// A join fires exactly once, after its last branch arrived, whatever the
// order of arrival, with the branches' contexts merged.
func TestJoinFiresOnceInAnyOrder(t *testing.T) {
	for _, order := range [][]string{{"a", "b", "c"}, {"a", "c", "b"}, {"b", "a", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"c", "b", "a"}} {
		h := newPlanHost(t, joinSrc)
		started := runs(h.start("wf", nil).Commands)
		fired := 0
		for i, name := range order {
			cmds := h.follow(h.result(started[name], true, nil, ""))
			rs := runs(cmds)
			if _, ok := rs["j"]; ok {
				fired++
				if i != len(order)-1 {
					t.Fatalf("%v: join fired after %d arrivals", order, i+1)
				}
			}
			if i < len(order)-1 {
				if rec := h.task("j"); rec == nil || rec.State != engine.Waiting || rec.Pending != engine.PendingJoin || rec.Arrived != int64(i+1) {
					t.Fatalf("%v: join record after %d arrivals: %s", order, i+1, js(rec))
				}
				// A check without Need (an older outbox) counts the
				// arrivals itself.
				p := h.do("check join", func() (*engine.Plan, error) { return h.e.CheckJoin(h.ctx, h.st, planExec, "j", name, 0) })
				if len(p.Ops) != 0 || len(p.Commands) != 0 {
					t.Fatalf("%v: join fired by a check after %d arrivals: %s", order, i+1, js(p.Commands))
				}
			}
		}
		if fired != 1 {
			t.Fatalf("%v: join fired %d times", order, fired)
		}
		// A check delivered again for an arrival that did not fire it
		// changes nothing.
		for _, from := range order[:2] {
			p := h.do("check join again", func() (*engine.Plan, error) { return h.e.CheckJoin(h.ctx, h.st, planExec, "j", from, 3) })
			if len(p.Ops) != 0 || len(p.Commands) != 0 {
				t.Fatalf("%v: check from %s after firing: %d ops, %s", order, from, len(p.Ops), js(p.Commands))
			}
		}
		rec := h.task("j")
		if !rec.Fired || rec.Ctx.Value("from_a") != int64(1) || rec.Ctx.Value("from_b") != int64(2) {
			t.Fatalf("%v: fired join %s", order, js(rec))
		}
	}
}

// with-items runs at most concurrency items at a time, starts the next
// item as one finishes, and collects the results in item order.
func TestWithItemsConcurrency(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% [10, 20, 30, 40, 50] %>
      concurrency: 2
      action: std.echo output=<% $.x %>
`)
	running := runs(h.start("wf", nil).Commands)
	if got := keys(running); got != "t/0,t/1" {
		t.Fatalf("first window: %s", got)
	}
	done := 0
	for len(running) > 0 {
		if len(running) > 2 {
			t.Fatalf("%d items running at once: %s", len(running), keys(running))
		}
		// Finish the highest running item first, out of order.
		var last string
		for k := range running {
			if k > last {
				last = k
			}
		}
		c := running[last]
		delete(running, last)
		for k, n := range runs(h.follow(h.result(c, true, c.Input.Value("output"), ""))) {
			if _, dup := running[k]; dup {
				t.Fatalf("item %s started twice", k)
			}
			running[k] = n
		}
		done++
	}
	if done != 5 {
		t.Fatalf("%d items ran", done)
	}
	rec := h.task("t")
	if rec.State != engine.Success || js(rec.Result) != "[10,20,30,40,50]" {
		t.Fatalf("t: %s %s", rec.State, js(rec.Result))
	}
	if hd := h.head(); hd.State != engine.Success {
		t.Fatalf("head: %s", hd.State)
	}
}

// The fail and succeed engine commands end the workflow in that state
// with the task's outbound context, the message as state_info.
func TestEngineCommands(t *testing.T) {
	src := `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        - fail
      on-error:
        - succeed: <% true %>
        - never
    never:
      action: std.noop
`
	h := newPlanHost(t, src)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(a, true, nil, "")
	only(t, h.follow(p), engine.Finished)
	if hd := h.head(); hd.State != engine.Error || hd.StateInfo != "failed by task a (fail command)" {
		t.Fatalf("after fail: %s %q", hd.State, hd.StateInfo)
	}
	// Mistral 23.0.0: a fail without msg leaves the output's result null.
	if out, ok := h.head().Output.(*value.Map); !ok || out.Len() != 1 || out.Value("result") != nil {
		t.Fatalf("output after fail without msg: %s", js(h.head().Output))
	}

	h = newPlanHost(t, src)
	a = only(t, h.start("wf", nil).Commands, engine.RunAction)
	p = h.result(a, false, nil, "boom")
	if len(runs(p.Commands)) != 0 {
		t.Fatalf("a transition after succeed was taken: %s", js(p.Commands))
	}
	only(t, h.follow(p), engine.Finished)
	if hd := h.head(); hd.State != engine.Success || hd.Errors != 0 {
		t.Fatalf("after succeed: %s errors=%d", hd.State, hd.Errors)
	}
}

// A fail command's state_info: after an error without msg it names the
// error; a msg that is not a string is written as JSON, as Mistral 23.0.0
// writes fail(msg=<% task() %>).
func TestFailCommandMessage(t *testing.T) {
	cases := []struct {
		name, clause string
		ok           bool
		want         string
	}{
		{"after an error", "on-error:\n        - fail", false, "failed by task a: boom"},
		{"dict msg", "on-complete:\n        - fail(msg=<% dict(k => 1) %>)", true, `{"k":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      `+c.clause+"\n")
			a := only(t, h.start("wf", nil).Commands, engine.RunAction)
			h.follow(h.result(a, c.ok, nil, "boom"))
			if hd := h.head(); hd.State != engine.Error || hd.StateInfo != c.want {
				t.Fatalf("head: %s %q, want ERROR %q", hd.State, hd.StateInfo, c.want)
			}
		})
	}
}

// Pause holds delayed work: a wait-before timer arriving while paused does
// nothing, and Resume sends the timer again.
func TestPauseThenResume(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      wait-before: 2
`)
	tm := only(t, h.start("wf", nil).Commands, engine.StartTimer)
	if tm.Timer != engine.TimerWaitBefore || tm.Delay != 2 {
		t.Fatalf("wait-before timer: %s", js(tm))
	}
	h.do("pause", func() (*engine.Plan, error) { return h.e.Pause(h.ctx, h.st, planExec) })
	if hd := h.head(); hd.State != engine.Paused {
		t.Fatalf("after pause: %s", hd.State)
	}
	if p := h.fire(tm); len(p.Ops) != 0 || len(p.Commands) != 0 {
		t.Fatalf("timer while paused: %d ops, %s", len(p.Ops), js(p.Commands))
	}
	p := h.do("resume", func() (*engine.Plan, error) { return h.e.Resume(h.ctx, h.st, planExec) })
	if hd := h.head(); hd.State != engine.Running {
		t.Fatalf("after resume: %s", hd.State)
	}
	again := only(t, p.Commands, engine.StartTimer)
	if again.Timer != engine.TimerWaitBefore || again.Attempt != tm.Attempt || again.Task != "a" {
		t.Fatalf("timer sent again: %s", js(again))
	}
	run := only(t, h.fire(again).Commands, engine.RunAction)
	if run.Task != "a" || run.Attempt != 1 {
		t.Fatalf("run after resume: %s", js(run))
	}
}

// Cancel ends the execution as CANCELLED at once, writing its head alone;
// a task whose action no runner claimed is cancelled by the page of live
// tasks the cancel sends, and a late result starts nothing.
func TestCancel(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      action: std.noop
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.do("cancel", func() (*engine.Plan, error) { return h.e.Cancel(h.ctx, h.st, planExec) })
	only(t, p.Commands, engine.Finished)
	if len(p.Ops) != 1 {
		t.Fatalf("cancel writes %d records, want the head alone", len(p.Ops))
	}
	if _, ok := p.Ops[0].(engine.SetState); !ok {
		t.Fatalf("cancel's head write is %T, want SetState", p.Ops[0])
	}
	if hd := h.head(); hd.State != engine.Cancelled {
		t.Fatalf("head: %s", hd.State)
	}
	page := only(t, p.Commands, engine.StartTimer)
	if page.Timer != engine.TimerEndTasks {
		t.Fatalf("cancel's timer: %s", js(page))
	}
	h.fire(page)
	if rec := h.task("a"); rec.State != engine.Cancelled {
		t.Fatalf("unclaimed a: %s", rec.State)
	}
	late := h.result(a, true, nil, "")
	if len(runs(late.Commands)) != 0 || h.task("b") != nil {
		t.Fatalf("late result after cancel started work: %s", js(late.Commands))
	}
}

// Task.Pending is stored as the plain JSON string it always was.
func TestPendingEncoding(t *testing.T) {
	for p, want := range map[engine.Pending]string{
		engine.PendingRetry: "retry", engine.PendingWaitBefore: "wait_before", engine.PendingWaitAfter: "wait_after",
		engine.PendingPaused: "paused", engine.PendingJoin: "join",
	} {
		b, err := json.Marshal(engine.Task{Pending: p})
		if err != nil || !strings.Contains(string(b), `"pending":"`+want+`"`) {
			t.Errorf("%q encodes as %s (%v)", p, b, err)
		}
		var back engine.Task
		if err := engine.Decode(b, &back); err != nil || back.Pending != p {
			t.Errorf("%s decodes as %q (%v)", b, back.Pending, err)
		}
	}
	if b, _ := json.Marshal(engine.Task{}); strings.Contains(string(b), "pending") {
		t.Errorf("no wait encodes as %s", b)
	}
}

// A task named by both on-success and on-complete is one successor.
func TestSuccessorNamedTwiceStartsOnce(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b]
      on-complete: [b]
    b:
      action: std.noop
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(a, true, nil, "")
	only(t, p.Commands, engine.RunAction)
	puts := 0
	for _, op := range p.Ops {
		if put, ok := op.(engine.PutTask); ok && put.Task.Key == "b" {
			puts++
		}
	}
	if puts != 1 {
		t.Fatalf("b written %d times", puts)
	}
}

// Mistral 23.0.0 (task_handler.run_task): an expression of a task's call
// that cannot be evaluated (its input, its with-items) fails the task and
// the workflow at once, "Failed to run task [...]", with no on-error or
// retry. Start tasks after it are not started, so none is left running.
func TestCallExpressionErrorFailsWorkflow(t *testing.T) {
	for _, call := range []string{
		"action: std.echo output=<% $.nope %>",
		"with-items: x in <% $.nope %>\n      action: std.echo output=<% $.x %>",
	} {
		h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      `+call+`
      retry: {count: 3, delay: 1}
      on-error: [handler]
    later:
      action: std.noop
    handler:
      action: std.noop
`)
		p := h.start("wf", nil)
		if len(runs(p.Commands)) != 0 {
			t.Fatalf("%s: commands %s", call, js(p.Commands))
		}
		h.follow(p)
		assertFailedToRun(t, h, "a")
		if rec := h.task("a"); rec == nil || rec.State != engine.Error {
			t.Fatalf("%s: a %+v", call, rec)
		}
		if h.task("handler") != nil || h.task("later") != nil {
			t.Fatalf("%s: a task ran after the workflow failed", call)
		}
	}
}

// The same for a successor: the transitions after the one whose task
// failed to run are not followed.
func TestSuccessorCallExpressionErrorStopsTransitions(t *testing.T) {
	h := newPlanHost(t, `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [b, c]
    b:
      action: std.echo output=<% $.nope %>
    c:
      action: std.noop
`)
	a := only(t, h.start("wf", nil).Commands, engine.RunAction)
	p := h.result(a, true, nil, "")
	if len(runs(p.Commands)) != 0 {
		t.Fatalf("commands %s", js(p.Commands))
	}
	h.follow(p)
	assertFailedToRun(t, h, "b")
	if h.task("c") != nil {
		t.Fatal("c ran after the workflow failed")
	}
}

// assertFailedToRun checks that the execution ended ERROR because task
// could not be run, with Mistral's message.
func assertFailedToRun(t *testing.T, h *planHost, task string) {
	t.Helper()
	hd := h.head()
	if hd.State != engine.Error || !strings.HasPrefix(hd.StateInfo, "Failed to run task [error=") || !strings.HasSuffix(hd.StateInfo, ", wf=wf, task="+task+"]") {
		t.Fatalf("head %s %q", hd.State, hd.StateInfo)
	}
}

// oneWritePerRecord fails a plan that writes one record twice: a commit
// cannot (DynamoDB refuses it; elsewhere the later write's condition
// fails against the earlier), so such a step would never land.
func oneWritePerRecord(t *testing.T, what string, ops []engine.Op) {
	t.Helper()
	seen := map[string]bool{}
	for _, op := range ops {
		var k string
		switch o := op.(type) {
		case engine.PutExecution:
			k = "head " + o.Exec.ID
		case engine.AddExecution:
			k = "head " + o.ID
		case engine.SetState:
			k = "head " + o.ID
		case engine.PutTask:
			k = "task " + o.Task.Exec + "/" + o.Task.Key
		case engine.CountArrival:
			k = "task " + o.Exec + "/" + o.Key
		case engine.AddItems:
			k = "task " + o.Exec + "/" + o.Key
		case engine.PutSlot:
			k = fmt.Sprintf("slot %s/%s/%d", o.Slot.Exec, o.Slot.Task, o.Slot.Index)
		case engine.PutArrival:
			k = "arrival " + o.Exec + "/" + o.Join + "/" + o.From
		default:
			continue
		}
		if seen[k] {
			t.Fatalf("%s: the plan writes %s twice: %#v", what, k, ops)
		}
		seen[k] = true
	}
}
