package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

func run(t *testing.T, src string, wf string, input map[string]any) (*embedded.Host, *engine.Execution) {
	t.Helper()
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	h.Run(ctx)
	t.Cleanup(h.Close)
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatalf("register: %v", err)
	}
	e, _, err := h.Start(ctx, serviceStart(wf, input))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	e, err = h.Wait(ctx, e.ID, false)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return h, e
}

func TestChainPublishOutput(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  input:
    - name
  output:
    greeting: <% $.greeting %>
  tasks:
    t1:
      action: std.echo output="Hello"
      publish:
        hello: <% task().result %>
      on-success: t2
    t2:
      action: std.echo
      input:
        output: <% $.hello + ', ' + $.name %>
      publish:
        greeting: <% task(t2).result %>
`, "wf", map[string]any{"name": "Lazyflow"})
	if e.State != engine.Success {
		t.Fatalf("state %s (%s)", e.State, e.StateInfo)
	}
	out, _ := e.Output.(map[string]any)
	if out["greeting"] != "Hello, Lazyflow" {
		t.Fatalf("output %v", e.Output)
	}
}
