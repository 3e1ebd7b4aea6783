package mistralapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/mistralapi"
)

var key = []byte("0123456789abcdef0123456789abcdef")

type env struct {
	t    *testing.T
	srv  *httptest.Server
	cbCh chan actions.Callback
}

// newEnv serves both APIs, mounted as lazyflow serve mounts them, over a
// real embedded host with memory drivers, so executions really run.
func newEnv(t *testing.T) *env {
	t.Helper()
	reg := actions.New()
	e := &env{t: t, cbCh: make(chan actions.Callback, 16)}
	reg.RegisterAsync("test.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
		e.cbCh <- cb
		return nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg, Log: log})
	h.CallbackKey = key
	h.CallbackURL = "http://example.test/callbacks/"
	ctx, cancel := context.WithCancel(context.Background())
	h.Run(ctx)
	t.Cleanup(func() { cancel(); h.Close() })
	e.srv = httptest.NewServer(mistralapi.Mount(httpapi.New(h.Service, httpapi.Options{Log: log}), mistralapi.New(h.Service, log, 64<<10)))
	t.Cleanup(e.srv.Close)
	return e
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, ctype, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(data)}
	_ = json.Unmarshal(data, &r.body)
	return r
}

func (e *env) want(r response, status int, what string) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	return r
}

// wantFault checks Mistral's error shape and that the message names the problem.
func (e *env) wantFault(r response, status int, contains string) {
	e.t.Helper()
	e.want(r, status, contains)
	fs, _ := r.body["faultstring"].(string)
	if !strings.Contains(fs, contains) {
		e.t.Fatalf("faultstring %q does not contain %q", fs, contains)
	}
}

func (e *env) waitState(id, state string) map[string]any {
	e.t.Helper()
	var r response
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r = e.do("GET", "/v2/executions/"+id, "", "")
		if r.body["state"] == state {
			return r.body
		}
	}
	e.t.Fatalf("execution %s: %s, want state %s", id, r.raw, state)
	return nil
}

// jsonText decodes a field Mistral sends as JSON text.
func jsonText(t *testing.T, v any) map[string]any {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v is %T, want JSON text", v, v)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%q is not a JSON object: %v", s, err)
	}
	return m
}

var mistralTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

const hello = `version: '2.0'
hello:
  input:
    - name
    - greeting: Hello
  output:
    text: <% $.text %>
  tasks:
    greet:
      action: std.echo output="<% $.greeting %>, <% $.name %>!"
      publish:
        text: <% task().result %>
`

const delegated = `version: '2.0'
delegated:
  tasks:
    ask:
      action: test.delegate
      publish:
        answer: <% task().result.answer %>
  output:
    answer: <% $.answer %>
`

func TestWorkflowsShapesAndCodes(t *testing.T) {
	e := newEnv(t)
	r := e.want(e.do("POST", "/v2/workflows?scope=private&namespace=", "text/plain", hello), http.StatusCreated, "create")
	wfs, _ := r.body["workflows"].([]any)
	if len(wfs) != 1 {
		t.Fatalf("create: %s", r.raw)
	}
	wf := wfs[0].(map[string]any)
	if wf["name"] != "hello" || wf["input"] != `name, greeting="Hello"` || wf["definition"] != hello ||
		!mistralTime.MatchString(wf["created_at"].(string)) || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(wf["id"].(string)) {
		t.Fatalf("workflow shape: %s", r.raw)
	}
	e.wantFault(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusConflict, "Duplicate entry")
	r = e.want(e.do("PUT", "/v2/workflows", "text/plain", strings.Replace(hello, "Hello", "Hi", 1)), http.StatusOK, "update")
	up := r.body["workflows"].([]any)[0].(map[string]any)
	if up["id"] != wf["id"] || up["input"] != `name, greeting="Hi"` {
		t.Fatalf("update changed the id or kept the old definition: %s", r.raw)
	}
	if got := e.want(e.do("GET", "/v2/workflows/"+wf["id"].(string), "", ""), http.StatusOK, "get by id"); got.body["name"] != "hello" {
		t.Fatalf("get by id: %s", got.raw)
	}
	e.want(e.do("GET", "/v2/workflows/hello", "", ""), http.StatusOK, "get by name")
	e.wantFault(e.do("GET", "/v2/workflows/nope", "", ""), http.StatusNotFound, "Workflow not found")
	e.wantFault(e.do("POST", "/v2/workflows", "text/plain", "version: '2.0'\nbad:\n  tasks:\n    t:\n      action: std.echo\n      on-success: missing\n"),
		http.StatusBadRequest, "definition.yaml:")
	e.wantFault(e.do("POST", "/v2/workflows", "text/plain", "  "), http.StatusBadRequest, "empty")
	if v := e.do("POST", "/v2/workflows/validate", "text/plain", "version: '2.0'\nbad:\n  tasks:\n    t:\n      action: std.echo\n      on-success: missing\n"); v.body["valid"] != false ||
		!strings.Contains(v.body["error"].(string), "definition.yaml:6:") {
		t.Fatalf("validate: %s", v.raw)
	}
	if v := e.do("POST", "/v2/workflows/validate", "text/plain", hello); v.body["valid"] != true {
		t.Fatalf("validate: %s", v.raw)
	}
	if l := e.do("GET", "/v2/workflows", "", ""); len(l.body["workflows"].([]any)) != 1 {
		t.Fatalf("list: %s", l.raw)
	}
}

