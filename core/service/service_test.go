package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// A result bigger than the store accepts fails its task with a clear error
// instead of being retried forever.
func TestTooLargeResultFailsTask(t *testing.T) {
	st := kvstore.NewMemory()
	st.MaxValue = 64 << 10
	reg := actions.New()
	reg.Register("test.big", func(ctx context.Context, in map[string]any) (any, error) {
		return strings.Repeat("x", 100<<10), nil
	})
	h := embedded.New(embedded.Options{Store: st, Actions: reg})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
wf:
  tasks:
    big:
      action: test.big
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf", Input: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	e, err = h.Wait(ctx, e.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "too large") {
		t.Fatalf("state %s %q; want ERROR naming the size problem", e.State, e.StateInfo)
	}
	if h.DeadLetters != 0 {
		t.Fatalf("%d messages were given up on; the result should have been applied as an error", h.DeadLetters)
	}
}

// A workbook's workflows start by their Mistral name (wb.wf) or short name.
func TestWorkbookNames(t *testing.T) {
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
name: wb
workflows:
  wf:
    output:
      r: <% $.r %>
    tasks:
      t:
        action: std.echo output=1
        publish:
          r: <% task().result %>
`
	names, err := h.Register(ctx, "wb.yaml", []byte(src))
	if err != nil || len(names) != 2 {
		t.Fatalf("register: %v %v", names, err)
	}
	for _, n := range []string{"wb.wf", "wf"} {
		e, _, err := h.Start(ctx, service.StartRequest{Workflow: n})
		if err != nil {
			t.Fatalf("start %s: %v", n, err)
		}
		if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != engine.Success {
			t.Fatalf("%s: %v %v", n, e, err)
		}
	}
}
