package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// deleted sends DELETE path and wants 204 with no body.
func (e *env) deleted(path string) {
	e.t.Helper()
	req, err := http.NewRequest("DELETE", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("DELETE %s: status %d, want 204", path, resp.StatusCode)
	}
}

func TestDeleteWorkflowAndExecution(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	e.register(delegate)
	done := e.start("hello", `{"name": "A"}`).body["id"].(string)
	e.wait(done, engine.Success)
	running := e.start("delegated", `{}`).body["id"].(string)
	<-e.cbCh

	e.deleted("/workflows/delegated")
	wantError(t, e.json("GET", "/workflows/delegated", ""), 404, httpapi.CodeNotFound, "name")
	wantError(t, e.json("DELETE", "/workflows/delegated", ""), 404, httpapi.CodeNotFound, "name")
	wantError(t, e.start("delegated", `{}`), 404, httpapi.CodeNotFound, "workflow")
	// The running execution still has its definition.
	if r := e.json("GET", "/executions/"+running, ""); r.status != 200 || r.body["state"] != "RUNNING" {
		t.Fatalf("running execution after its workflow's delete: %d %s", r.status, r.raw)
	}

	e.deleted("/executions/" + done)
	wantError(t, e.json("GET", "/executions/"+done, ""), 404, httpapi.CodeNotFound, "id")
	wantError(t, e.json("DELETE", "/executions/"+done, ""), 404, httpapi.CodeNotFound, "id")
	er := wantError(t, e.json("DELETE", "/executions/"+running, ""), 409, httpapi.CodeInvalidState, "")
	if want := "cannot delete execution " + running + ": it is RUNNING, and only a finished execution can be deleted; DELETE /executions/" + running + "?force=true cancels it and deletes it"; er["message"] != want {
		t.Errorf("409 message %q, want %q", er["message"], want)
	}
	wantError(t, e.json("DELETE", "/executions/"+running+"?force=perhaps", ""), 400, httpapi.CodeInvalidInput, "force")
	e.wait(running, engine.Running)
	e.deleted("/executions/" + running + "?force=true")
	wantError(t, e.json("GET", "/executions/"+running, ""), 404, httpapi.CodeNotFound, "id")
}

// A workflow name the API does not know gets the registered one it likely
// means, on every route that takes one; a name near none gets no guess.
func TestUnknownWorkflowSuggests(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	const want = `workflow "helo" is not registered (did you mean "hello"?)`
	for _, c := range []struct {
		r     response
		field string
	}{
		{e.json("GET", "/workflows/helo", ""), "name"},
		{e.json("DELETE", "/workflows/helo", ""), "name"},
		{e.start("helo", `{}`), "workflow"},
	} {
		if er := wantError(t, c.r, 404, httpapi.CodeNotFound, c.field); er["message"] != want {
			t.Errorf("message %q, want %q", er["message"], want)
		}
	}
	if er := wantError(t, e.json("GET", "/workflows/zzzzzz", ""), 404, httpapi.CodeNotFound, "name"); er["message"] != `workflow "zzzzzz" is not registered` {
		t.Errorf("a name near none: message %q", er["message"])
	}
}