func TestWorkbooksListOnlyTheirQualifiedNames(t *testing.T) {
	e := newEnv(t)
	wb := "version: '2.0'\nname: wb\nworkflows:\n  hello:\n    tasks:\n      t:\n        action: std.noop\n"
	r := e.want(e.do("POST", "/v2/workbooks", "text/plain", wb), http.StatusCreated, "workbook create")
	if r.body["name"] != "wb" || r.body["definition"] != wb {
		t.Fatalf("workbook: %s", r.raw)
	}
	e.wantFault(e.do("POST", "/v2/workbooks", "text/plain", wb), http.StatusConflict, "Duplicate entry")
	e.want(e.do("PUT", "/v2/workbooks", "text/plain", wb), http.StatusOK, "workbook update")
	e.want(e.do("GET", "/v2/workbooks/wb", "", ""), http.StatusOK, "workbook get")
	e.wantFault(e.do("GET", "/v2/workbooks/nope", "", ""), http.StatusNotFound, "Workbook not found")
	l := e.do("GET", "/v2/workflows", "", "")
	if wfs := l.body["workflows"].([]any); len(wfs) != 1 || wfs[0].(map[string]any)["name"] != "wb.hello" {
		t.Fatalf("a workbook's workflow is listed as Mistral names it (wb.hello only): %s", l.raw)
	}
	if l := e.do("GET", "/v2/workbooks", "", ""); len(l.body["workbooks"].([]any)) != 1 {
		t.Fatalf("workbooks: %s", l.raw)
	}
}

