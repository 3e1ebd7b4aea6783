package embedded_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
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
	out, _ := e.Output.(map[string]any)
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
	if _, ok := pick.Published["seen"]; !ok {
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
	seen, _ := e.Output.(map[string]any)["seen"].([]any)
	if len(seen) != 3 || seen[0] != int64(1) || seen[2] != int64(3) {
		t.Fatalf("task(count) did not follow the cycle: %v", e.Output)
	}
}
