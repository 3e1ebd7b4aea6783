package awsactions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
	"github.com/lazyflow/lazyflow/functions/local"
)

// server is lazyflow serve on a random port with the AWS actions pointed
// at MiniStack: workflows are registered and run through its HTTP API, and
// delegates call back to it.
type server struct {
	t   *testing.T
	url string
}

func serve(t *testing.T) *server {
	t.Helper()
	reg := actions.New()
	awsactions.Register(reg, awsactions.NewClients(awsConfig()))
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- local.Serve(ctx, local.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Actions: reg,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(u string) { ready <- u }})
	}()
	s := &server{t: t}
	select {
	case s.url = <-ready:
	case err := <-done:
		t.Fatalf("Serve ended before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func (s *server) call(method, path, ctype, body string) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, out
}

func (s *server) register(src string) {
	s.t.Helper()
	if code, out := s.call("POST", "/workflows", "text/yaml", src); code != 200 {
		s.t.Fatalf("register: %d %v", code, out)
	}
}

// run starts wf with input and waits for state; it returns the execution.
func (s *server) run(wf string, input any, state string) map[string]any {
	s.t.Helper()
	in, _ := json.Marshal(map[string]any{"workflow": wf, "input": input})
	code, out := s.call("POST", "/executions", "application/json", string(in))
	if code != 201 {
		s.t.Fatalf("start %s: %d %v", wf, code, out)
	}
	id := out["id"].(string)
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, out = s.call("GET", "/executions/"+id, "", "")
		if out["state"] == state {
			return out
		}
		if st := out["state"]; st != "RUNNING" || time.Now().After(deadline) {
			b, _ := json.Marshal(out)
			s.t.Fatalf("execution of %s: want %s, have %s", wf, state, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stateInfo(exec map[string]any) string {
	var infos []string
	for _, t := range exec["tasks"].([]any) {
		infos = append(infos, fmt.Sprint(t.(map[string]any)["state_info"]))
	}
	return strings.Join(infos, "\n")
}

const lambdaWorkflows = `
version: '2.0'
call:
  input: [fn, payload]
  tasks:
    invoke:
      action: aws.lambda.invoke
      input:
        function_name: <% $.fn %>
        payload: <% $.payload %>
      publish:
        answer: <% task().result %>
  output:
    answer: <% $.answer %>
event:
  input: [fn, type]
  tasks:
    invoke:
      action: aws.lambda.invoke function_name=<% $.fn %> payload=<% {n => 1} %> invocation_type=<% $.type %>
      publish:
        answer: <% task().result %>
  output:
    answer: <% $.answer %>
delegate:
  input: [fn, payload]
  tasks:
    invoke:
      action: aws.lambda.invoke_delegate
      input:
        function_name: <% $.fn %>
        payload: <% $.payload %>
      publish:
        answer: <% task().result %>
  output:
    answer: <% $.answer %>
`

// TestLambdaInvoke calls a real Go function on MiniStack from a workflow:
// its JSON answer is the task's result, its error fails the task with the
// function's errorType and errorMessage, and the delegate form leaves the
// task running until the function posts to the callback URL it was given.
func TestLambdaInvoke(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	fn := deployUserFunction(t, ctx)
	s := serve(t)
	s.register(lambdaWorkflows)

	out := s.run("call", map[string]any{"fn": fn, "payload": map[string]any{"n": 21}}, "SUCCESS")
	answer := out["output"].(map[string]any)["answer"].(map[string]any)
	if answer["doubled"] != float64(42) || answer["function"] != fn {
		t.Fatalf("answer: want doubled=42 function=%s, got %v", fn, answer)
	}

	out = s.run("call", map[string]any{"fn": fn, "payload": map[string]any{"fail": "image too large"}}, "ERROR")
	info := stateInfo(out)
	for _, want := range []string{`"errorType":"ResizeError"`, `"errorMessage":"image too large"`, fn} {
		if !strings.Contains(info, want) {
			t.Errorf("state_info of a function error: want %s in %q", want, info)
		}
	}

	out = s.run("call", map[string]any{"fn": "no-such-function-" + fn, "payload": nil}, "ERROR")
	if info := stateInfo(out); !strings.Contains(info, "aws.lambda.invoke: ResourceNotFoundException: ") {
		t.Errorf("state_info of a missing function: want the AWS error code and message, got %q", info)
	}

	out = s.run("event", map[string]any{"fn": fn, "type": "Event"}, "SUCCESS")
	if a := out["output"].(map[string]any)["answer"]; a != nil {
		t.Errorf("an Event invocation has no answer, got %v", a)
	}
	out = s.run("event", map[string]any{"fn": fn, "type": "Later"}, "ERROR")
	if info := stateInfo(out); !strings.Contains(info, `invocation_type must be RequestResponse or Event, not "Later"`) {
		t.Errorf("state_info of a bad invocation_type: got %q", info)
	}

	out = s.run("delegate", map[string]any{"fn": fn, "payload": map[string]any{"n": 5}}, "SUCCESS")
	if got := out["output"].(map[string]any)["answer"]; fmt.Sprint(got) != "map[tripled:15]" {
		t.Fatalf("delegate answer: want {tripled: 15} from the callback, got %v", got)
	}
}

// TestMessaging sends to a queue, publishes to a topic and puts an event
// on EventBridge from one workflow, then reads the queue.
func TestMessaging(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	cfg := awsConfig()
	q := sqs.NewFromConfig(cfg)
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(randomName("orders-"))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(randomName("orders-"))})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	bus := randomName("orders-")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatalf("create event bus: %v", err)
	}
	s := serve(t)
	s.register(`
version: '2.0'
notify:
  input: [queue, topic, bus]
  tasks:
    enqueue:
      action: aws.sqs.send_message
      input:
        queue_url: <% $.queue %>
        message_body: {order: 17, items: [a, b]}
        message_attributes: {kind: order, priority: 2}
      publish: {sent: <% task().result %>}
      on-success: [announce]
    announce:
      action: aws.sns.publish topic_arn=<% $.topic %> message="order 17 queued" subject=orders
      publish: {published: <% task().result %>}
      on-success: [emit]
    emit:
      action: aws.events.put_events
      input:
        entries:
          - source: shop.orders
            detail_type: OrderQueued
            detail: {order: 17}
            event_bus_name: <% $.bus %>
      publish: {emitted: <% task().result %>}
  output:
    sent: <% $.sent %>
    published: <% $.published %>
    emitted: <% $.emitted %>
`)
	out := s.run("notify", map[string]any{"queue": aws.ToString(qo.QueueUrl), "topic": aws.ToString(topic.TopicArn), "bus": bus}, "SUCCESS")
	res := out["output"].(map[string]any)
	sent := res["sent"].(map[string]any)
	if sent["message_id"] == "" {
		t.Errorf("send_message result: want a message_id, got %v", sent)
	}
	if p := res["published"].(map[string]any); p["message_id"] == "" {
		t.Errorf("publish result: want a message_id, got %v", p)
	}
	if ids := res["emitted"].(map[string]any)["event_ids"].([]any); len(ids) != 1 || ids[0] == "" {
		t.Errorf("put_events result: want one event id, got %v", ids)
	}

	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qo.QueueUrl, WaitTimeSeconds: 2,
		MessageAttributeNames: []string{"All"}})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("receive: want the workflow's message, got %v, %v", got, err)
	}
	m := got.Messages[0]
	if aws.ToString(m.MessageId) != sent["message_id"] {
		t.Errorf("message id %s, the action said %v", aws.ToString(m.MessageId), sent["message_id"])
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &body); err != nil || body["order"] != float64(17) {
		t.Errorf("message body: want the object as JSON, got %q", aws.ToString(m.Body))
	}
	want := map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("order")},
		"priority": {DataType: aws.String("Number"), StringValue: aws.String("2")}}
	for k, w := range want {
		a := m.MessageAttributes[k]
		if aws.ToString(a.DataType) != aws.ToString(w.DataType) || aws.ToString(a.StringValue) != aws.ToString(w.StringValue) {
			t.Errorf("attribute %s: want %s %s, got %s %s", k, aws.ToString(w.DataType), aws.ToString(w.StringValue),
				aws.ToString(a.DataType), aws.ToString(a.StringValue))
		}
	}
}

