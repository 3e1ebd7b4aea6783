package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
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
	out, _ := value.AsGoMap(e.Output)
	if out["greeting"] != "Hello, Lazyflow" {
		t.Fatalf("output %v", e.Output)
	}
}

// A delegate action that cannot get its callback fails its attempt with an
// ordinary error result, and a message that can never be processed is
// dead-lettered instead of blocking the host.
func TestPoisonTaskMessageFailsExecution(t *testing.T) {
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), MaxReceives: 2, Visibility: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.async_noop\n"
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	// No callback key: the delegate action cannot get a callback URL, so the
	// runner fails the attempt with an error result — an ordinary error.
	e, _, err := h.Start(ctx, serviceStart("wf", nil))
	if err != nil {
		t.Fatal(err)
	}
	e, err = h.Wait(ctx, e.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != engine.Error {
		t.Fatalf("state %s, want ERROR", e.State)
	}
	// A result for an execution that does not exist can never apply: it is
	// poison, dead-lettered without crashing or blocking the host.
	if err := h.SendResult(ctx, engine.Result{Exec: "ex-missing", Task: "nope", Slot: -1, Attempt: 1, OK: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for h.DeadLetterCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if h.DeadLetterCount() == 0 {
		t.Fatal("poison message was not dead-lettered")
	}
}

// Whole numbers stay whole across the queues: an action's output 3 comes
// back as 3 (Mistral prints str(3) as "3" and str([3, 2]) as yaql's tuple
// "(3, 2)"), not as the float 3.0 a plain JSON decode would make of it, and
// so does an integer action input.
func TestIntegersSurviveTheQueues(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=3
      publish:
        s: <% str(task().result) %>
        list: <% str([task().result, 2]) %>
`, "wf", nil)
	if e.State != engine.Success {
		t.Fatalf("state %s (%s)", e.State, e.StateInfo)
	}
	out, _ := value.AsGoMap(e.Output)
	if out["s"] != "3" || out["list"] != "(3, 2)" {
		t.Fatalf("output %#v, want s \"3\" and list \"(3, 2)\"", e.Output)
	}
}
