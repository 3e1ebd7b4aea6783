package embedded_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// Pause and resume spread through three levels (with-items sub-workflows
// among them) in one step per execution each way: no message loops.
func TestPauseLoopCount(t *testing.T) {
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
	h, ctx := reviewHost(t, reg, 16)
	var pauses, resumes atomic.Int64
	h.OnStep = func(kind string, ops int) {
		switch kind {
		case "pause":
			pauses.Add(1)
		case "resume":
			resumes.Add(1)
		}
	}
	src := `version: '2.0'
top:
  tasks:
    fan:
      with-items: x in [1, 2, 3]
      workflow: mid
mid:
  tasks:
    deep:
      workflow: leaf
leaf:
  tasks:
    w:
      action: test.gate
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	top, _, err := h.Start(ctx, service.StartRequest{Workflow: "top"})
	if err != nil {
		t.Fatal(err)
	}
	var leaves []string
	for len(leaves) < 3 && ctx.Err() == nil {
		leaves = nil
		page, _ := h.Store.ListExecutions(ctx, store.ListParams{})
		for _, e := range page.Executions {
			if e.Workflow == "leaf" {
				leaves = append(leaves, e.ID)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(leaves) < 3 {
		t.Fatalf("leaf sub-workflows started: %v, want 3", leaves)
	}
	if _, err := h.Pause(ctx, leaves[0]); err != nil {
		t.Fatal(err)
	}
	// The pause spreads up to top by follow-up steps; resuming top before
	// it arrived would be refused.
	rvWait(t, h, ctx, top.ID, engine.Paused, 30*time.Second)
	page, _ := h.Store.ListExecutions(ctx, store.ListParams{})
	for _, e := range page.Executions {
		t.Logf("%s %s %s %q", e.Workflow, e.ID, e.State, e.StateInfo)
	}
	t.Logf("pause steps %d", pauses.Load())
	if _, err := h.Resume(ctx, top.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	page, _ = h.Store.ListExecutions(ctx, store.ListParams{})
	for _, e := range page.Executions {
		t.Logf("%s %s %s %q", e.Workflow, e.ID, e.State, e.StateInfo)
	}
	t.Logf("resume steps %d", resumes.Load())
	close(gate)
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, err := h.Wait(ctx2, top.ID, false)
	if err != nil || e.State != engine.Success {
		t.Fatalf("top %v %q %v dead letters %d", e.State, e.StateInfo, err, h.DeadLetterCount())
	}
}
