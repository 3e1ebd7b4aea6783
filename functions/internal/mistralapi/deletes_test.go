package mistralapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Deleting a workflow keeps executions already running it going: they
// finish on the definition they started with.
func TestDeleteWorkflowKeepsRunningExecutions(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", delegated), http.StatusCreated, "create")
	ex := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusCreated, "start").body["id"].(string)
	cb := <-e.cbCh
	r := e.do("DELETE", "/v2/workflows/delegated", "", "")
	e.want(r, http.StatusNoContent, "workflow-delete")
	e.wantFault(e.do("GET", "/v2/workflows/delegated", "", ""), http.StatusNotFound, "Workflow not found")
	e.wantFault(e.do("DELETE", "/v2/workflows/delegated", "", ""), http.StatusNotFound, "Workflow not found")
	if l := e.do("GET", "/v2/workflows", "", ""); len(l.body["workflows"].([]any)) != 0 {
		t.Fatalf("listed after delete: %s", l.raw)
	}
	e.want(e.do("PUT", "/v2/action_executions/"+cb.Token, "application/json", `{"state": "SUCCESS", "output": "{\"answer\": 7}"}`), http.StatusOK, "complete")
	if done := e.waitState(ex, "SUCCESS"); jsonText(t, done["output"])["answer"] != float64(7) {
		t.Fatalf("the running execution did not finish on its definition: %v", done)
	}
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusNotFound, "Workflow not found")
}

func TestDeleteWorkbookTakesItsWorkflows(t *testing.T) {
	e := newEnv(t)
	wb := "version: '2.0'\nname: wb\nworkflows:\n  one:\n    tasks:\n      t:\n        action: std.noop\n  two:\n    tasks:\n      t:\n        action: std.noop\n"
	e.want(e.do("POST", "/v2/workbooks", "text/plain", wb), http.StatusCreated, "workbook create")
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "standalone create")
	e.want(e.do("DELETE", "/v2/workbooks/wb", "", ""), http.StatusNoContent, "workbook-delete")
	e.wantFault(e.do("GET", "/v2/workbooks/wb", "", ""), http.StatusNotFound, "Workbook not found")
	e.wantFault(e.do("DELETE", "/v2/workbooks/wb", "", ""), http.StatusNotFound, "Workbook not found")
	for _, n := range []string{"wb.one", "wb.two", "one", "two"} {
		e.wantFault(e.do("GET", "/v2/workflows/"+n, "", ""), http.StatusNotFound, "Workflow not found")
	}
	if l := e.do("GET", "/v2/workflows", "", ""); len(l.body["workflows"].([]any)) != 1 {
		t.Fatalf("the standalone workflow went with the workbook: %s", l.raw)
	}
	// The name is free again.
	e.want(e.do("POST", "/v2/workbooks", "text/plain", wb), http.StatusCreated, "workbook create again")
}

func TestDeleteExecution(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	e.want(e.do("POST", "/v2/workflows", "text/plain", delegated), http.StatusCreated, "create")
	done := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": {"name": "A"}}`), http.StatusCreated, "start").body["id"].(string)
	e.waitState(done, "SUCCESS")
	e.want(e.do("DELETE", "/v2/executions/"+done, "", ""), http.StatusNoContent, "execution-delete")
	e.wantFault(e.do("GET", "/v2/executions/"+done, "", ""), http.StatusNotFound, done)
	if l := e.do("GET", "/v2/tasks?workflow_execution_id="+done, "", ""); strings.Contains(l.raw, "greet") {
		t.Fatalf("tasks left after delete: %s", l.raw)
	}
	e.wantFault(e.do("DELETE", "/v2/executions/"+done, "", ""), http.StatusNotFound, done)

	running := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusCreated, "start").body["id"].(string)
	<-e.cbCh
	e.wantFault(e.do("DELETE", "/v2/executions/"+running, "", ""), http.StatusForbidden, "Use --force")
	e.waitState(running, "RUNNING")
	e.wantFault(e.do("DELETE", "/v2/executions/"+running+"?force=maybe", "", ""), http.StatusBadRequest, `"force"`)
	e.want(e.do("DELETE", "/v2/executions/"+running+"?force=True", "", ""), http.StatusNoContent, "execution-delete --force")
	e.wantFault(e.do("GET", "/v2/executions/"+running, "", ""), http.StatusNotFound, running)
}

