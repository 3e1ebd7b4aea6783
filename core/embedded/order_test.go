package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

const orderWorkflow = `
version: '2.0'
wf:
  input:
    - doc
  output:
    kept: <% $.copied %>
    zulu: <% $.doc.keys() %>
    alpha: '{{ _.copied.items() | list }}'
  tasks:
    t1:
      action: std.echo
      input:
        output: <% $.doc %>
      publish:
        copied: <% task().result %>
        z_last: 1
        a_first: 2
`

// TestDictOrderSurvivesARun: a dict keeps its keys' order from the
// execution's input through an action's result, a publish and the output,
// as in Mistral (Python dicts), on the memory and on the bolt store.
func TestDictOrderSurvivesARun(t *testing.T) {
	doc, err := value.FromJSON([]byte(`{"zeta": 1, "alpha": {"y": 2, "x": 3}, "mid": [{"b": 1, "a": 2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "lazyflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bolt.Close() })
	for name, st := range map[string]store.Store{"memory": kvstore.NewMemory(), "bolt": bolt} {
		t.Run(name, func(t *testing.T) {
			h := embedded.New(embedded.Options{Store: st})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h.Run(ctx)
			defer h.Close()
			if _, err := h.Register(ctx, "wf.yaml", []byte(orderWorkflow)); err != nil {
				t.Fatalf("register: %v", err)
			}
			e, _, err := h.Start(ctx, serviceStart("wf", map[string]any{"doc": doc}))
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != engine.Success {
				t.Fatalf("wait: %v (%+v)", err, e)
			}
			want := `{"kept": {"zeta": 1, "alpha": {"y": 2, "x": 3}, "mid": [{"b": 1, "a": 2}]}, ` +
				`"zulu": ["zeta", "alpha", "mid"], "alpha": [["zeta", 1], ["alpha", {"y": 2, "x": 3}], ["mid", [{"b": 1, "a": 2}]]]}`
			if got := value.JSON(e.Output, -1, false); got != want {
				t.Fatalf("output\n got %s\nwant %s", got, want)
			}
			tasks, err := st.Tasks(ctx, e.ID)
			if err != nil || len(tasks) != 1 {
				t.Fatalf("tasks: %v %v", tasks, err)
			}
			if got := tasks[0].Published.Keys(); len(got) != 3 || got[0] != "copied" || got[1] != "z_last" || got[2] != "a_first" {
				t.Fatalf("published keys %v, want the publish clause's order", got)
			}
		})
	}
}

// TestRootOrderThroughARun: std.echo of $ gives the input, then vars, then
// what the branch published, in that order, and a workflow without an
// output clause outputs its published values in publication order (a
// value published again keeping its place).
func TestRootOrderThroughARun(t *testing.T) {
	_, e := run(t, `
version: '2.0'
wf:
  input: [ain, zin]
  vars: {zv: 1, av: 2}
  tasks:
    first:
      action: std.noop
      publish: {zp: 1, ap: 2}
      on-success: echo
    echo:
      action: std.echo output=<% $ %>
      publish:
        seen: <% task().result.keys() %>
        zp: 3
`, "wf", map[string]any{"zin": 1, "ain": 2})
	if e.State != engine.Success {
		t.Fatalf("state %s %q", e.State, e.StateInfo)
	}
	want := `{"zp": 3, "ap": 2, "seen": ["ain", "zin", "zv", "av", "zp", "ap"]}`
	if got := value.JSON(e.Output, -1, false); got != want {
		t.Fatalf("output %s, want %s", got, want)
	}
}
