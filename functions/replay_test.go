// Package functions_test replays the sample events in events/ against the
// Lambda handlers the functions run — the API Gateway adapter over the HTTP
// API, and the SQS batch handlers of the engine, runner and dlq functions —
// with real core code over memory drivers (kvstore memory store, memory
// queues). The queues are pumped by hand into SQS events, as the event
// source mappings would.
package functions_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/queue"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/gateway"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/sqsbatch"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

var key = []byte("replay-test-key-0123456789abcdef")

type handlers struct {
	t                      *testing.T
	svc                    *service.Service
	tasks, results         *queue.Memory
	api                    func(context.Context, json.RawMessage) (any, error)
	runner, engine, deadlq func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	vars                   map[string]string
	steps                  map[string]int
}

func newHandlers(t *testing.T) *handlers {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := &handlers{t: t, tasks: queue.NewMemory(queue.MemoryOptions{}), results: queue.NewMemory(queue.MemoryOptions{}),
		vars: map[string]string{}, steps: map[string]int{}}
	cfg := awshost.Config{CallbackBaseURL: "https://abc123.execute-api.us-east-1.amazonaws.com/callbacks/"}
	h.svc = awshost.Build(cfg, kvstore.NewMemory(), h.tasks, h.results, key, log)
	h.svc.OnStep = func(kind string, ops int) { h.steps[kind]++ }
	// The replayed oversized request is 5 KB; the limit is lowered so the
	// sample stays small (the function itself uses the 1 MiB default).
	// As functions/api wires it: the UI beside the API.
	h.api = gateway.Handler(webui.Mount(httpapi.New(h.svc, httpapi.Options{MaxBody: 4096}), h.svc.Store, log))
	h.runner = sqsbatch.Handler("runner", h.svc.RunTask, log)
	h.engine = sqsbatch.Handler("engine", h.svc.HandleMessage, log)
	h.deadlq = sqsbatch.Handler("dlq", h.svc.DeadLetter, log)
	return h
}

// load reads a sample event and fills its ${PLACEHOLDERS}.
func (h *handlers) load(name string) []byte {
	h.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		h.t.Fatal(err)
	}
	s := string(raw)
	for k, v := range h.vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	if i := strings.Index(s, "${"); i >= 0 {
		h.t.Fatalf("%s: placeholder left unfilled near %q", name, s[i:min(len(s), i+30)])
	}
	return []byte(s)
}

type apiResult struct {
	status int
	body   map[string]any
	raw    string
}

// call replays an API Gateway event and checks the status.
func (h *handlers) call(name string, want int) apiResult {
	h.t.Helper()
	out, err := h.api(context.Background(), h.load(name))
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	var r apiResult
	switch resp := out.(type) {
	case events.APIGatewayV2HTTPResponse:
		if !strings.HasPrefix(name, "api/v2/") {
			h.t.Fatalf("%s: answered in payload 2.0", name)
		}
		r.status, r.raw = resp.StatusCode, resp.Body
		if resp.IsBase64Encoded || resp.Headers["Content-Type"] != "application/json" {
			h.t.Fatalf("%s: response %v base64 %v", name, resp.Headers, resp.IsBase64Encoded)
		}
	case events.APIGatewayProxyResponse:
		if !strings.HasPrefix(name, "api/v1/") {
			h.t.Fatalf("%s: answered in payload 1.0", name)
		}
		r.status, r.raw = resp.StatusCode, resp.Body
		if resp.MultiValueHeaders["Content-Type"][0] != "application/json" {
			h.t.Fatalf("%s: headers %v", name, resp.MultiValueHeaders)
		}
	default:
		h.t.Fatalf("%s: response of type %T", name, out)
	}
	if err := json.Unmarshal([]byte(r.raw), &r.body); err != nil {
		h.t.Fatalf("%s: body is not JSON: %v: %s", name, err, r.raw)
	}
	if r.status != want {
		h.t.Fatalf("%s: status %d, want %d: %s", name, r.status, want, r.raw)
	}
	return r
}