func TestExecutionsShapesIdsAndPaging(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	body := `{"workflow_name": "hello", "input": "{\"name\": \"Ada\"}", "params": "{\"env\": {\"k\": 1}}", "id": "6f1b2a3c-0000-4000-8000-000000000001", "description": "d"}`
	r := e.want(e.do("POST", "/v2/executions", "application/json", body), http.StatusCreated, "start")
	if r.body["id"] != "6f1b2a3c-0000-4000-8000-000000000001" || jsonText(t, r.body["input"])["name"] != "Ada" ||
		!mistralTime.MatchString(r.body["created_at"].(string)) {
		t.Fatalf("start shape: %s", r.raw)
	}
	done := e.waitState("6f1b2a3c-0000-4000-8000-000000000001", "SUCCESS")
	if jsonText(t, done["output"])["text"] != "Hello, Ada!" || jsonText(t, done["params"])["env"].(map[string]any)["k"] != float64(1) {
		t.Fatalf("finished execution: %v", done)
	}
	// The same client id again finds the first execution, it starts no second one.
	again := e.want(e.do("POST", "/v2/executions", "application/json", body), http.StatusCreated, "repeat")
	if again.body["state"] != "SUCCESS" {
		t.Fatalf("a repeat with the same id: %s", again.raw)
	}
	e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_id": "`+e.do("GET", "/v2/workflows/hello", "", "").body["id"].(string)+`", "input": {"name": "Bo"}}`), http.StatusCreated, "start by workflow_id")

	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "nope"}`), http.StatusNotFound, "Workflow not found")
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": "{not json"}`), http.StatusBadRequest, `"input"`)
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": "[1]"}`), http.StatusBadRequest, `"input" must be a JSON object`)
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello"}`), http.StatusBadRequest, "name")
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "id": "a/b", "input": {"name": "x"}}`), http.StatusBadRequest, `"id"`)
	e.wantFault(e.do("POST", "/v2/executions", "application/json", `{}`), http.StatusBadRequest, "workflow_name")

	// Paging: limit and the next link's marker, as the client sends them back.
	p1 := e.want(e.do("GET", "/v2/executions?limit=1&sort_keys=created_at&sort_dirs=asc", "", ""), http.StatusOK, "page 1")
	next, _ := p1.body["next"].(string)
	if len(p1.body["executions"].([]any)) != 1 || !strings.Contains(next, "marker=") {
		t.Fatalf("page 1: %s", p1.raw)
	}
	p2 := e.want(e.do("GET", strings.TrimPrefix(next, e.srv.URL), "", ""), http.StatusOK, "page 2")
	if len(p2.body["executions"].([]any)) != 1 || p2.body["executions"].([]any)[0].(map[string]any)["id"] == p1.body["executions"].([]any)[0].(map[string]any)["id"] {
		t.Fatalf("page 2: %s", p2.raw)
	}
	e.wantFault(e.do("GET", "/v2/executions?marker=zzz", "", ""), http.StatusBadRequest, `"marker"`)
	e.wantFault(e.do("GET", "/v2/executions?state=NOPE", "", ""), http.StatusBadRequest, `"state"`)
	e.wantFault(e.do("GET", "/v2/executions/nope", "", ""), http.StatusNotFound, "WorkflowExecution not found")
	e.wantFault(e.do("PUT", "/v2/executions/6f1b2a3c-0000-4000-8000-000000000001", "application/json", `{"state": "PAUSED"}`), http.StatusConflict, "SUCCESS")
	e.wantFault(e.do("PUT", "/v2/executions/6f1b2a3c-0000-4000-8000-000000000001", "application/json", `{"state": "BOGUS"}`), http.StatusBadRequest, `"state"`)
	e.wantFault(e.do("GET", "/v2/nothing", "", ""), http.StatusNotFound, "no GET /v2/nothing")
	if h := e.do("GET", "/healthz", "", ""); h.body["status"] != "ok" {
		t.Fatalf("Lazyflow's own API beside /v2: %s", h.raw)
	}
}

func TestDelegateCompletesThroughActionExecutionPut(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", delegated), http.StatusCreated, "create")
	ex := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusCreated, "start").body["id"].(string)
	cb := <-e.cbCh
	if cb.MistralURL != "http://example.test/v2/action_executions/"+cb.Token {
		t.Fatalf("Mistral callback URL %q", cb.MistralURL)
	}
	tasks := e.do("GET", "/v2/executions/"+ex+"/tasks", "", "").body["tasks"].([]any)
	task := tasks[0].(map[string]any)
	if task["name"] != "ask" || task["state"] != "RUNNING" || task["type"] != "ACTION" {
		t.Fatalf("task: %v", task)
	}
	ax := e.do("GET", "/v2/tasks/"+task["id"].(string)+"/action_executions", "", "").body["action_executions"].([]any)
	if len(ax) != 1 || ax[0].(map[string]any)["name"] != "test.delegate" || ax[0].(map[string]any)["state"] != "RUNNING" {
		t.Fatalf("action executions: %v", ax)
	}
	path := "/v2/action_executions/" + cb.Token
	e.wantFault(e.do("PUT", path, "application/json", `{"state": "DONE"}`), http.StatusBadRequest, `"state"`)
	e.wantFault(e.do("PUT", "/v2/action_executions/x"+cb.Token, "application/json", `{"state": "SUCCESS"}`), http.StatusForbidden, "not valid")
	r := e.want(e.do("PUT", path, "application/json", `{"state": "SUCCESS", "output": "{\"answer\": 42}"}`), http.StatusOK, "complete")
	if r.body["id"] != cb.Token || r.body["state"] != "SUCCESS" {
		t.Fatalf("completed action execution: %s", r.raw)
	}
	done := e.waitState(ex, "SUCCESS")
	if jsonText(t, done["output"])["answer"] != float64(42) {
		t.Fatalf("output: %v", done["output"])
	}
	// A second result for the same attempt changes nothing.
	e.wantFault(e.do("PUT", path, "application/json", `{"state": "ERROR", "output": "late"}`), http.StatusConflict, "no longer running")
	if got := e.waitState(ex, "SUCCESS"); jsonText(t, got["output"])["answer"] != float64(42) {
		t.Fatalf("a late PUT changed the execution: %v", got)
	}
}

func TestExecutionStateChanges(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", delegated), http.StatusCreated, "create")
	start := func() string {
		id := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusCreated, "start").body["id"].(string)
		<-e.cbCh
		return id
	}
	ex := start()
	for _, st := range []string{"PAUSED", "RUNNING", "CANCELLED"} {
		r := e.want(e.do("PUT", "/v2/executions/"+ex, "application/json", `{"state": "`+st+`"}`), http.StatusOK, st)
		if r.body["state"] != st {
			t.Fatalf("PUT state %s: %s", st, r.raw)
		}
	}
	e.wantFault(e.do("PUT", "/v2/executions/"+ex, "application/json", `{"state": "RUNNING"}`), http.StatusConflict, "CANCELLED")

	ex = start()
	r := e.want(e.do("PUT", "/v2/executions/"+ex, "application/json", `{"state": "ERROR", "state_info": "stopped by the operator"}`), http.StatusOK, "fail")
	if r.body["state"] != "ERROR" || r.body["state_info"] != "stopped by the operator" {
		t.Fatalf("PUT state ERROR: %s", r.raw)
	}
	task := e.do("GET", "/v2/tasks?workflow_execution_id="+ex, "", "").body["tasks"].([]any)[0].(map[string]any)
	e.wantFault(e.do("PUT", "/v2/tasks/"+task["id"].(string), "application/json", `{"state": "SUCCESS"}`), http.StatusBadRequest, "RUNNING")
	e.wantFault(e.do("GET", "/v2/tasks/nope", "", ""), http.StatusNotFound, "Task not found")
}

func TestRerunOfAFailedDelegateTask(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", delegated), http.StatusCreated, "create")
	ex := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "delegated"}`), http.StatusCreated, "start").body["id"].(string)
	first := <-e.cbCh
	e.want(e.do("PUT", "/v2/action_executions/"+first.Token, "application/json", `{"state": "ERROR", "output": "backend down"}`), http.StatusOK, "fail")
	failed := e.waitState(ex, "ERROR")
	if !strings.Contains(failed["state_info"].(string), "backend down") {
		t.Fatalf("state_info: %v", failed["state_info"])
	}
	task := e.do("GET", "/v2/executions/"+ex+"/tasks", "", "").body["tasks"].([]any)[0].(map[string]any)
	r := e.want(e.do("PUT", "/v2/tasks/"+task["id"].(string), "application/json", `{"id": "`+task["id"].(string)+`", "state": "RUNNING", "reset": true}`), http.StatusOK, "rerun")
	if r.body["state"] != "RUNNING" {
		t.Fatalf("rerun: %s", r.raw)
	}
	second := <-e.cbCh
	if second.Token == first.Token {
		t.Fatal("the rerun's attempt has the first attempt's id")
	}
	e.wantFault(e.do("PUT", "/v2/tasks/"+task["id"].(string), "application/json", `{"state": "RUNNING"}`), http.StatusBadRequest, "only a task in ERROR")
	e.want(e.do("PUT", "/v2/action_executions/"+second.Token, "application/json", `{"state": "SUCCESS", "output": {"answer": 1}}`), http.StatusOK, "complete")
	e.waitState(ex, "SUCCESS")
	e.wantFault(e.do("DELETE", "/v2/tasks/"+task["id"].(string), "", ""), http.StatusNotFound, "no DELETE")
}

// Mistral's API shows an execution's input (JSON text) in the order the
// client wrote it, the workflow's defaults after it.
func TestExecutionInputTextKeepsOrder(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", `version: '2.0'
ordered:
  input: [zed, mid, {alpha: 3}]
  tasks:
    t:
      action: std.noop
`), http.StatusCreated, "create")
	body := `{"workflow_name": "ordered", "input": "{\"mid\": 1, \"zed\": 0}", "id": "6f1b2a3c-0000-4000-8000-0000000000a1"}`
	want := `{"mid":1,"zed":0,"alpha":3}`
	if r := e.want(e.do("POST", "/v2/executions", "application/json", body), http.StatusCreated, "start"); r.body["input"] != want {
		t.Fatalf("start input %v, want %s", r.body["input"], want)
	}
	if done := e.waitState("6f1b2a3c-0000-4000-8000-0000000000a1", "SUCCESS"); done["input"] != want {
		t.Fatalf("GET input %v, want %s", done["input"], want)
	}
}