// TestAWSErrorIsTaskError: AWS refusing a call fails the task with AWS's
// error code and message.
func TestAWSErrorIsTaskError(t *testing.T) {
	s := serve(t)
	s.register(`
version: '2.0'
lost:
  tasks:
    enqueue:
      action: aws.sqs.send_message queue_url="` + endpoint + `/000000000000/no-such-queue" message_body=hi
`)
	out := s.run("lost", map[string]any{}, "ERROR")
	info := stateInfo(out)
	if !strings.Contains(info, "aws.sqs.send_message: ") || !strings.Contains(info, "NonExistentQueue: ") {
		t.Fatalf("state_info: want the action, AWS's error code and message, got %q", info)
	}
}

// TestCallsCheckedAtRegistration: a workflow giving an AWS action an input
// it does not take, or leaving out a required one, is refused when it is
// registered, naming the task and the input.
func TestCallsCheckedAtRegistration(t *testing.T) {
	s := serve(t)
	code, out := s.call("POST", "/workflows", "text/yaml", `
version: '2.0'
bad:
  tasks:
    enqueue:
      action: aws.sqs.send_message queue_url=q body=hi
`)
	msg := fmt.Sprint(out)
	if code != 400 || !strings.Contains(msg, `"body"`) || !strings.Contains(msg, "message_body") {
		t.Fatalf("want 400 naming the unknown input body and the missing message_body, got %d %s", code, msg)
	}
}

// TestUserActionBoundToLambda registers a user action bound to the user's
// function through POST /actions: workflows call it by its name, are
// checked against its input names, and get the function's answer.
func TestUserActionBoundToLambda(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	fn := deployUserFunction(t, ctx)
	s := serve(t)
	if code, out := s.call("POST", "/actions", "application/json",
		`{"name": "img.double", "kind": "lambda", "target": "`+fn+`", "required": ["n"]}`); code != 200 {
		t.Fatalf("POST /actions: %d %v", code, out)
	}
	if code, out := s.call("POST", "/workflows", "text/yaml", "version: '2.0'\nbad:\n  tasks:\n    t:\n      action: img.double m=1\n"); code != 400 ||
		!strings.Contains(fmt.Sprint(out), `"m"`) {
		t.Fatalf("a call with an input the action does not take: want 400 naming m, got %d %v", code, out)
	}
	s.register(`
version: '2.0'
double:
  tasks:
    t:
      action: img.double n=4
      publish: {answer: <% task().result %>}
  output: {answer: <% $.answer %>}
`)
	out := s.run("double", map[string]any{}, "SUCCESS")
	if a := out["output"].(map[string]any)["answer"].(map[string]any); a["doubled"] != float64(8) || a["function"] != fn {
		t.Fatalf("answer: want doubled=8 from %s, got %v", fn, a)
	}
}