func (h *handlers) callError(name string, want int, code, field string) map[string]any {
	h.t.Helper()
	r := h.call(name, want)
	er, _ := value.AsGoMap(r.body["error"])
	if er == nil || er["code"] != code || er["message"] == "" {
		h.t.Fatalf("%s: error %s, want code %s", name, r.raw, code)
	}
	if f, _ := er["field"].(string); f != field {
		h.t.Fatalf("%s: field %q, want %q", name, f, field)
	}
	return er
}

func sqsEvent(msgs []queue.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.ID, ReceiptHandle: m.Receipt, Body: string(m.Body), EventSource: "aws:sqs"})
	}
	return ev
}

// pump feeds both queues to the runner and engine handlers until they are
// empty, deleting what succeeded as the event source mapping does.
func (h *handlers) pump() {
	h.t.Helper()
	ctx := context.Background()
	for round := 0; round < 100; round++ {
		moved := false
		for _, p := range []struct {
			q  *queue.Memory
			fn func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
		}{{h.tasks, h.runner}, {h.results, h.engine}} {
			msgs, err := p.q.Receive(ctx, 10, 0)
			if err != nil {
				h.t.Fatal(err)
			}
			if len(msgs) == 0 {
				continue
			}
			moved = true
			resp, err := p.fn(ctx, sqsEvent(msgs))
			if err != nil || len(resp.BatchItemFailures) > 0 {
				h.t.Fatalf("pump: %v %+v", err, resp.BatchItemFailures)
			}
			for _, m := range msgs {
				_ = p.q.Delete(ctx, m.Receipt)
			}
		}
		if !moved {
			return
		}
	}
	h.t.Fatal("queues never went quiet")
}

func (h *handlers) state(id string) *engine.Execution {
	h.t.Helper()
	e, err := h.svc.Store.Execution(context.Background(), id)
	if err != nil || e == nil {
		h.t.Fatalf("execution %s: %v", id, err)
	}
	return e
}

