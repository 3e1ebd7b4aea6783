package engine_test

import (
	"slices"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

const inputOrderSrc = `version: '2.0'
wf:
  input: [zed, mid, {bee: 2}, {alpha: <% $.zed + 1 %>}]
  tasks:
    call:
      workflow: child
      input: {zed: <% $.mid %>, bee: 1}
      on-success: [act]
    act:
      action: my.thing
      input: {yak: <% $.alpha %>, cow: 1, ant: 2}
child:
  input: [bee, zed, {alpha: 9}]
  tasks:
    t:
      action: std.noop
`

// An execution's input keeps the order it was given in, with the defaults
// of what it lacks after it in the order the workflow declares them (as
// Mistral's prepare_input appends them), and what a task passes on keeps
// the order of its input clause, to a sub-workflow as to an action.
func TestInputKeepsItsOrder(t *testing.T) {
	h := newPlanHost(t, inputOrderSrc)
	p := h.do("start", func() (*engine.Plan, error) {
		return h.e.Start(h.ctx, h.st, engine.StartParams{ID: planExec, DefID: "plan", Workflow: "wf",
			Input: value.MapFromPairs("mid", int64(5), "zed", int64(7))})
	})
	in, err := h.st.Input(h.ctx, planExec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := value.JSON(in, -1, false), `{"mid": 5, "zed": 7, "bee": 2, "alpha": 8}`; got != want {
		t.Fatalf("input %s, want %s", got, want)
	}

	call := only(t, p.Commands, engine.StartWorkflow)
	if got, want := call.Input.Keys(), []string{"zed", "bee"}; !slices.Equal(got, want) {
		t.Fatalf("sub-workflow input keys %v, want %v", got, want)
	}
	child := h.do("start child", func() (*engine.Plan, error) {
		return h.e.Start(h.ctx, h.st, engine.StartParams{ID: call.ChildID, DefID: "plan", Workflow: call.Workflow,
			Input: call.Input, Parent: planExec, ParentTask: call.Task, ParentAttempt: call.Attempt, ParentSlot: call.Slot})
	})
	if got, want := value.JSON(child.Exec.Input, -1, false), `{"zed": 5, "bee": 1, "alpha": 9}`; got != want {
		t.Fatalf("sub-workflow input %s, want %s", got, want)
	}

	rec := h.task("call")
	act := only(t, h.follow(h.do("call done", func() (*engine.Plan, error) {
		return h.e.TaskComplete(h.ctx, h.st, engine.Result{Exec: planExec, Task: rec.Key, Slot: -1, Attempt: rec.Attempt, OK: true})
	})), engine.RunAction)
	if got, want := value.JSON(act.Input, -1, false), `{"yak": 8, "cow": 1, "ant": 2}`; got != want {
		t.Fatalf("action input %s, want %s", got, want)
	}
}
