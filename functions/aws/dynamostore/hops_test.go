package dynamostore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
	"github.com/lazyflow/lazyflow/functions/aws/sqsqueue"
	"github.com/lazyflow/lazyflow/functions/internal/awshost"
)

// The hop harness runs the AWS host (awshost.Build: the service the engine
// and runner functions run) over DynamoDB Local and MiniStack's SQS, and
// plays the two event source mappings itself: each receive from the result
// queue is one engine invocation, each receive from the task queue one
// runner invocation. It counts what one sequential task costs.

// sendCounter counts SQS send requests and the messages they carry.
type sendCounter struct {
	*sqs.Client
	requests, messages atomic.Int64
}

func (c *sendCounter) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.requests.Add(1)
	c.messages.Add(1)
	return c.Client.SendMessage(ctx, in, opts...)
}

func (c *sendCounter) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.requests.Add(1)
	c.messages.Add(int64(len(in.Entries)))
	return c.Client.SendMessageBatch(ctx, in, opts...)
}

type hops struct {
	svc         *service.Service
	st, watch   *dynamostore.Store
	sqs         *sendCounter
	tasks, res  *sqsqueue.Queue
	engineCalls int
	runnerCalls int
}

// hopConfig is one setting of the two switches.
type hopConfig struct {
	name          string
	inlineSteps   int
	runnerApplies bool
}

func newHops(t testing.TB, c hopConfig, src string) *hops {
	t.Helper()
	ctx := context.Background()
	client := ddbClient(ddbLocal)
	st := newStoreWith(t, client, dynamostore.Options{})
	h := &hops{st: st, watch: dynamostore.New(client, dynamostore.Options{Table: st.TableName()})}
	h.sqs = &sendCounter{Client: sqs.NewFromConfig(awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(ministack) })}
	queue := func(role string) *sqsqueue.Queue {
		out, err := h.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(randomName("hops-" + role + "-"))})
		if err != nil {
			t.Fatalf("create %s queue on MiniStack: %v", role, err)
		}
		t.Cleanup(func() { _, _ = h.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
		return sqsqueue.New(h.sqs, aws.ToString(out.QueueUrl))
	}
	h.tasks, h.res = queue("tasks"), queue("results")
	cfg := awshost.Config{InlineSteps: c.inlineSteps, RunnerApplies: c.runnerApplies}
	h.svc = awshost.Build(cfg, st, h.tasks, h.res, []byte(strings.Repeat("k", 32)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.svc.Actions.Register("test.work", func(ctx context.Context, in map[string]any) (any, error) { return in["n"], nil })
	if _, err := h.svc.Register(ctx, "hops.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return h
}

// poll plays one event source mapping: one receive is one invocation of fn
// over the batch, and the messages it handled are deleted.
func (h *hops) poll(ctx context.Context, t testing.TB, q *sqsqueue.Queue, fn func(context.Context, []byte) error, calls *int) bool {
	msgs, err := q.Receive(ctx, sqsqueue.MaxBatch, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		return false
	}
	*calls++
	for _, m := range msgs {
		if err := fn(ctx, m.Body); err != nil {
			t.Fatalf("handle %s: %v", m.Body, err)
		}
		if err := q.Delete(ctx, m.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	return true
}

// run starts wf and plays the functions until it ends.
func (h *hops) run(t testing.TB, wf string) *engine.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, _, err := h.svc.Start(ctx, service.StartRequest{Workflow: wf})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cur, err := h.watch.Execution(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State.Terminal() {
			return cur
		}
		ran := h.poll(ctx, t, h.res, h.svc.HandleMessage, &h.engineCalls)
		ran = h.poll(ctx, t, h.tasks, h.svc.RunTask, &h.runnerCalls) || ran
		if !ran {
			select {
			case <-ctx.Done():
				t.Fatalf("execution %s still %s", e.ID, cur.State)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// hopChain is a sequential chain of n tasks calling action, publishing each
// result, the output the last one.
func hopChain(n int, action string) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nchain:\n  output:\n    last: <% $.last %>\n  tasks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "    c%d:\n      action: %s\n      input:\n        %s: %d\n      publish:\n        last: <%% task().result %%>\n",
			i, action, map[string]string{"std.echo": "output", "test.work": "n"}[action], i)
		if i < n {
			fmt.Fprintf(&b, "      on-success: c%d\n", i+1)
		}
	}
	return b.String()
}

// The same workflow, a chain of runner actions ending in a std.fail
// handled by on-error, ends the same with the runner applying its results
// and without, over real SQS and DynamoDB emulators; with the switch on, no
// action result travels through the result queue.
func TestRunnerAppliesBothSettings(t *testing.T) {
	src := hopChain(3, "test.work") + `      on-success: boom
    boom:
      action: std.fail
      retry:
        count: 1
        delay: 0
      on-error: after
    after:
      action: test.work n=<% $.last %>
      publish:
        last: <% task().result %>
`
	for _, c := range []hopConfig{{"queue", service.DefaultInlineSteps, false}, {"runner-applies", service.DefaultInlineSteps, true}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHops(t, c, src)
			e := h.run(t, "chain")
			out, _ := value.AsGoMap(e.Output)
			if e.State != engine.Success || fmt.Sprint(out["last"]) != "3" {
				t.Fatalf("%s %q output %v; want SUCCESS with last=3", e.State, e.StateInfo, e.Output)
			}
			if c.runnerApplies && h.engineCalls != 0 {
				t.Fatalf("%d engine invocations; want none with the runner applying its results", h.engineCalls)
			}
			if !c.runnerApplies && h.engineCalls != 4 {
				t.Fatalf("%d engine invocations; want one per runner action (4)", h.engineCalls)
			}
		})
	}
}

// BenchmarkHops reports, per task of a sequential chain over DynamoDB Local
// and MiniStack's SQS, what the AWS host asks of each service: SQS messages
// and send requests, engine and runner invocations, DynamoDB requests and
// consumed capacity. Run with
//
//	go test ./functions/aws/dynamostore -run '^$' -bench Hops -benchtime 1x
func BenchmarkHops(b *testing.B) {
	const n = 20
	for _, c := range []struct {
		hopConfig
		action string
	}{
		{hopConfig{"echo-queued", 0, false}, "std.echo"},
		{hopConfig{"echo-inline", service.DefaultInlineSteps, false}, "std.echo"},
		{hopConfig{"work-queued", service.DefaultInlineSteps, false}, "test.work"},
		{hopConfig{"work-runner-applies", service.DefaultInlineSteps, true}, "test.work"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				h := newHops(b, c.hopConfig, hopChain(n, c.action))
				before := h.st.Stats.Snapshot()
				t0 := time.Now()
				if e := h.run(b, "chain"); e.State != engine.Success {
					b.Fatalf("%s %q", e.State, e.StateInfo)
				}
				wall := time.Since(t0)
				d := h.st.Stats.Snapshot().Sub(before)
				per := func(v float64) float64 { return v / n }
				b.ReportMetric(per(float64(h.sqs.messages.Load())), "sqs-msgs/task")
				b.ReportMetric(per(float64(h.sqs.requests.Load())), "sqs-sends/task")
				b.ReportMetric(per(float64(h.engineCalls)), "engine-calls/task")
				b.ReportMetric(per(float64(h.runnerCalls)), "runner-calls/task")
				b.ReportMetric(per(float64(d.Requests)), "ddb-req/task")
				b.ReportMetric(per(d.RCU), "RCU/task")
				b.ReportMetric(per(d.WCU), "WCU/task")
				b.ReportMetric(float64(wall.Milliseconds())/n, "emu-ms/task")
			}
		})
	}
}
