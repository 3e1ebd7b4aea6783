package httpapi_test

import (
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

const delegateItems = `
version: '2.0'
delegatedItems:
  tasks:
    ask:
      with-items: x in <% [1, 2] %>
      action: test.delegate
`

// After a cancel every task is CANCELLED, and a delegate's late callback
// is refused with 409 and changes nothing: not the task, not the execution.
func TestCancelEndsTasksAndRefusesLateCallback(t *testing.T) {
	for _, c := range []struct{ wf, src string }{{"delegated", delegate}, {"delegatedItems", delegateItems}} {
		t.Run(c.wf, func(t *testing.T) {
			e := newEnv(t, nil)
			e.register(c.src)
			id := e.start(c.wf, `{}`).body["id"].(string)
			tok := tokenOf(t, <-e.cbCh)
			// The runner has claimed the attempt once the action has its callback.
			time.Sleep(50 * time.Millisecond)
			if r := e.json("POST", "/executions/"+id+"/cancel", ""); r.status != 200 || r.body["state"] != "CANCELLED" {
				t.Fatalf("cancel: %d %s", r.status, r.raw)
			}
			// The execution is CANCELLED at once; its tasks end by the
			// follow-up steps moments later (README: a cancel ends every task).
			ended := func() (bool, string) {
				r := e.json("GET", "/executions/"+id, "")
				if r.body["state"] != string(engine.Cancelled) {
					t.Fatalf("execution %s", r.raw)
				}
				for _, tk := range r.body["tasks"].([]any) {
					if tk.(map[string]any)["state"] != string(engine.Cancelled) {
						return false, r.raw
					}
				}
				return true, r.raw
			}
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				ok, raw := ended()
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a task is still live 60 s after the cancel: %s", raw)
				}
			}
			cancelledTasks := func() {
				t.Helper()
				if ok, raw := ended(); !ok {
					t.Fatalf("a task is live again in a cancelled execution: %s", raw)
				}
			}
			wantError(t, e.json("POST", "/callbacks/"+tok, `{"state": "SUCCESS", "output": 1}`), 409, httpapi.CodeCallbackStale, "token")
			// Must not happen: the refused callback gets a window to revive a task.
			time.Sleep(100 * time.Millisecond)
			cancelledTasks()
		})
	}
}
