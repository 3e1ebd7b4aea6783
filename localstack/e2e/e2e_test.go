//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// runID keeps this run's workflow names, idempotency keys and third-party keys apart from an
// earlier run's on the same (reused) stack.
var runID = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff)

// wf names a workflow for this run.
func wf(name string) string { return "e2e_" + name + "_" + runID }

// settle is how long the suite waits to be sure something did NOT happen (an action that must
// not run, a state that must not change). It is longer than one engine round trip on the
// emulator (about two cold starts, ~0.6 s each, plus queue polling) several times over.
const settle = 6 * time.Second

const finishTimeout = 90 * time.Second

func register(t *testing.T, yaml string) {
	t.Helper()
	if err := env.api.RegisterWorkflow(context.Background(), yaml); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, workflow string, input map[string]any) Execution {
	t.Helper()
	e, status, err := env.api.Start(context.Background(), workflow, input, "")
	if err != nil {
		t.Fatal(err)
	}
	if status != 201 {
		t.Fatalf("start %s without Idempotency-Key: want 201 Created, got %d", workflow, status)
	}
	return e
}

func waitTerminal(t *testing.T, id string) Execution {
	t.Helper()
	e, err := env.api.WaitTerminal(context.Background(), id, finishTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func waitArrived(t *testing.T, key string) {
	t.Helper()
	select {
	case <-env.tp.Arrived(key):
	case <-time.After(finishTimeout):
		t.Fatalf("the action never called the third-party server (key %s)", key)
	}
}

// jsonEqual compares two JSON-like values after a JSON round trip (numbers become float64).
func jsonEqual(a, b any) bool {
	norm := func(v any) any {
		data, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(data, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestRegisterStartSucceeds(t *testing.T) {
	name := wf("hello")
	register(t, `version: '2.0'
`+name+`:
  input:
    - name
  output:
    greeting: <% $.greeting %>
    letters: <% $.letters %>
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %>!"
      publish:
        greeting: <% task().result %>
      on-success: count
    count:
      action: std.echo
      input:
        output: <% $.greeting.len() %>
      publish:
        letters: <% task().result %>
`)
	began := time.Now()
	e := start(t, name, map[string]any{"name": "Lambda"})
	e = waitTerminal(t, e.ID)
	if e.State != "SUCCESS" {
		t.Fatalf("want SUCCESS, got %s (%s); tasks %s", e.State, e.StateInfo, TaskSummary(e))
	}
	want := map[string]any{"greeting": "Hello, Lambda!", "letters": 14}
	if !jsonEqual(e.Output, want) {
		t.Fatalf("output = %v, want %v", e.Output, want)
	}
	if len(e.Tasks) != 2 {
		t.Fatalf("want 2 tasks, got %s", TaskSummary(e))
	}
	for _, tk := range e.Tasks {
		if tk.State != "SUCCESS" || tk.Attempt != 1 {
			t.Errorf("task %s: %s attempt %d, want SUCCESS attempt 1", tk.Key, tk.State, tk.Attempt)
		}
	}
	figure("two-task workflow: start to SUCCESS in %s", time.Since(began).Round(100*time.Millisecond))
}

func TestErrorPathHasStateInfo(t *testing.T) {
	name := wf("fail")
	register(t, `version: '2.0'
`+name+`:
  tasks:
    prepare:
      action: std.noop
      on-success: boom
    boom:
      action: std.fail error_data="boom from e2e"
      on-success: never
    never:
      action: std.noop
`)
	e := waitTerminal(t, start(t, name, nil).ID)
	if e.State != "ERROR" {
		t.Fatalf("want ERROR, got %s; tasks %s", e.State, TaskSummary(e))
	}
	if !strings.Contains(e.StateInfo, "boom") {
		t.Errorf("execution state_info %q does not name the failed task or its error", e.StateInfo)
	}
	boom, ok := e.TaskByName("boom")
	if !ok || boom.State != "ERROR" || !strings.Contains(boom.StateInfo+fmt.Sprint(boom.Result), "boom from e2e") {
		t.Errorf("task boom: want ERROR carrying the action's error \"boom from e2e\", got %+v", boom)
	}
	if _, ran := e.TaskByName("never"); ran {
		t.Errorf("task never ran although boom failed: %s", TaskSummary(e))
	}
}

func TestRetryThenSuccess(t *testing.T) { retryThenSuccess(t, "retry") }

// retryThenSuccess runs a task whose action fails twice, with a retry policy: runner results,
// retry timers and publish all take part.
func retryThenSuccess(t *testing.T, prefix string) {
	name := wf(prefix)
	register(t, `version: '2.0'
`+name+`:
  input:
    - url
  output:
    calls: <% $.calls %>
  tasks:
    flaky:
      action: std.http
      input:
        url: <% $.url %>
        timeout: 10
      retry:
        count: 4
        delay: 1
      publish:
        calls: <% task().result.content.calls %>
`)
	key := prefix + "/" + runID
	e := start(t, name, map[string]any{"url": env.tp.URL + "/flaky/" + key + "?fail=2"})
	e = waitTerminal(t, e.ID)
	if e.State != "SUCCESS" {
		t.Fatalf("want SUCCESS after two failures, got %s (%s); tasks %s", e.State, e.StateInfo, TaskSummary(e))
	}
	if got := env.tp.Hits(key); got != 3 {
		t.Errorf("the flaky endpoint was called %d times, want 3 (two failures, one success)", got)
	}
	if !jsonEqual(e.Output, map[string]any{"calls": 3}) {
		t.Errorf("output = %v, want {calls: 3}", e.Output)
	}
	if tk, ok := e.TaskByName("flaky"); !ok || tk.Attempt != 3 {
		t.Errorf("task flaky: want attempt 3, got %s", TaskSummary(e))
	}
}

// callbackToken takes the token out of a callback URL, which the suite then posts to through
// its client (the same URL, with the client's transport).
func callbackToken(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		t.Fatalf("callback URL %q is not a URL: %v", raw, err)
	}
	_, tok, ok := strings.Cut(u.EscapedPath(), "/callbacks/")
	if !ok {
		_, tok, ok = strings.Cut(u.EscapedPath(), "/v2/action_executions/")
	}
	if !ok || tok == "" || strings.Contains(tok, "/") {
		t.Fatalf("callback URL %q has no /callbacks/{token} or /v2/action_executions/{token} path", raw)
	}
	return tok
}

func TestDelegateCallback(t *testing.T) {
	name := wf("delegate")
	// std.mistral_http is Mistral's delegate HTTP action: it calls the URL with the callback
	// URL in the Mistral-Callback-URL header (Mistral's /v2/action_executions/{id}, the id
	// being the callback token) and returns without a result; the third party PUTs the
	// result there later, unsigned, as a delegate written for Mistral does.
	register(t, `version: '2.0'
`+name+`:
  input:
    - url
  output:
    answer: <% $.answer %>
  tasks:
    ask:
      action: std.mistral_http
      input:
        url: <% $.url %>
        method: POST
      publish:
        answer: <% task().result %>
`)
	key := "delegate/" + runID
	e := start(t, name, map[string]any{"url": env.tp.URL + "/delegate/" + key})
	ctx := context.Background()
	// Wait for the call, but stop at once if the execution ends instead (e.g. unknown action).
	if _, err := env.api.Wait(ctx, e.ID, finishTimeout, func(cur Execution) bool {
		select {
		case <-env.tp.Arrived(key):
			return true
		default:
			return Terminal(cur.State)
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-env.tp.Arrived(key):
	default:
		cur, _ := env.api.Get(ctx, e.ID)
		t.Fatalf("the delegate action never called the third party; execution %s (%s), tasks %s", cur.State, cur.StateInfo, TaskSummary(cur))
	}
	h, _ := env.tp.DelegateHeaders(key)
	cbURL := h.Get("Mistral-Callback-URL")
	// deploy.sh sets infra's apiBaseUrl, so the URL the third party got is the emulator's.
	if !strings.HasPrefix(cbURL, env.api.Base+"/v2/action_executions/") {
		t.Errorf("callback URL %q does not start with the deployed API's %s/v2/action_executions/", cbURL, env.api.Base)
	}
	tok := callbackToken(t, cbURL)

	// The action returned without a result: the execution waits, holding nothing.
	time.Sleep(2 * time.Second)
	cur, err := env.api.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.State != "RUNNING" {
		t.Fatalf("while the delegate works, want RUNNING, got %s; tasks %s", cur.State, TaskSummary(cur))
	}

	// Forged tokens: a flipped signature, claims swapped for another task, and nonsense.
	payload, sig, _ := strings.Cut(tok, ".")
	flipped := []byte(sig)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '.' {
		flipped[len(flipped)/2] = 'A'
	}
	// The genuine signature over claims changed to a later attempt: the HMAC must catch it.
	claims, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("callback token payload is not base64url: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(claims, &c); err != nil {
		t.Fatalf("callback token payload is not JSON: %v", err)
	}
	c["a"] = 99
	altered, _ := json.Marshal(c)
	forged := []string{payload + "." + string(flipped), base64.RawURLEncoding.EncodeToString(altered) + "." + sig,
		"not-a-token", payload}
	for _, f := range forged {
		r, err := env.api.Callback(ctx, f, map[string]any{"state": "SUCCESS", "output": "forged"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("forged callback %q: want 4xx, got %s", truncate(f, 40), r)
		}
	}
	if cur, _ := env.api.Get(ctx, e.ID); cur.State != "RUNNING" {
		t.Fatalf("a forged callback changed the execution: %s, tasks %s", cur.State, TaskSummary(cur))
	}

	r, err := env.api.Do(ctx, http.MethodPut, "/v2/action_executions/"+tok, map[string]any{"state": "SUCCESS", "output": map[string]any{"v": 42}}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 {
		t.Fatalf("genuine PUT to the Mistral-Callback-URL: want 200, got %s", r)
	}
	e = waitTerminal(t, e.ID)
	if e.State != "SUCCESS" || !jsonEqual(e.Output, map[string]any{"answer": map[string]any{"v": 42}}) {
		t.Fatalf("after the callback: want SUCCESS with answer {v: 42}, got %s output %v; tasks %s", e.State, e.Output, TaskSummary(e))
	}
	// A replay of the genuine token is refused and changes nothing.
	r, err = env.api.Callback(ctx, tok, map[string]any{"state": "ERROR", "error": "replayed"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status < 400 || r.Status >= 500 {
		t.Errorf("replayed callback: want 4xx, got %s", r)
	}
	if again, _ := env.api.Get(ctx, e.ID); again.State != "SUCCESS" {
		t.Errorf("a replayed callback changed the execution to %s", again.State)
	}
}

// Mistral's API v2 is served under /v2 behind IAM, as the other management routes.
func TestMistralAPIv2BehindIAM(t *testing.T) {
	ctx := context.Background()
	r, err := env.api.Do(ctx, http.MethodGet, "/v2/workflows", nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Workflows []map[string]any `json:"workflows"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &body) != nil || body.Workflows == nil {
		t.Fatalf("signed GET /v2/workflows: %s", r)
	}
	if r, err = env.api.Do(ctx, http.MethodGet, "/v2/workflows", nil, false, nil); err != nil {
		t.Fatal(err)
	}
	if r.Status != 403 && r.Status != 401 {
		t.Errorf("unsigned GET /v2/workflows: want 401/403 (IAM), got %s", r)
	}
}

// gated registers a two-task workflow whose first task holds at the third party's gate.
func gated(t *testing.T, name string) {
	t.Helper()
	register(t, `version: '2.0'
`+name+`:
  input:
    - gate
    - after
  tasks:
    hold:
      action: std.http
      input:
        url: <% $.gate %>
        timeout: 60
      on-success: after
    after:
      action: std.http
      input:
        url: <% $.after %>
`)
}

func TestPauseResume(t *testing.T) {
	name := wf("pause")
	gated(t, name)
	gate, after := "pause-gate/"+runID, "pause-after/"+runID
	e := start(t, name, map[string]any{"gate": env.tp.URL + "/gate/" + gate, "after": env.tp.URL + "/hit/" + after})
	waitArrived(t, gate)
	ctx := context.Background()
	r, err := env.api.Control(ctx, e.ID, "pause")
	if err != nil {
		t.Fatal(err)
	}
	var paused Execution
	if err := expect(r, nil, &paused, 200); err != nil || paused.State != "PAUSED" {
		t.Fatalf("pause: want 200 PAUSED, got %s (%v)", r, err)
	}
	// The held action finishes while the execution is paused: its result is taken, but the
	// next task must not start.
	env.tp.Open(gate)
	time.Sleep(settle)
	cur, err := env.api.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.State != "PAUSED" {
		t.Fatalf("while paused: want PAUSED, got %s; tasks %s", cur.State, TaskSummary(cur))
	}
	if n := env.tp.Hits(after); n != 0 {
		t.Fatalf("task after ran %d times while the execution was paused", n)
	}
	r, err = env.api.Control(ctx, e.ID, "resume")
	if err := expect(r, err, nil, 200); err != nil {
		t.Fatalf("resume: %v", err)
	}
	e = waitTerminal(t, e.ID)
	if e.State != "SUCCESS" {
		t.Fatalf("after resume: want SUCCESS, got %s (%s); tasks %s", e.State, e.StateInfo, TaskSummary(e))
	}
	if n := env.tp.Hits(after); n != 1 {
		t.Errorf("task after ran %d times, want exactly 1", n)
	}
	if n := env.tp.Hits(gate); n != 1 {
		t.Errorf("task hold ran %d times, want exactly 1", n)
	}
}

func TestCancel(t *testing.T) {
	name := wf("cancel")
	gated(t, name)
	gate, after := "cancel-gate/"+runID, "cancel-after/"+runID
	e := start(t, name, map[string]any{"gate": env.tp.URL + "/gate/" + gate, "after": env.tp.URL + "/hit/" + after})
	waitArrived(t, gate)
	ctx := context.Background()
	r, err := env.api.Control(ctx, e.ID, "cancel")
	var got Execution
	if err := expect(r, err, &got, 200); err != nil || got.State != "CANCELLED" {
		t.Fatalf("cancel: want 200 CANCELLED, got %v %v", r, err)
	}
	env.tp.Open(gate)
	time.Sleep(settle)
	cur, err := env.api.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.State != "CANCELLED" {
		t.Fatalf("after the held action finished: want CANCELLED, got %s; tasks %s", cur.State, TaskSummary(cur))
	}
	if n := env.tp.Hits(after); n != 0 {
		t.Errorf("task after ran %d times after cancel", n)
	}
	// A finished execution cannot be steered: 409, not a silent success.
	for _, op := range []string{"cancel", "pause", "resume"} {
		r, err := env.api.Control(ctx, e.ID, op)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != 409 {
			t.Errorf("%s of a cancelled execution: want 409, got %s", op, r)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	name := wf("idem")
	register(t, `version: '2.0'
`+name+`:
  tasks:
    one:
      action: std.echo output=1
`)
	ctx := context.Background()
	key := "idem-" + runID
	first, s1, err := env.api.Start(ctx, name, map[string]any{}, key)
	if err != nil {
		t.Fatal(err)
	}
	second, s2, err := env.api.Start(ctx, name, map[string]any{}, key)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != 201 || s2 != 200 {
		t.Errorf("statuses %d then %d, want 201 then 200", s1, s2)
	}
	if first.ID == "" || first.ID != second.ID {
		t.Fatalf("the same Idempotency-Key gave executions %q and %q", first.ID, second.ID)
	}
	waitTerminal(t, first.ID)
	all, err := env.api.List(ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("workflow %s has %d executions, want 1", name, len(all))
	}
	// A different key is a different execution.
	third, s3, err := env.api.Start(ctx, name, map[string]any{}, key+"-other")
	if err != nil {
		t.Fatal(err)
	}
	if s3 != 201 || third.ID == first.ID {
		t.Errorf("another key: want a new execution (201), got %d %s", s3, third.ID)
	}
	waitTerminal(t, third.ID)
}

// sendResults puts raw bodies on the result queue in one SendMessageBatch, as the engine's
// mapping would receive them: the same result twice is what a redelivery looks like.
func sendResults(t *testing.T, bodies ...string) {
	t.Helper()
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", i)), MessageBody: aws.String(b)})
	}
	out, err := env.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(env.out.ResultQueueURL), Entries: entries})
	if err != nil {
		t.Fatalf("send to the result queue: %v", err)
	}
	if len(out.Failed) > 0 {
		t.Fatalf("send to the result queue: %d entries failed: %+v", len(out.Failed), out.Failed)
	}
}

func resultBody(exec, task string, attempt int, ok bool, output any) string {
	b, _ := json.Marshal(map[string]any{"result": map[string]any{
		"exec": exec, "task": task, "slot": -1, "attempt": attempt, "ok": ok, "output": output}})
	return string(b)
}

// waiting registers a workflow whose first task is a delegate action that nobody calls back
// (std.async_noop): the execution waits on it until a result arrives on the result queue.
func waiting(t *testing.T, name string) {
	t.Helper()
	register(t, `version: '2.0'
`+name+`:
  input:
    - after
  output:
    got: <% $.got %>
  tasks:
    wait:
      action: std.async_noop
      publish:
        got: <% task().result %>
      on-success: after
    after:
      action: std.http
      input:
        url: <% $.after %>
`)
}

func waitTaskRunning(t *testing.T, id, task string) Task {
	t.Helper()
	e, err := env.api.Wait(context.Background(), id, finishTimeout, func(e Execution) bool {
		tk, ok := e.TaskByName(task)
		return ok && tk.State == "RUNNING" || Terminal(e.State)
	})
	if err != nil {
		t.Fatal(err)
	}
	tk, ok := e.TaskByName(task)
	if !ok || tk.State != "RUNNING" {
		t.Fatalf("task %s never ran: execution %s (%s), tasks %s", task, e.State, e.StateInfo, TaskSummary(e))
	}
	return tk
}

// TestEngineBatchPartialFailure sends the engine one batch holding garbage and the same result
// twice. The garbage must fail alone (ReportBatchItemFailures), the result must be applied once
// (the next task runs exactly once), and a later redelivery of the same result must change
// nothing.
func TestEngineBatchPartialFailure(t *testing.T) {
	name := wf("batch")
	waiting(t, name)
	after := "batch-after/" + runID
	e := start(t, name, map[string]any{"after": env.tp.URL + "/hit/" + after})
	tk := waitTaskRunning(t, e.ID, "wait")
	res := resultBody(e.ID, tk.Key, tk.Attempt, true, "from-the-batch")
	sent := time.Now()
	sendResults(t, "this is not a result message {", res, res)
	e = waitTerminal(t, e.ID)
	took := time.Since(sent)
	if e.State != "SUCCESS" || !jsonEqual(e.Output, map[string]any{"got": "from-the-batch"}) {
		t.Fatalf("want SUCCESS with got=from-the-batch, got %s output %v; tasks %s", e.State, e.Output, TaskSummary(e))
	}
	if n := env.tp.Hits(after); n != 1 {
		t.Errorf("the task after the duplicated result ran %d times, want exactly 1", n)
	}
	// Had the garbage failed the whole batch, the good messages would only come back after the
	// queue's visibility timeout (10 s after deploy.sh); finishing sooner shows partial failure.
	figure("engine batch with garbage + duplicate result: finished %s after sending", took.Round(100*time.Millisecond))

	// A redelivery after the commit (an engine that died before deleting its batch) is a no-op.
	sendResults(t, res)
	time.Sleep(settle)
	again, err := env.api.Get(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.State != "SUCCESS" || len(again.Tasks) != len(e.Tasks) {
		t.Errorf("a redelivered result changed the execution: %s, tasks %s", again.State, TaskSummary(again))
	}
	if n := env.tp.Hits(after); n != 1 {
		t.Errorf("after the redelivery the next task ran %d times, want still 1", n)
	}
}

// TestPoisonMessageDeadLetters puts a message on the result queue that names a real, running
// execution but can never be applied (its task does not exist). The engine must give up on it
// (maxReceiveCount), the queue must move it to the dead-letter queue, and the dead-letter
// handler must fail the execution with a reason instead of leaving it RUNNING forever.
func TestPoisonMessageDeadLetters(t *testing.T) {
	name := wf("poison")
	waiting(t, name)
	e := start(t, name, map[string]any{"after": env.tp.URL + "/hit/poison/" + runID})
	waitTaskRunning(t, e.ID, "wait")
	sent := time.Now()
	sendResults(t, resultBody(e.ID, "no-such-task", 1, true, "poison"))
	// maxReceiveCount 5 x visibility 10 s, plus the dead-letter handler's own delivery.
	got, err := env.api.Wait(context.Background(), e.ID, 3*time.Minute, func(e Execution) bool { return Terminal(e.State) })
	if err != nil {
		t.Fatalf("the poisoned execution never ended (is a dead-letter handler deployed on the result DLQ?): %v", err)
	}
	if got.State != "ERROR" || !strings.Contains(strings.ToLower(got.StateInfo), "dead-letter") {
		t.Fatalf("want ERROR naming the dead-letter queue, got %s (%q); tasks %s", got.State, got.StateInfo, TaskSummary(got))
	}
	if n := env.tp.Hits("poison/" + runID); n != 0 {
		t.Errorf("the poison message made the next task run %d times", n)
	}
	figure("poison result message: execution failed by the dead-letter path %s after sending", time.Since(sent).Round(time.Second))
}

// setHeadRecord replaces the JSON record (attribute d) of an execution's head item, the way a
// bad deploy or a hand edit could leave it, and returns the item as it was, so the caller can
// put d back and tell whether anything else wrote to the head meanwhile. The layout is the
// DynamoDB store's (functions/aws/dynamostore/doc.go: pk=<exec>, sk=H, record JSON in d).
func setHeadRecord(t *testing.T, exec, d string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := env.ddb.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(env.out.TableName),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: exec},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "H"},
		},
		UpdateExpression:          aws.String("SET d = :d"),
		ConditionExpression:       aws.String("attribute_exists(d)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: d}},
		ReturnValues:              ddbtypes.ReturnValueAllOld,
	})
	if err != nil {
		t.Fatalf("set the head record of %s: %v", exec, err)
	}
	if _, ok := out.Attributes["d"].(*ddbtypes.AttributeValueMemberS); !ok {
		t.Fatalf("head item of %s has no string attribute d: %v", exec, out.Attributes)
	}
	return out.Attributes
}

// itemString shows an item's attributes for a failure message, each value cut short.
func itemString(item map[string]ddbtypes.AttributeValue) string {
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		var v string
		switch a := item[k].(type) {
		case *ddbtypes.AttributeValueMemberS:
			v = a.Value
		case *ddbtypes.AttributeValueMemberN:
			v = a.Value
		default:
			v = fmt.Sprintf("%T", a)
		}
		fmt.Fprintf(&b, " %s=%s", k, truncate(v, 160))
	}
	return strings.TrimSpace(b.String())
}

// executionItems lists every stored item of an execution, for a failure message that must
// show what GET /executions/{id} could not read.
func executionItems(exec string) string {
	out, err := env.ddb.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(env.out.TableName),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: exec}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return fmt.Sprintf("(query the items of %s: %v)", exec, err)
	}
	var b strings.Builder
	for _, it := range out.Items {
		b.WriteString("\n  " + itemString(it))
	}
	return b.String()
}

// TestEngineFailsMidBatchThenRedeliveryFinishes sends the engine one batch with results for
// two waiting executions, one of which it cannot read (its stored record is corrupt). The
// engine must fail only that message (the other execution finishes at once), and once the
// record is repaired the queue's redelivery must finish the work: SUCCESS, next task run once.
func TestEngineFailsMidBatchThenRedeliveryFinishes(t *testing.T) {
	name := wf("midbatch")
	waiting(t, name)
	okAfter, badAfter := "midbatch-ok/"+runID, "midbatch-bad/"+runID
	good := start(t, name, map[string]any{"after": env.tp.URL + "/hit/" + okAfter})
	bad := start(t, name, map[string]any{"after": env.tp.URL + "/hit/" + badAfter})
	gt := waitTaskRunning(t, good.ID, "wait")
	bt := waitTaskRunning(t, bad.ID, "wait")

	before := setHeadRecord(t, bad.ID, "{this record is corrupt")
	orig := before["d"].(*ddbtypes.AttributeValueMemberS).Value
	restored := false
	defer func() {
		if !restored {
			setHeadRecord(t, bad.ID, orig)
		}
	}()
	sent := time.Now()
	sendResults(t, resultBody(bad.ID, bt.Key, bt.Attempt, true, "late"), resultBody(good.ID, gt.Key, gt.Attempt, true, "early"))
	g := waitTerminal(t, good.ID)
	if g.State != "SUCCESS" || !jsonEqual(g.Output, map[string]any{"got": "early"}) {
		t.Fatalf("healthy execution: want SUCCESS got=early, got %s %v; tasks %s", g.State, g.Output, TaskSummary(g))
	}
	goodTook := time.Since(sent)
	if n := env.tp.Hits(badAfter); n != 0 {
		t.Fatalf("the unreadable execution moved on (%d calls) before it was repaired", n)
	}
	during := setHeadRecord(t, bad.ID, orig)
	restored = true
	// Nothing may write to a head it cannot read: a write here (a blind state change, a
	// counter) would leave the restored document out of step with the head's attributes.
	delete(during, "d")
	delete(before, "d")
	if a, b := itemString(before), itemString(during); a != b {
		t.Errorf("the head of %s changed while its record was unreadable:\n  before: %s\n  after:  %s", bad.ID, a, b)
	}
	b, err := env.api.WaitTerminal(context.Background(), bad.ID, finishTimeout)
	if err != nil {
		t.Fatalf("repaired execution: %v\nits items:%s", err, executionItems(bad.ID))
	}
	if b.State != "SUCCESS" || !jsonEqual(b.Output, map[string]any{"got": "late"}) {
		t.Fatalf("repaired execution: want SUCCESS got=late after redelivery, got %s (%s) %v; tasks %s", b.State, b.StateInfo, b.Output, TaskSummary(b))
	}
	for _, k := range []string{okAfter, badAfter} {
		if n := env.tp.Hits(k); n != 1 {
			t.Errorf("%s ran %d times, want exactly 1", k, n)
		}
	}
	figure("engine mid-batch failure: healthy result applied after %s, failed one redelivered and applied after %s",
		goodTook.Round(100*time.Millisecond), time.Since(sent).Round(100*time.Millisecond))
}