func (h *handlers) token(exec, task string, attempt int) string {
	tok, err := callback.Sign(key, callback.Claims{Exec: exec, Task: task, Slot: -1, Attempt: attempt, Expires: time.Now().Add(time.Hour).Unix()})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func TestAPIEvents(t *testing.T) {
	h := newHandlers(t)
	h.call("api/v2/healthz.json", 200)
	if r := h.call("api/v2/openapi.json", 200); r.body["openapi"] == nil {
		t.Fatalf("openapi: %s", r.raw)
	}
	h.call("api/v2/register-workflows-yaml.json", 200)
	if r := h.call("api/v2/register-workflows-json-base64.json", 200); len(r.body["workflows"].([]any)) != 4 {
		t.Fatalf("register: %s", r.raw)
	}
	er := h.callError("api/v2/register-workflows-invalid.json", 400, httpapi.CodeInvalidWorkflow, "definition")
	if ps := er["problems"].([]any); len(ps) != 2 || ps[0].(map[string]any)["at"] != "workflow.yaml:5:7" {
		t.Fatalf("problems %v", er["problems"])
	}
	if r := h.call("api/v2/list-workflows.json", 200); len(r.body["workflows"].([]any)) != 4 {
		t.Fatalf("list: %s", r.raw)
	}
	h.call("api/v2/get-workflow.json", 200)
	h.callError("api/v2/get-workflow-unknown.json", 404, httpapi.CodeNotFound, "name")

	// Start, with an idempotency key: the replay finds the same execution.
	first := h.call("api/v2/start-execution.json", 201)
	again := h.call("api/v2/start-execution.json", 200)
	if first.body["id"] != again.body["id"] {
		t.Fatalf("idempotency: %v vs %v", first.body["id"], again.body["id"])
	}
	h.vars["EXEC_ID"] = first.body["id"].(string)
	h.callError("api/v2/start-execution-bad-json.json", 400, httpapi.CodeInvalidJSON, "")
	er = h.callError("api/v2/start-execution-unknown-workflow.json", 404, httpapi.CodeNotFound, "workflow")
	if !strings.Contains(er["message"].(string), "no-such-workflow") {
		t.Fatalf("message %v", er["message"])
	}
	h.callError("api/v2/start-execution-input-not-object.json", 400, httpapi.CodeInvalidInput, "input")
	h.callError("api/v2/start-execution-oversized.json", 413, httpapi.CodeTooLarge, "")

	h.pump()
	r := h.call("api/v2/get-execution.json", 200)
	if r.body["state"] != "SUCCESS" || r.body["output"].(map[string]any)["greeting"] != "Hello, Ada" {
		t.Fatalf("execution: %s", r.raw)
	}
	if r := h.call("api/v1/rest-get-execution.json", 200); r.body["id"] != h.vars["EXEC_ID"] {
		t.Fatalf("REST get: %s", r.raw)
	}
	h.callError("api/v2/get-execution-unknown.json", 404, httpapi.CodeNotFound, "id")
	if r := h.call("api/v2/list-executions.json", 200); len(r.body["executions"].([]any)) != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	if r := h.call("api/v1/rest-list-executions.json", 200); len(r.body["executions"].([]any)) != 1 {
		t.Fatalf("REST list: %s", r.raw)
	}
	er = h.callError("api/v2/pause-finished-execution.json", 409, httpapi.CodeInvalidState, "")
	if !strings.Contains(er["message"].(string), "SUCCESS") {
		t.Fatalf("message %v", er["message"])
	}

	// A delegate: pause, resume, heartbeat, complete through the callback.
	d := h.call("api/v1/rest-start-execution.json", 201)
	h.vars["DELEGATED_EXEC_ID"] = d.body["id"].(string)
	h.pump()
	h.vars["CALLBACK_TOKEN"] = h.token(h.vars["DELEGATED_EXEC_ID"], "ask", 1)
	if r := h.call("api/v2/pause-execution.json", 200); r.body["state"] != "PAUSED" {
		t.Fatalf("pause: %s", r.raw)
	}
	if r := h.call("api/v2/resume-execution.json", 200); r.body["state"] != "RUNNING" {
		t.Fatalf("resume: %s", r.raw)
	}
	h.pump()
	h.call("api/v2/callback-heartbeat.json", 202)
	h.callError("api/v2/callback-forged.json", 403, httpapi.CodeCallbackForged, "token")
	if st := h.state(h.vars["DELEGATED_EXEC_ID"]).State; st != engine.Running {
		t.Fatalf("forged callback changed the execution: %s", st)
	}
	h.call("api/v2/callback-success.json", 202)
	h.pump()
	if e := h.state(h.vars["DELEGATED_EXEC_ID"]); e.State != engine.Success {
		t.Fatalf("delegated: %s %s", e.State, e.StateInfo)
	}
	h.callError("api/v2/callback-error.json", 409, httpapi.CodeCallbackStale, "token")
	h.callError("api/v2/cancel-execution.json", 409, httpapi.CodeInvalidState, "")

	// A second delegate ends with an error callback; a third is cancelled.
	d = h.call("api/v2/start-execution-delegated.json", 201)
	h.vars["DELEGATED_EXEC_ID"] = d.body["id"].(string)
	h.vars["CALLBACK_TOKEN"] = h.token(h.vars["DELEGATED_EXEC_ID"], "ask", 1)
	h.pump()
	h.call("api/v2/callback-error.json", 202)
	h.pump()
	if e := h.state(h.vars["DELEGATED_EXEC_ID"]); e.State != engine.Error || !strings.Contains(e.StateInfo, "the approver said no") {
		t.Fatalf("error callback: %s %s", e.State, e.StateInfo)
	}
	d = h.call("api/v2/start-execution-delegated.json", 201)
	h.vars["DELEGATED_EXEC_ID"] = d.body["id"].(string)
	h.pump()
	if r := h.call("api/v2/cancel-execution.json", 200); r.body["state"] != "CANCELLED" {
		t.Fatalf("cancel: %s", r.raw)
	}

	// Rerun, with the task id escaped (payload 2.0) and decoded (REST).
	f := h.call("api/v2/start-execution-failing.json", 201)
	h.vars["FAILED_EXEC_ID"] = f.body["id"].(string)
	h.pump()
	if st := h.state(h.vars["FAILED_EXEC_ID"]).State; st != engine.Error {
		t.Fatalf("failing: %s", st)
	}
	if r := h.call("api/v2/rerun-task.json", 200); r.body["state"] != "RUNNING" {
		t.Fatalf("rerun: %s", r.raw)
	}
	h.pump()
	if r := h.call("api/v1/rest-rerun-task.json", 200); r.body["state"] != "RUNNING" {
		t.Fatalf("REST rerun: %s", r.raw)
	}
	h.pump()
	tk, _ := h.svc.Store.Task(context.Background(), h.vars["FAILED_EXEC_ID"], "boom")
	if tk == nil || tk.Attempt != 3 {
		t.Fatalf("boom should have run three times: %+v", tk)
	}
}

// startPair starts the pair workflow and takes its two task messages off
// the queue, so the sample batches stand in for them.
func (h *handlers) startPair() string {
	h.t.Helper()
	ctx := context.Background()
	h.call("api/v2/register-workflows-yaml.json", 200)
	e, _, err := h.svc.Start(ctx, service.StartRequest{Workflow: "pair"})
	if err != nil {
		h.t.Fatal(err)
	}
	msgs, _ := h.tasks.Receive(ctx, 10, 0)
	if len(msgs) != 2 {
		h.t.Fatalf("pair sent %d task messages", len(msgs))
	}
	for _, m := range msgs {
		_ = h.tasks.Delete(ctx, m.Receipt)
	}
	h.vars["PAIR_EXEC_ID"] = e.ID
	return e.ID
}

func (h *handlers) sqs(fn func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), name string) []string {
	h.t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(h.load(name), &ev); err != nil {
		h.t.Fatal(err)
	}
	resp, err := fn(context.Background(), ev)
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestRunnerBatchPartialFailure(t *testing.T) {
	h := newHandlers(t)
	id := h.startPair()
	failed := h.sqs(h.runner, "sqs/task-batch.json")
	if len(failed) != 1 || failed[0] != "0a1b2c3d-0000-4000-8000-000000000002" {
		t.Fatalf("failures %v, want only the bad message", failed)
	}
	if n := h.results.Len(); n != 2 {
		t.Fatalf("%d results sent, want 2 (one per good message)", n)
	}
	// Redelivered: the good messages' attempts are claimed, so nothing runs twice.
	failed = h.sqs(h.runner, "sqs/task-batch.json")
	if len(failed) != 1 || h.results.Len() != 2 {
		t.Fatalf("replay: failures %v, results %d", failed, h.results.Len())
	}
	h.pump()
	if e := h.state(id); e.State != engine.Success {
		t.Fatalf("pair: %s %s", e.State, e.StateInfo)
	}
}

func TestEngineBatchPartialFailure(t *testing.T) {
	h := newHandlers(t)
	id := h.startPair()
	failed := h.sqs(h.engine, "sqs/result-batch.json")
	if len(failed) != 1 || failed[0] != "0a1b2c3d-0000-4000-8000-000000000003" {
		t.Fatalf("failures %v, want only the poison message", failed)
	}
	if e := h.state(id); e.State != engine.Success {
		t.Fatalf("pair: %s %s", e.State, e.StateInfo)
	}
	results := h.steps["result"]
	if results != 2 {
		t.Fatalf("%d result steps committed, want 2", results)
	}
	// Redelivered results change nothing.
	before, _ := h.svc.Store.Tasks(context.Background(), id)
	failed = h.sqs(h.engine, "sqs/result-batch.json")
	after, _ := h.svc.Store.Tasks(context.Background(), id)
	if len(failed) != 1 || h.steps["result"] != results {
		t.Fatalf("replay: failures %v, result steps %d", failed, h.steps["result"])
	}
	for i := range before {
		if before[i].Version != after[i].Version {
			t.Fatalf("replay rewrote task %s", before[i].Key)
		}
	}
}

func TestDeadLetterBatch(t *testing.T) {
	h := newHandlers(t)
	h.call("api/v2/register-workflows-yaml.json", 200)
	for _, v := range []string{"DLQ_EXEC_ID", "DLQ_EXEC_ID2"} {
		e, _, err := h.svc.Start(context.Background(), service.StartRequest{Workflow: "delegated"})
		if err != nil {
			t.Fatal(err)
		}
		h.vars[v] = e.ID
	}
	h.pump()
	if failed := h.sqs(h.deadlq, "sqs/dlq-batch.json"); len(failed) != 0 {
		t.Fatalf("failures %v: a dead letter that cannot be read is dropped, the others handled", failed)
	}
	h.pump()
	e := h.state(h.vars["DLQ_EXEC_ID"])
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "dead-letter") {
		t.Fatalf("task dead letter: %s %q", e.State, e.StateInfo)
	}
	e = h.state(h.vars["DLQ_EXEC_ID2"])
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "dead-letter") {
		t.Fatalf("result dead letter: %s %q", e.State, e.StateInfo)
	}
}

