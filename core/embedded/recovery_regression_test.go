package embedded_test

// Regression tests from a review of pause/resume spreading, recovery and
// tasks that outlive their execution's end; each failed before its fix.

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

func reviewHost(t *testing.T, reg *actions.Registry, runners int) (*embedded.Host, context.Context) {
	t.Helper()
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg, Runners: runners})
	// Bounds every wait of the test (rvWait's too): the generous deadline
	// of things that will happen, however loaded the machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	h.Run(ctx)
	t.Cleanup(h.Close)
	return h, ctx
}

func rvWait(t *testing.T, h *embedded.Host, ctx context.Context, id string, st engine.State, d time.Duration) *engine.Execution {
	t.Helper()
	var e *engine.Execution
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		e, _ = h.Store.Execution(ctx, id)
		if e != nil && e.State == st {
			return e
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("execution %s: %+v, want %s", id, e, st)
	return nil
}

func childOf(t *testing.T, h *embedded.Host, ctx context.Context, parent string) string {
	t.Helper()
	for ctx.Err() == nil {
		page, err := h.Store.ListExecutions(ctx, store.ListParams{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			if e.Parent == parent {
				return e.ID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no sub-workflow of %s", parent)
	return ""
}

// A parent that paused with its sub-workflow and resumes with it sends
// again the actions runners dropped while it was paused.
func TestCascadeUpResumeResendsParentActions(t *testing.T) {
	entered := make(chan struct{}, 4)
	gate := make(chan struct{})
	reg := actions.New()
	reg.Register("test.gate", func(ctx context.Context, in map[string]any) (any, error) {
		entered <- struct{}{}
		select {
		case <-gate:
			return "open", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	h, ctx := reviewHost(t, reg, 1)
	src := `version: '2.0'
blocker:
  tasks:
    hold:
      action: test.gate
parent:
  tasks:
    call:
      workflow: child
    side:
      action: std.echo output=side
child:
  tasks:
    first:
      pause-before: true
      action: std.noop
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	blk, _, err := h.Start(ctx, service.StartRequest{Workflow: "blocker"})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	p, _, err := h.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	child := childOf(t, h, ctx, p.ID)
	rvWait(t, h, ctx, child, engine.Paused, 30*time.Second)
	e := rvWait(t, h, ctx, p.ID, engine.Paused, 30*time.Second)
	t.Logf("parent: %q", e.StateInfo)
	close(gate) // the runner now takes side's action, finds the parent paused, drops it
	rvWait(t, h, ctx, blk.ID, engine.Success, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.Resume(ctx, child); err != nil {
		t.Fatal(err)
	}
	rvWait(t, h, ctx, child, engine.Success, 30*time.Second)
	rvWait(t, h, ctx, p.ID, engine.Success, 30*time.Second)
}

// An ad-hoc action outliving the end gets its output clause applied to its
// late result, as when it ends before.
func TestOutlivingAdhocOutputApplied(t *testing.T) {
	var execID atomic.Value
	var h *embedded.Host
	reg := actions.New()
	reg.Register("test.slow", func(ctx context.Context, in map[string]any) (any, error) {
		for i := 0; i < 300; i++ {
			if id, _ := execID.Load().(string); id != "" {
				if e, _ := h.Store.Execution(ctx, id); e != nil && e.State.Terminal() {
					break
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		return map[string]any{"status": "sent", "noise": 1}, nil
	})
	h, ctx := reviewHost(t, reg, 4)
	src := `version: '2.0'
actions:
  notify:
    base: test.slow
    output: <% $.status %>
workflows:
  wf:
    tasks:
      work:
        action: std.fail
        on-error:
          - tell
          - fail
      tell:
        action: notify
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	execID.Store(e.ID)
	if _, err := h.Wait(ctx, e.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := h.Settle(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	tell, _ := h.Store.Task(ctx, e.ID, "tell")
	if tell.State != engine.Success || tell.Result != "sent" {
		t.Fatalf("tell: %s result %#v; want SUCCESS with the ad-hoc output \"sent\"", tell.State, tell.Result)
	}
}

// Resuming a parent whose with-items task runs sub-workflows sends their
// starts again (idempotent), not actions: before, the runner found no
// action, dead-lettered the message and failed the item.
func TestResumeWithItemsSubWorkflow(t *testing.T) {
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
	h, ctx := reviewHost(t, reg, 4)
	src := `version: '2.0'
parent:
  tasks:
    call:
      with-items: x in [1, 2]
      workflow: child
child:
  tasks:
    work:
      action: test.gate
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	p, _, err := h.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	childOf(t, h, ctx, p.ID)
	time.Sleep(200 * time.Millisecond)
	if _, err := h.Pause(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	rvWait(t, h, ctx, p.ID, engine.Paused, 30*time.Second)
	if _, err := h.Resume(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	close(gate)
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, err := h.Wait(ctx2, p.ID, false)
	if err != nil || e.State != engine.Success {
		t.Fatalf("parent %v %q %v (dead letters: %d)", e.State, e.StateInfo, err, h.DeadLetterCount())
	}
}

// The same through the sweeper (service.Sweep).
func TestSweepWithItemsSubWorkflow(t *testing.T) {
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
	h, ctx := reviewHost(t, reg, 4)
	src := `version: '2.0'
parent:
  tasks:
    call:
      with-items: x in [1, 2]
      workflow: child
child:
  tasks:
    work:
      action: test.gate
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	p, _, err := h.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	childOf(t, h, ctx, p.ID)
	time.Sleep(200 * time.Millisecond)
	if _, err := h.Sweep(ctx, 100*time.Millisecond, 100); err != nil { // as if 2 minutes had passed
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	close(gate)
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, err := h.Wait(ctx2, p.ID, false)
	if err != nil || e.State != engine.Success {
		t.Fatalf("parent %v %q %v (dead letters: %d)", e.State, e.StateInfo, err, h.DeadLetterCount())
	}
}

// A parent paused with its sub-workflow resumes when that sub-workflow is
// cancelled rather than resumed.
func TestCancelledPausedChildResumesParent(t *testing.T) {
	h, ctx := reviewHost(t, actions.New(), 4)
	src := `version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      on-error: cleanup
    cleanup:
      action: std.noop
child:
  tasks:
    first:
      pause-before: true
      action: std.noop
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	p, _, err := h.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	child := childOf(t, h, ctx, p.ID)
	rvWait(t, h, ctx, child, engine.Paused, 30*time.Second)
	rvWait(t, h, ctx, p.ID, engine.Paused, 30*time.Second)
	if _, err := h.Cancel(ctx, child); err != nil {
		t.Fatal(err)
	}
	rvWait(t, h, ctx, child, engine.Cancelled, 30*time.Second)
	// The parent leaves PAUSED by a follow-up step: wait for it rather than
	// for a guessed second.
	var pe *engine.Execution
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		pe, _ = h.Store.Execution(ctx, p.ID)
		if pe != nil && pe.State != engine.Paused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("parent still %+v 30 s after its only paused sub-workflow was cancelled", pe)
		}
	}
	call, _ := h.Store.Task(ctx, p.ID, "call")
	t.Logf("parent %s %q; call %s", pe.State, pe.StateInfo, call.State)
}
