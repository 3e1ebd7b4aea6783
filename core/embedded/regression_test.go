package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

func runFor(t *testing.T, reg *actions.Registry, d time.Duration, wf string, input map[string]any, srcs ...string) (*embedded.Host, *engine.Execution, error) {
	t.Helper()
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg, Log: quietLog()})
	h.CallbackKey = []byte("0123456789abcdef0123456789abcdef")
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	h.Run(context.Background())
	t.Cleanup(h.Close)
	for i, src := range srcs {
		if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
			t.Fatalf("register %d: %v", i, err)
		}
	}
	e, _, err := h.Start(ctx, serviceStart(wf, input))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	e2, err := h.Wait(ctx, e.ID, false)
	return h, e2, err
}

func dump(t *testing.T, h *embedded.Host, id string) {
	ctx := context.Background()
	e, _ := h.Store.Execution(ctx, id)
	t.Logf("exec %s state=%s active=%d info=%q output=%v", e.ID, e.State, e.Active, e.StateInfo, e.Output)
	ts, _ := h.Store.Tasks(ctx, id)
	for _, x := range ts {
		t.Logf("  task %s state=%s attempt=%d items=%d done=%d failed=%d info=%q result=%v", x.Key, x.State, x.Attempt, x.Items, x.Done, x.Failed, x.StateInfo, x.Result)
	}
}

// R1: with-items, concurrency 1, the first item's input does not evaluate.
func TestRegressionItemsDispatchFailStuck(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "wf", nil, `
version: '2.0'
wf:
  tasks:
    t1:
      with-items: x in <% list(0, 1, 2) %>
      concurrency: 1
      action: std.echo
      input:
        output: <% 10 / $.x %>
`)
	dump(t, h, e.ID)
	if err != nil {
		t.Fatalf("R1 reproduced: execution still %s after 60 s: %v", e.State, err)
	}
}

// R2: with-items over a sub-workflow.
func TestRegressionItemsSubworkflow(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "wf", nil, `
version: '2.0'
wf:
  tasks:
    t1:
      with-items: x in <% list(1, 2, 3) %>
      workflow: sub
      input:
        v: <% $.x %>
      publish:
        r: <% task().result %>
sub:
  input:
    - v
  output:
    got: <% $.v %>
  tasks:
    s1:
      action: std.sleep seconds=<% $.v * 0.2 %>
`)
	dump(t, h, e.ID)
	if err != nil {
		t.Fatalf("not finished: %v", err)
	}
	tasks, _ := h.Store.Tasks(context.Background(), e.ID)
	for _, x := range tasks {
		if x.Name == "t1" {
			if l, ok := x.Result.([]any); !ok || len(l) != 3 {
				t.Fatalf("R2 reproduced: with-items result %#v (want a list of 3)", x.Result)
			}
		}
	}
}

// R3: sub-workflow registered in another file.
func TestRegressionSubworkflowOtherFile(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "parent", nil, `
version: '2.0'
child:
  tasks:
    c1:
      action: std.echo output=1
`, `
version: '2.0'
parent:
  tasks:
    p1:
      workflow: child
`)
	dump(t, h, e.ID)
	if err != nil || e.State != engine.Success {
		t.Fatalf("R3 reproduced: state %s info %q err %v", e.State, e.StateInfo, err)
	}
}

// R4: a task whose on-success and on-complete both name the same task.
func TestRegressionSameSuccessorTwice(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "wf", nil, `
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        - b
      on-complete:
        - b
    b:
      action: std.noop
`)
	dump(t, h, e.ID)
	if err != nil || e.State != engine.Success {
		t.Fatalf("R4 reproduced: state %s info %q err %v; dead letters %d", e.State, e.StateInfo, err, h.DeadLetterCount())
	}
}

// R4b: same, into a join.
func TestRegressionSameJoinTwice(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "wf", nil, `
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        - j
      on-complete:
        - j
    c:
      action: std.noop
      on-success: j
    j:
      join: all
      action: std.noop
`)
	dump(t, h, e.ID)
	if err != nil || e.State != engine.Success {
		t.Fatalf("R4b reproduced: state %s info %q err %v; dead letters %d", e.State, e.StateInfo, err, h.DeadLetterCount())
	}
}

// R5: timeout applies only to the first attempt; a retried attempt that
// never reports keeps the execution RUNNING.
func TestRegressionTimeoutRetry(t *testing.T) {
	h, e, err := runFor(t, nil, 60*time.Second, "wf", nil, `
version: '2.0'
wf:
  tasks:
    t1:
      action: std.async_noop
      timeout: 1
      retry:
        count: 1
        delay: 0
`)
	dump(t, h, e.ID)
	if err != nil {
		t.Fatalf("R5 reproduced: still %s after 60 s with timeout 1s: %v", e.State, err)
	}
}