func TestBatchPanicFailsOneRecord(t *testing.T) {
	calls := 0
	fn := sqsbatch.Handler("test", func(ctx context.Context, body []byte) error {
		calls++
		if string(body) == "boom" {
			panic("handler bug")
		}
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp, err := fn(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: "ok"}, {MessageId: "2", Body: "boom"}, {MessageId: "3", Body: "ok"}}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" || calls != 3 {
		t.Fatalf("resp %+v err %v calls %d", resp, err, calls)
	}
	// With too little time left, records are left for redelivery, not started.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	calls = 0
	resp, _ = fn(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: "ok"}}})
	if calls != 0 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("near the deadline: calls %d, failures %+v", calls, resp.BatchItemFailures)
	}
}

// TestUIEvents replays the browser UI's requests as API Gateway delivers
// them to the api function: the page and the redirect to it (public
// routes), and the graph drawn from a registered definition.
func TestUIEvents(t *testing.T) {
	h := newHandlers(t)
	h.call("api/v2/register-workflows-yaml.json", 200)
	v2 := func(name string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		out, err := h.api(context.Background(), h.load(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp, ok := out.(events.APIGatewayV2HTTPResponse)
		if !ok {
			t.Fatalf("%s: response of type %T", name, out)
		}
		return resp
	}

	page := v2("api/v2/get-ui.json")
	if page.StatusCode != 200 || page.IsBase64Encoded || !strings.HasPrefix(page.Headers["Content-Type"], "text/html") ||
		!strings.Contains(page.Body, `src="/ui/static/app.js"`) {
		t.Fatalf("GET /ui/: %d %v %.200s", page.StatusCode, page.Headers, page.Body)
	}
	if csp := page.Headers["Content-Security-Policy"]; !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("GET /ui/: Content-Security-Policy %q", csp)
	}

	root := v2("api/v2/get-root.json")
	if root.StatusCode != 302 || root.Headers["Location"] != "/ui/" {
		t.Fatalf("GET /: %d to %q", root.StatusCode, root.Headers["Location"])
	}

	// SVG is not text/*: the adapter base64-encodes it and API Gateway decodes it.
	graph := v2("api/v2/get-ui-graph.json")
	svg, err := base64.StdEncoding.DecodeString(graph.Body)
	if graph.StatusCode != 200 || !graph.IsBase64Encoded || err != nil || graph.Headers["Content-Type"] != "image/svg+xml" {
		t.Fatalf("graph: %d %v base64 %v: %v", graph.StatusCode, graph.Headers, graph.IsBase64Encoded, err)
	}
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), `data-task="greet"`) {
		t.Fatalf("graph of hello: %.300s", svg)
	}
}
