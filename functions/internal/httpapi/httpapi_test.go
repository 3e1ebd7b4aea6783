package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// env is the API over a real embedded host with memory drivers, so
// executions really run.
type env struct {
	t    *testing.T
	h    *embedded.Host
	api  *httpapi.API
	srv  *httptest.Server
	mu   sync.Mutex
	cbs  []actions.Callback
	cbCh chan actions.Callback
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	if st == nil {
		st = kvstore.NewMemory()
	}
	reg := actions.New()
	e := &env{t: t, cbCh: make(chan actions.Callback, 16)}
	// A delegate action that records its callback, standing in for a third
	// party that keeps the URL and posts later.
	reg.RegisterAsync("test.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
		e.mu.Lock()
		e.cbs = append(e.cbs, cb)
		e.mu.Unlock()
		e.cbCh <- cb
		return nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.h = embedded.New(embedded.Options{Store: st, Actions: reg, Log: log})
	e.h.CallbackKey = key
	e.h.CallbackURL = "http://example.test/callbacks/"
	ctx, cancel := context.WithCancel(context.Background())
	e.h.Run(ctx)
	t.Cleanup(func() { cancel(); e.h.Close() })
	e.api = httpapi.New(e.h.Service, httpapi.Options{Log: log, MaxBody: 64 << 10})
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	return e
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, ctype, body string, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, raw)
	}
	return r
}

func (e *env) json(method, path, body string, hdr ...string) response {
	return e.do(method, path, "application/json", body, hdr...)
}

// wantError checks the one error shape.
func wantError(t *testing.T, r response, status int, code, field string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	er, ok := value.AsGoMap(r.body["error"])
	if !ok {
		t.Fatalf("no error object: %s", r.raw)
	}
	if er["code"] != code {
		t.Fatalf("code %v, want %s: %s", er["code"], code, r.raw)
	}
	if f, _ := er["field"].(string); f != field {
		t.Fatalf("field %q, want %q: %s", f, field, r.raw)
	}
	if m, _ := er["message"].(string); m == "" {
		t.Fatalf("empty message: %s", r.raw)
	}
	return er
}

func (e *env) register(src string) {
	e.t.Helper()
	if r := e.do("POST", "/workflows", "text/yaml", src); r.status != 200 {
		e.t.Fatalf("register: %d %s", r.status, r.raw)
	}
}

func (e *env) start(wf string, input string, hdr ...string) response {
	e.t.Helper()
	body := fmt.Sprintf(`{"workflow": %q, "input": %s}`, wf, input)
	return e.json("POST", "/executions", body, hdr...)
}