func TestEnvironments(t *testing.T) {
	e := newEnv(t)
	body := `{"name": "prod", "description": "production", "variables": "{\"greeting\": \"Howdy\", \"n\": 2}", "scope": "private"}`
	r := e.want(e.do("POST", "/v2/environments", "application/json", body), http.StatusCreated, "environment-create")
	if r.body["name"] != "prod" || r.body["description"] != "production" || r.body["scope"] != "private" ||
		r.body["variables"].(map[string]any)["greeting"] != "Howdy" || !mistralTime.MatchString(r.body["created_at"].(string)) {
		t.Fatalf("environment shape: %s", r.raw)
	}
	e.wantFault(e.do("POST", "/v2/environments", "application/json", body), http.StatusConflict, "Duplicate entry")
	e.wantFault(e.do("POST", "/v2/environments", "application/json", `{"variables": {}}`), http.StatusBadRequest, `"name"`)
	e.wantFault(e.do("POST", "/v2/environments", "application/json", `{"name": "x", "variables": "[1]"}`), http.StatusBadRequest, `"variables"`)
	e.wantFault(e.do("POST", "/v2/environments", "application/json", `{"name": "x", "scope": "galaxy"}`), http.StatusBadRequest, `"scope"`)
	e.want(e.do("POST", "/v2/environments", "application/json", `{"name": "dev", "variables": {"greeting": "Yo"}}`), http.StatusCreated, "create with an object")
	if l := e.do("GET", "/v2/environments", "", ""); len(l.body["environments"].([]any)) != 2 {
		t.Fatalf("environment-list: %s", l.raw)
	}
	up := e.want(e.do("PUT", "/v2/environments", "application/json", `{"name": "prod", "variables": "{\"greeting\": \"Hey\"}"}`), http.StatusOK, "environment-update")
	if up.body["description"] != "production" || up.body["variables"].(map[string]any)["greeting"] != "Hey" || up.body["created_at"] != r.body["created_at"] {
		t.Fatalf("update (description and created_at kept, variables replaced): %s", up.raw)
	}
	e.wantFault(e.do("PUT", "/v2/environments", "application/json", `{"name": "nope", "variables": {}}`), http.StatusNotFound, "Environment not found")
	if g := e.want(e.do("GET", "/v2/environments/prod", "", ""), http.StatusOK, "environment-get"); g.body["variables"].(map[string]any)["greeting"] != "Hey" {
		t.Fatalf("environment-get: %s", g.raw)
	}
	e.wantFault(e.do("GET", "/v2/environments/nope", "", ""), http.StatusNotFound, "Environment not found")

	// A named env is resolved at start; a dict still works.
	e.want(e.do("POST", "/v2/workflows", "text/plain", envHello), http.StatusCreated, "create")
	byName := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "envhello", "params": "{\"env\": \"prod\"}"}`), http.StatusCreated, "start with a named env").body["id"].(string)
	if out := jsonText(t, e.waitState(byName, "SUCCESS")["output"]); out["text"] != "Hey" {
		t.Fatalf("named env: output %v", out)
	}
	byDict := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "envhello", "params": {"env": {"greeting": "Hi"}}}`), http.StatusCreated, "start with an env dict").body["id"].(string)
	if out := jsonText(t, e.waitState(byDict, "SUCCESS")["output"]); out["text"] != "Hi" {
		t.Fatalf("env dict: output %v", out)
	}
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "envhello", "params": {"env": "nope"}}`), http.StatusNotFound, "nope")

	e.want(e.do("DELETE", "/v2/environments/prod", "", ""), http.StatusNoContent, "environment-delete")
	e.wantFault(e.do("DELETE", "/v2/environments/prod", "", ""), http.StatusNotFound, "Environment not found")
	// An execution started with it keeps the variables it started with.
	if out := jsonText(t, e.waitState(byName, "SUCCESS")["output"]); out["text"] != "Hey" {
		t.Fatalf("after the env's delete: output %v", out)
	}
}

// A stored environment keeps its variables in the order the client gave
// them, as Mistral's JSON column does: shown back so, and so in env() of an
// execution started with it by name.
func TestEnvironmentKeepsItsOrder(t *testing.T) {
	e := newEnv(t)
	body := `{"name": "ordered", "variables": "{\"zeta\": 1, \"alpha\": {\"y\": 1, \"b\": 2}, \"mid\": 3}"}`
	e.want(e.do("POST", "/v2/environments", "application/json", body), http.StatusCreated, "environment-create")
	got := e.want(e.do("GET", "/v2/environments/ordered", "", ""), http.StatusOK, "environment-get")
	var shown struct {
		Variables json.RawMessage `json:"variables"`
	}
	if err := json.Unmarshal([]byte(got.raw), &shown); err != nil {
		t.Fatal(err)
	}
	if v, want := strings.Join(strings.Fields(string(shown.Variables)), ""), `{"zeta":1,"alpha":{"y":1,"b":2},"mid":3}`; v != want {
		t.Fatalf("variables shown as %s, want %s", v, want)
	}
	e.want(e.do("POST", "/v2/workflows", "text/plain", `version: '2.0'
envkeys:
  output:
    keys: <% env().keys() %>
    params: <% execution().params.env.keys() %>
  tasks:
    t:
      action: std.noop
`), http.StatusCreated, "create")
	id := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "envkeys", "params": {"env": "ordered"}}`), http.StatusCreated, "start").body["id"].(string)
	out := jsonText(t, e.waitState(id, "SUCCESS")["output"])
	for _, k := range []string{"keys", "params"} {
		if s := fmt.Sprint(out[k]); s != "[zeta alpha mid]" {
			t.Errorf("%s: %s, want [zeta alpha mid]", k, s)
		}
	}
}

const envHello = `version: '2.0'
envhello:
  output:
    text: <% env().greeting %>
  tasks:
    t:
      action: std.noop
`

// Mistral's not-found fault keeps its text and adds the registered
// workflow a misspelt name likely means (get, delete and start).
func TestUnknownWorkflowSuggests(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	const want = `Workflow not found [workflow_identifier=helo] (did you mean "hello"?)`
	e.wantFault(e.do("GET", "/v2/workflows/helo", "", ""), http.StatusNotFound, want)
	e.wantFault(e.do("DELETE", "/v2/workflows/helo", "", ""), http.StatusNotFound, want)
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "helo"}`), http.StatusNotFound, want)
	r := e.do("GET", "/v2/workflows/zzzzzz", "", "")
	if fs, _ := r.body["faultstring"].(string); fs != "Workflow not found [workflow_identifier=zzzzzz]" {
		t.Errorf("a name near none: faultstring %q", fs)
	}
}