func (e *env) wait(id string, want engine.State) response {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := e.json("GET", "/executions/"+id, "")
		if r.body["state"] == string(want) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution %s: state %v, want %s: %s", id, r.body["state"], want, r.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const hello = `
version: '2.0'
hello:
  input:
    - name
  output:
    greeting: <% $.greeting %>
  tasks:
    greet:
      action: std.echo
      input:
        output: <% 'Hello, ' + $.name %>
      publish:
        greeting: <% task().result %>
`

const delegate = `
version: '2.0'
delegated:
  tasks:
    ask:
      action: test.delegate
      publish:
        answer: <% task().result %>
  output:
    answer: <% $.answer %>
`

const failing = `
version: '2.0'
failing:
  tasks:
    boom:
      action: std.fail
`

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r := e.json("GET", "/openapi.json", "")
	if r.status != 200 {
		t.Fatalf("GET /openapi.json: %d", r.status)
	}
	if err := json.Unmarshal([]byte(r.raw), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var inDoc, inRouter []string
	for p, ops := range doc.Paths {
		for m := range ops {
			inDoc = append(inDoc, strings.ToUpper(m)+" "+p)
		}
	}
	for _, rt := range e.api.Routes() {
		inRouter = append(inRouter, rt.Method+" "+rt.Path)
	}
	sort.Strings(inDoc)
	sort.Strings(inRouter)
	if strings.Join(inDoc, "\n") != strings.Join(inRouter, "\n") {
		t.Fatalf("OpenAPI paths and routes differ:\ndocument:\n  %s\nrouter:\n  %s", strings.Join(inDoc, "\n  "), strings.Join(inRouter, "\n  "))
	}
}

func TestHealthzAndUnknownRoutes(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.json("GET", "/healthz", ""); r.status != 200 || r.body["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.raw)
	}
	wantError(t, e.json("GET", "/nope", ""), 404, httpapi.CodeNotFound, "")
	r := e.json("DELETE", "/workflows", "")
	wantError(t, r, 405, httpapi.CodeMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
}

func TestRegisterAndGetWorkflows(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/workflows", "application/x-yaml", hello)
	if r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	wfs := r.body["workflows"].([]any)
	if len(wfs) != 1 || wfs[0].(map[string]any)["name"] != "hello" {
		t.Fatalf("registered %v", wfs)
	}
	r = e.json("POST", "/workflows", fmt.Sprintf(`{"definition": %q}`, failing))
	if r.status != 200 {
		t.Fatalf("register JSON: %d %s", r.status, r.raw)
	}
	r = e.json("GET", "/workflows", "")
	names := []string{}
	for _, w := range r.body["workflows"].([]any) {
		names = append(names, w.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "failing,hello" {
		t.Fatalf("list: %v", names)
	}
	r = e.json("GET", "/workflows/hello", "")
	if r.status != 200 || r.body["source"] != hello || r.body["def_id"] == "" {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	er := wantError(t, e.json("GET", "/workflows/nope", ""), 404, httpapi.CodeNotFound, "name")
	if !strings.Contains(er["message"].(string), `"nope"`) {
		t.Fatalf("message does not name the workflow: %v", er["message"])
	}
}

// A workbook's workflows are wb.wf (Mistral's names) and, for convenience,
// their short names, which never replace a workflow registered on its
// own: that one stays, and the response warns. Warnings also carry what
// Mistral accepts but looks wrong.
func TestWorkbookShortNamesAndWarnings(t *testing.T) {
	e := newEnv(t, nil)
	e.register("version: '2.0'\nhello:\n  tasks:\n    a:\n      action: std.noop\n")
	own := e.json("GET", "/workflows/hello", "").body["def_id"]
	wb := "version: '2.0'\nname: wb\nworkflows:\n  hello:\n    tasks:\n      b:\n        action: std.noop\n  other:\n    source: x\n    tasks:\n      c:\n        action: std.noop\n"
	r := e.do("POST", "/workflows", "text/yaml", wb)
	if r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.raw)
	}
	ws, _ := r.body["warnings"].([]any)
	if len(ws) != 2 || !strings.Contains(fmt.Sprint(ws), `registered as wb.hello only`) || !strings.Contains(fmt.Sprint(ws), `unknown key "source"`) {
		t.Fatalf("warnings %v", r.body["warnings"])
	}
	if got := e.json("GET", "/workflows/hello", "").body["def_id"]; got != own {
		t.Fatalf("the standalone hello was replaced: %v, want %v", got, own)
	}
	for _, n := range []string{"wb.hello", "wb.other", "other"} {
		if r := e.json("GET", "/workflows/"+n, ""); r.status != 200 {
			t.Fatalf("%s: %d", n, r.status)
		}
	}
}

func TestRegisterInvalidListsEveryProblem(t *testing.T) {
	e := newEnv(t, nil)
	src := "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: missing\n    b:\n      acton: std.noop\n"
	r := e.json("POST", "/workflows", fmt.Sprintf(`{"definition": %q, "file": "mine.yaml"}`, src))
	er := wantError(t, r, 400, httpapi.CodeInvalidWorkflow, "definition")
	probs := er["problems"].([]any)
	if len(probs) != 2 {
		t.Fatalf("want 2 problems: %s", r.raw)
	}
	p0 := probs[0].(map[string]any)
	if p0["at"] != "mine.yaml:6:19" || p0["line"] != float64(6) || !strings.Contains(p0["message"].(string), "missing") {
		t.Fatalf("first problem %v", p0)
	}
	p1 := probs[1].(map[string]any)
	if !strings.HasPrefix(p1["at"].(string), "mine.yaml:8:") || !strings.Contains(p1["message"].(string), `did you mean "action"`) {
		t.Fatalf("second problem %v", p1)
	}
	// Not YAML at all, sent as YAML.
	er = wantError(t, e.do("POST", "/workflows", "text/yaml", "version: '2.0'\nwf: [\n"), 400, httpapi.CodeInvalidWorkflow, "definition")
	if !strings.HasPrefix(er["problems"].([]any)[0].(map[string]any)["at"].(string), "workflow.yaml:") {
		t.Fatalf("problem %v", er["problems"])
	}
	wantError(t, e.do("POST", "/workflows", "text/yaml", "  \n"), 400, httpapi.CodeInvalidWorkflow, "definition")
	wantError(t, e.do("POST", "/workflows", "image/png", "x"), 415, httpapi.CodeUnsupportedMedia, "")
	wantError(t, e.json("POST", "/workflows", `{"definition": 3}`), 400, httpapi.CodeInvalidJSON, "definition")
	// Nothing was stored by the failed attempts.
	if r := e.json("GET", "/workflows", ""); len(r.body["workflows"].([]any)) != 0 {
		t.Fatalf("invalid definitions were stored: %s", r.raw)
	}
}

func TestStartRunsToSuccessAndShowsTasks(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	r := e.start("hello", `{"name": "Ada"}`)
	if r.status != 201 || r.header.Get("Location") != "/executions/"+r.body["id"].(string) {
		t.Fatalf("start: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	r = e.wait(id, engine.Success)
	if out := r.body["output"].(map[string]any); out["greeting"] != "Hello, Ada" {
		t.Fatalf("output %v", r.body["output"])
	}
	if r.body["input"].(map[string]any)["name"] != "Ada" || r.body["created"] == "" || r.body["updated"] == "" {
		t.Fatalf("execution %s", r.raw)
	}
	tasks := r.body["tasks"].([]any)
	if len(tasks) != 1 {
		t.Fatalf("tasks %v", tasks)
	}
	tk := tasks[0].(map[string]any)
	if tk["name"] != "greet" || tk["key"] != "greet" || tk["state"] != "SUCCESS" || tk["attempt"] != float64(1) ||
		tk["published"].(map[string]any)["greeting"] != "Hello, Ada" || tk["result"] != "Hello, Ada" || tk["id"] != id+"/greet" {
		t.Fatalf("task %v", tk)
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	a := e.start("hello", `{"name": "A"}`, "Idempotency-Key", "order-17")
	b := e.start("hello", `{"name": "A"}`, "Idempotency-Key", "order-17")
	c := e.start("hello", `{"name": "A"}`, "Idempotency-Key", "order-18")
	if a.status != 201 || b.status != 200 || c.status != 201 {
		t.Fatalf("statuses %d %d %d", a.status, b.status, c.status)
	}
	if a.body["id"] != b.body["id"] || a.body["id"] == c.body["id"] {
		t.Fatalf("ids %v %v %v", a.body["id"], b.body["id"], c.body["id"])
	}
	// The repeat shows the execution as it was started, input included.
	if in, _ := value.AsGoMap(b.body["input"]); in["name"] != "A" {
		t.Fatalf("repeat's input %v, want the request's", b.body["input"])
	}
	e.wait(a.body["id"].(string), engine.Success)
	r := e.json("GET", "/executions?workflow=hello", "")
	if len(r.body["executions"].([]any)) != 2 {
		t.Fatalf("want 2 executions, got %s", r.raw)
	}
	// The list leaves the input out (it is kept beside the head) rather
	// than show an empty one.
	if _, has := r.body["executions"].([]any)[0].(map[string]any)["input"]; has {
		t.Fatalf("list rows carry an input: %s", r.raw)
	}
	wantError(t, e.start("hello", `{"name": "A"}`, "Idempotency-Key", strings.Repeat("k", 300)), 400, httpapi.CodeBadRequest, "Idempotency-Key")
	// The same key for a different request is refused, not silently mapped
	// to the first execution.
	wantError(t, e.start("hello", `{"name": "B"}`, "Idempotency-Key", "order-17"), 409, httpapi.CodeConflict, "Idempotency-Key")
}

func TestStartErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	er := wantError(t, e.start("nope", `{}`), 404, httpapi.CodeNotFound, "workflow")
	if !strings.Contains(er["message"].(string), `"nope"`) {
		t.Fatalf("message %v", er["message"])
	}
	er = wantError(t, e.json("POST", "/executions", `{"workflow": "hello", "input": {"name": "x"`), 400, httpapi.CodeInvalidJSON, "")
	if !strings.Contains(er["message"].(string), "not valid JSON") {
		t.Fatalf("message %v", er["message"])
	}
	er = wantError(t, e.json("POST", "/executions", "{\"workflow\": \"hello\",\n \"input\": {name: 1}}"), 400, httpapi.CodeInvalidJSON, "")
	if !strings.Contains(er["message"].(string), "line 2") {
		t.Fatalf("message does not say where: %v", er["message"])
	}
	wantError(t, e.json("POST", "/executions", ``), 400, httpapi.CodeInvalidJSON, "")
	wantError(t, e.json("POST", "/executions", `[1]`), 400, httpapi.CodeInvalidJSON, "")
	wantError(t, e.json("POST", "/executions", `{"workflow": 7}`), 400, httpapi.CodeInvalidJSON, "workflow")
	// A misspelt field is named, with the fields the body takes.
	er = wantError(t, e.json("POST", "/executions", `{"workflow": "hello", "inputs": {}}`), 400, httpapi.CodeInvalidJSON, "inputs")
	if msg := er["message"].(string); !strings.Contains(msg, `"inputs"`) || !strings.Contains(msg, "workflow, input, env, target") {
		t.Fatalf("an unknown field's message should list the fields the body takes: %v", msg)
	}
	wantError(t, e.json("POST", "/executions", `{"input": {}}`), 400, httpapi.CodeInvalidInput, "workflow")
	wantError(t, e.start("hello", `[1, 2]`), 400, httpapi.CodeInvalidInput, "input")
	wantError(t, e.json("POST", "/executions", `{"workflow": "hello", "input": {"name": 1}, "env": "x"}`), 400, httpapi.CodeInvalidInput, "env")
	er = wantError(t, e.start("hello", `{}`), 400, httpapi.CodeInvalidInput, "input")
	if msg := er["message"].(string); !strings.Contains(msg, "name") || strings.Contains(msg, "ex-") || strings.Contains(msg, "refused") {
		t.Fatalf("message should name the missing input and nothing made up: %v", er["message"])
	}
	wantError(t, e.start("hello", `{"name": 1, "extra": 2}`), 400, httpapi.CodeInvalidInput, "input")
	// A misspelt input is both missing and unexpected: both are said, with
	// the name it was likely meant to be.
	er = wantError(t, e.start("hello", `{"nme": 1}`), 400, httpapi.CodeInvalidInput, "input")
	if msg := er["message"].(string); !strings.Contains(msg, "missing required input name; unexpected input nme (did you mean name?)") {
		t.Fatalf("message %q", msg)
	}
	// A number no float can hold is refused where it is, not kept as a string.
	er = wantError(t, e.start("hello", `{"name": 1e400}`), 400, httpapi.CodeInvalidInput, "input.name")
	if !strings.Contains(er["message"].(string), "1e400") {
		t.Fatalf("message %v", er["message"])
	}
	big := `{"name": "` + strings.Repeat("x", 70<<10) + `"}`
	wantError(t, e.start("hello", big), 413, httpapi.CodeTooLarge, "")
	if r := e.json("GET", "/executions", ""); len(r.body["executions"].([]any)) != 0 {
		t.Fatalf("failed starts created executions: %s", r.raw)
	}
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	e.register(failing)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.start("hello", fmt.Sprintf(`{"name": "n%d"}`, i)).body["id"].(string))
		time.Sleep(2 * time.Millisecond)
	}
	f := e.start("failing", `{}`).body["id"].(string)
	for _, id := range ids {
		e.wait(id, engine.Success)
	}
	e.wait(f, engine.Error)
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		// The cursor goes into the URL as given: it must be URL-safe (a
		// store key with '#' once cut it short and repeated one page forever).
		r := e.json("GET", "/executions?workflow=hello&limit=2&cursor="+cursor, "")
		if r.status != 200 {
			t.Fatalf("list: %s", r.raw)
		}
		pages++
		for _, x := range r.body["executions"].([]any) {
			id := x.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s on two pages", id)
			}
			seen[id] = true
		}
		c, _ := r.body["next_cursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("saw %d executions on %d pages", len(seen), pages)
	}
	r := e.json("GET", "/executions?state=error", "")
	if xs := r.body["executions"].([]any); len(xs) != 1 || xs[0].(map[string]any)["id"] != f {
		t.Fatalf("state filter: %s", r.raw)
	}
	wantError(t, e.json("GET", "/executions?state=DONE", ""), 400, httpapi.CodeBadRequest, "state")
	wantError(t, e.json("GET", "/executions?limit=0", ""), 400, httpapi.CodeBadRequest, "limit")
	wantError(t, e.json("GET", "/executions?limit=x", ""), 400, httpapi.CodeBadRequest, "limit")
	wantError(t, e.json("GET", "/executions?cursor=zzz", ""), 400, httpapi.CodeBadRequest, "cursor")
	wantError(t, e.json("GET", "/executions?cursor=c1.", ""), 400, httpapi.CodeBadRequest, "cursor")
	wantError(t, e.json("GET", "/executions/ex-nope", ""), 404, httpapi.CodeNotFound, "id")
}

func TestPauseResumeCancel(t *testing.T) {
	e := newEnv(t, nil)
	e.register(delegate)
	e.register(hello)
	id := e.start("delegated", `{}`).body["id"].(string)
	<-e.cbCh
	r := e.json("POST", "/executions/"+id+"/pause", "")
	if r.status != 200 || r.body["state"] != "PAUSED" {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	er := wantError(t, e.json("POST", "/executions/"+id+"/pause", ""), 409, httpapi.CodeInvalidState, "")
	if !strings.Contains(er["message"].(string), "PAUSED") {
		t.Fatalf("message %v", er["message"])
	}
	if r := e.json("POST", "/executions/"+id+"/resume", ""); r.status != 200 || r.body["state"] != "RUNNING" {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	if r := e.json("POST", "/executions/"+id+"/cancel", ""); r.status != 200 || r.body["state"] != "CANCELLED" {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	wantError(t, e.json("POST", "/executions/"+id+"/resume", ""), 409, httpapi.CodeInvalidState, "")
	// Pause of a finished execution.
	done := e.start("hello", `{"name": "x"}`).body["id"].(string)
	e.wait(done, engine.Success)
	er = wantError(t, e.json("POST", "/executions/"+done+"/pause", ""), 409, httpapi.CodeInvalidState, "")
	if msg := er["message"].(string); !strings.Contains(msg, "SUCCESS") || !strings.Contains(msg, "needs RUNNING") || strings.Count(msg, done) != 1 {
		t.Fatalf("message %q: want the state and what pause needs, the execution named once", msg)
	}
	wantError(t, e.json("POST", "/executions/ex-missing/cancel", ""), 404, httpapi.CodeNotFound, "id")
}

func TestRerun(t *testing.T) {
	e := newEnv(t, nil)
	e.register(failing)
	e.register(hello)
	id := e.start("failing", `{}`).body["id"].(string)
	e.wait(id, engine.Error)
	r := e.json("POST", "/tasks/"+url.PathEscape(id+"/boom")+"/rerun", "")
	if r.status != 200 || r.body["state"] != "RUNNING" {
		t.Fatalf("rerun: %d %s", r.status, r.raw)
	}
	r = e.wait(id, engine.Error)
	if tk := r.body["tasks"].([]any)[0].(map[string]any); tk["attempt"].(float64) < 2 && len(r.body["tasks"].([]any)) < 2 {
		t.Fatalf("task did not run again: %s", r.raw)
	}
	// The two-segment form, as API Gateway's REST payload delivers a decoded path.
	if r := e.json("POST", "/tasks/"+id+"/boom/rerun", ""); r.status != 200 {
		t.Fatalf("rerun by key: %d %s", r.status, r.raw)
	}
	e.wait(id, engine.Error)
	wantError(t, e.json("POST", "/tasks/"+url.PathEscape(id+"/nope")+"/rerun", ""), 404, httpapi.CodeNotFound, "id")
	wantError(t, e.json("POST", "/tasks/"+id+"/rerun", ""), 400, httpapi.CodeBadRequest, "id")
	ok := e.start("hello", `{"name": "x"}`).body["id"].(string)
	e.wait(ok, engine.Success)
	wantError(t, e.json("POST", "/tasks/"+url.PathEscape(ok+"/greet")+"/rerun", ""), 409, httpapi.CodeInvalidState, "")
	// A failed execution whose named task succeeded: the task is the problem.
	e.register("version: '2.0'\ntwo:\n  tasks:\n    fine:\n      action: std.noop\n      on-success: boom\n    boom:\n      action: std.fail\n")
	two := e.start("two", `{}`).body["id"].(string)
	e.wait(two, engine.Error)
	er := wantError(t, e.json("POST", "/tasks/"+url.PathEscape(two+"/fine")+"/rerun", ""), 409, httpapi.CodeInvalidState, "task")
	want := fmt.Sprintf("cannot rerun task \"fine\" of execution %s: it is SUCCESS, and only a task that failed (ERROR) can be rerun", two)
	if msg := er["message"].(string); msg != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
}

func tokenOf(t *testing.T, cb actions.Callback) string {
	t.Helper()
	tok, ok := strings.CutPrefix(cb.URL, "http://example.test/callbacks/")
	if !ok || tok != cb.Token {
		t.Fatalf("callback URL %q does not end in its token", cb.URL)
	}
	return tok
}

func TestCallbacks(t *testing.T) {
	e := newEnv(t, nil)
	e.register(delegate)
	id := e.start("delegated", `{}`).body["id"].(string)
	tok := tokenOf(t, <-e.cbCh)

	// Forged: a valid payload with a signature made with another key.
	claims := callback.Claims{Exec: id, Task: "ask", Slot: -1, Attempt: 1, Expires: time.Now().Add(time.Hour).Unix()}
	forged, _ := callback.Sign([]byte("another key, 32 bytes long......"), claims)
	wantError(t, e.json("POST", "/callbacks/"+forged, `{"state": "SUCCESS", "output": 1}`), 403, httpapi.CodeCallbackForged, "token")
	wantError(t, e.json("POST", "/callbacks/garbage", `{"state": "SUCCESS"}`), 403, httpapi.CodeCallbackForged, "token")
	tampered := strings.Replace(tok, tok[:5], "AAAAA", 1)
	wantError(t, e.json("POST", "/callbacks/"+tampered, `{"state": "SUCCESS"}`), 403, httpapi.CodeCallbackForged, "token")
	wantError(t, e.json("POST", "/callbacks/"+forged+"/heartbeat", ``), 403, httpapi.CodeCallbackForged, "token")
	claims.Expires = time.Now().Add(-time.Minute).Unix()
	expired, _ := callback.Sign(key, claims)
	wantError(t, e.json("POST", "/callbacks/"+expired, `{"state": "SUCCESS"}`), 401, httpapi.CodeCallbackExpired, "token")
	// Bad bodies with a good token change nothing either.
	wantError(t, e.json("POST", "/callbacks/"+tok, `{"state": "DONE"}`), 400, httpapi.CodeBadRequest, "state")
	wantError(t, e.json("POST", "/callbacks/"+tok, `{"state": "SUCCESS", `), 400, httpapi.CodeInvalidJSON, "")
	if r := e.json("GET", "/executions/"+id, ""); r.body["state"] != "RUNNING" {
		t.Fatalf("rejected callbacks changed the execution: %s", r.raw)
	}

	if r := e.json("POST", "/callbacks/"+tok+"/heartbeat", ``); r.status != 202 {
		t.Fatalf("heartbeat: %d %s", r.status, r.raw)
	}
	if r := e.json("POST", "/callbacks/"+tok, `{"state": "SUCCESS", "output": {"answer": 42}}`); r.status != 202 {
		t.Fatalf("callback: %d %s", r.status, r.raw)
	}
	r := e.wait(id, engine.Success)
	if out := r.body["output"].(map[string]any); out["answer"].(map[string]any)["answer"] != float64(42) {
		t.Fatalf("output %s", r.raw)
	}
	// Replayed: the attempt is finished, so nothing changes.
	wantError(t, e.json("POST", "/callbacks/"+tok, `{"state": "ERROR", "error": "late"}`), 409, httpapi.CodeCallbackStale, "token")
	wantError(t, e.json("POST", "/callbacks/"+tok+"/heartbeat", ``), 409, httpapi.CodeCallbackStale, "token")
	if r := e.json("GET", "/executions/"+id, ""); r.body["state"] != "SUCCESS" {
		t.Fatalf("replay changed the execution: %s", r.raw)
	}
}

func TestCallbackError(t *testing.T) {
	e := newEnv(t, nil)
	e.register(delegate)
	id := e.start("delegated", `{}`).body["id"].(string)
	tok := tokenOf(t, <-e.cbCh)
	if r := e.json("POST", "/callbacks/"+tok, `{"state": "ERROR", "error": "the printer is on fire"}`); r.status != 202 {
		t.Fatalf("callback: %d %s", r.status, r.raw)
	}
	r := e.wait(id, engine.Error)
	if !strings.Contains(r.raw, "the printer is on fire") {
		t.Fatalf("error not kept: %s", r.raw)
	}
}

// panicStore is a real memory store whose ListDefinitions panics, to prove
// that no panic reaches a client. (A mock only in that one method.)
type panicStore struct{ *kvstore.Store }

func (panicStore) ListDefinitions(context.Context) ([]*engine.Definition, error) { panic("boom") }

func TestPanicBecomes500(t *testing.T) {
	e := newEnv(t, panicStore{kvstore.NewMemory()})
	er := wantError(t, e.json("GET", "/workflows", ""), 500, httpapi.CodeInternal, "")
	if strings.Contains(er["message"].(string), "boom") {
		t.Fatalf("panic value leaked to the client: %v", er["message"])
	}
	if r := e.json("GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("server did not survive: %d", r.status)
	}
}

// TestExecutionJSONKeepsDictOrder: the API shows a dict in the order its
// keys were written (the request's JSON, the publish clause, the output
// clause), as Mistral's API does.
func TestExecutionJSONKeepsDictOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.register(`
version: '2.0'
ordered:
  input: [doc]
  output:
    zulu: '{{ _.copied }}'
    alpha: '{{ _.doc.alpha }}'
  tasks:
    t1:
      action: std.echo output='{{ _.doc }}'
      publish: {copied: '{{ task().result }}', b: 1, a: 2}
`)
	r := e.start("ordered", `{"doc": {"zeta": 1, "alpha": {"y": 2, "x": 3}, "mid": [{"b": 1, "a": 2}]}}`)
	if r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.raw)
	}
	r = e.wait(r.body["id"].(string), engine.Success)
	v, err := value.FromJSON([]byte(r.raw))
	if err != nil {
		t.Fatal(err)
	}
	ex := v.(*value.Map)
	doc := `{"zeta": 1, "alpha": {"y": 2, "x": 3}, "mid": [{"b": 1, "a": 2}]}`
	if got, want := value.JSON(ex.Value("output"), -1, false), `{"zulu": `+doc+`, "alpha": {"y": 2, "x": 3}}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
	if got := value.JSON(ex.Value("input").(*value.Map).Value("doc"), -1, false); got != doc {
		t.Errorf("input %s, want %s", got, doc)
	}
	tk := ex.Value("tasks").([]any)[0].(*value.Map)
	if got, want := value.JSON(tk.Value("published"), -1, false), `{"copied": `+doc+`, "b": 1, "a": 2}`; got != want {
		t.Errorf("published %s, want %s", got, want)
	}
	if got := value.JSON(tk.Value("result"), -1, false); got != doc {
		t.Errorf("result %s, want %s", got, doc)
	}
}

// TestExecutionInputKeepsTopLevelOrder: the input shows the keys in the
// order the request gave them, then the defaults of what it lacked in the
// order the workflow declares them, as Mistral's API does; a sub-workflow
// sees its input in the order of the calling task's input clause.
func TestExecutionInputKeepsTopLevelOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.register(`
version: '2.0'
parent:
  input: [zed, mid, {bee: 2}, {alpha: 3}]
  output:
    child_input: <% task(call).result.seen %>
  tasks:
    call:
      workflow: child
      input: {yak: 1, cow: 2}
child:
  input: [cow, yak, {ant: 9}]
  output:
    seen: <% execution().input %>
  tasks:
    t:
      action: std.noop
`)
	r := e.start("parent", `{"mid": 1, "zed": 0}`)
	if r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.raw)
	}
	want := `{"mid": 1, "zed": 0, "bee": 2, "alpha": 3}`
	if got := orderedMember(t, r.raw, "input"); got != want {
		t.Errorf("start response input %s, want %s", got, want)
	}
	r = e.wait(r.body["id"].(string), engine.Success)
	if got := orderedMember(t, r.raw, "input"); got != want {
		t.Errorf("GET input %s, want %s", got, want)
	}
	if got, want := orderedMember(t, r.raw, "output"), `{"child_input": {"yak": 1, "cow": 2, "ant": 9}}`; got != want {
		t.Errorf("output %s, want %s", got, want)
	}
}

// orderedMember is member name of the JSON object raw, as JSON in the
// order its keys were written.
func orderedMember(t *testing.T, raw, name string) string {
	t.Helper()
	v, err := value.FromJSON([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(*value.Map)
	if !ok {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return value.JSON(m.Value(name), -1, false)
}

// corruptHeadStore is a real memory store whose Execution answers as a
// driver does for a head record it cannot decode.
type corruptHeadStore struct{ *kvstore.Store }

func (corruptHeadStore) Execution(_ context.Context, id string) (*engine.Execution, error) {
	var v map[string]any
	err := json.Unmarshal([]byte("{this record is corrupt"), &v)
	return nil, fmt.Errorf("decode execution %s: %w: %w", id, store.ErrCorrupt, err)
}

// An unreadable stored record is a 500 whose message names the record and
// why it cannot be read: what its repair needs, visible to the caller
// without the server's logs.
func TestCorruptRecordNamedIn500(t *testing.T) {
	e := newEnv(t, corruptHeadStore{kvstore.NewMemory()})
	er := wantError(t, e.json("GET", "/executions/e-1", ""), 500, httpapi.CodeInternal, "")
	msg := er["message"].(string)
	for _, want := range []string{"decode execution e-1", "stored record cannot be read", "invalid character"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}
