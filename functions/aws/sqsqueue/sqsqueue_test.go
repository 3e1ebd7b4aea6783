package sqsqueue_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lazyflow/lazyflow/core/queue/queuetest"
	"github.com/lazyflow/lazyflow/functions/aws/sqsqueue"
)

// These tests run against SQS as MiniStack serves it. With AWS_ENDPOINT_URL
// unset, TestMain starts MiniStack with the repository's localstack/
// scripts (and stops it afterwards unless it was already up).
func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqsqueue TestMain:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return m.Run(), nil
	}
	root := filepath.Join("..", "..", "..")
	envFile := filepath.Join(root, ".cache", "localstack", "env")
	_, statErr := os.Stat(envFile)
	alreadyUp := statErr == nil
	script := func(name string, args ...string) error {
		cmd := exec.Command("./localstack/"+name, args...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("localstack/%s: %w", name, err)
		}
		return nil
	}
	if err := script("install.sh", "ministack"); err != nil {
		return 1, err
	}
	if err := script("up.sh", "ministack"); err != nil {
		return 1, err
	}
	if !alreadyUp {
		defer func() { _ = script("down.sh", "ministack") }()
	}
	f, err := os.Open(envFile)
	if err != nil {
		return 1, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			os.Setenv(k, v)
		}
	}
	f.Close()
	return m.Run(), nil
}

var runID = strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)

var seq atomic.Int64

func newQueue(t *testing.T, name string, visibility int) (*sqsqueue.Queue, *sqs.Client) {
	t.Helper()
	return createQueue(t, name, visibility, "")
}

// createQueue makes a queue; redrive, if set, is its RedrivePolicy.
func createQueue(t *testing.T, name string, visibility int, redrive string) (*sqsqueue.Queue, *sqs.Client) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg)
	attrs := map[string]string{string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(visibility)}
	if redrive != "" {
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = redrive
	}
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("sqsqueue-%s-%s-%d", name, runID, seq.Add(1))),
		Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	t.Cleanup(func() { _, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return sqsqueue.New(client, *out.QueueUrl), client
}

// TestConformance runs the queue suite every driver passes against SQS.
func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, opt queuetest.Options) queuetest.Queues {
		vis := int(opt.Visibility / time.Second)
		if opt.MaxReceives == 0 {
			q, _ := newQueue(t, "suite", vis)
			return queuetest.Queues{Queue: q, Duplicates: true}
		}
		dlq, client := newQueue(t, "suite-dlq", vis)
		attrs, err := client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlq.URL()),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, attrs.Attributes["QueueArn"], opt.MaxReceives)
		q, _ := createQueue(t, "suite", vis, policy)
		return queuetest.Queues{Queue: q, DLQ: dlq, Duplicates: true}
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendReceiveDelete(t *testing.T) {
	ctx := ctxFor(t)
	q, _ := newQueue(t, "basic", 30)
	for i := 0; i < 3; i++ {
		if err := q.Send(ctx, []byte(fmt.Sprintf(`{"n": %d}`, i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < 3 {
		msgs, err := q.Receive(ctx, 10, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			t.Fatalf("only %d of 3 messages received", len(seen))
		}
		for _, m := range msgs {
			if m.Receives != 1 || m.ID == "" || m.Receipt == "" {
				t.Fatalf("message %+v", m)
			}
			seen[string(m.Body)] = true
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !seen[`{"n": 0}`] || !seen[`{"n": 2}`] {
		t.Fatalf("bodies %v", seen)
	}
	// Deleted messages do not come back; an empty long poll waits about as asked.
	start := time.Now()
	msgs, err := q.Receive(ctx, 10, time.Second)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("after delete: %v %v", msgs, err)
	}
	if el := time.Since(start); el < 800*time.Millisecond {
		t.Fatalf("receive returned after %v, not a long poll", el)
	}
}

func TestVisibilityAndRedelivery(t *testing.T) {
	ctx := ctxFor(t)
	q, _ := newQueue(t, "vis", 30)
	if err := q.Send(ctx, []byte(`"x"`), 0); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 1, 2*time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v %v", msgs, err)
	}
	// Hidden for the 30 s visibility timeout...
	if again, _ := q.Receive(ctx, 1, time.Second); len(again) != 0 {
		t.Fatalf("received while invisible: %v", again)
	}
	// ...until made visible again, which counts a second receive.
	if err := q.ChangeVisibility(ctx, msgs[0].Receipt, 0); err != nil {
		t.Fatal(err)
	}
	again, err := q.Receive(ctx, 1, 2*time.Second)
	if err != nil || len(again) != 1 || string(again[0].Body) != `"x"` || again[0].Receives != 2 {
		t.Fatalf("redelivery: %+v %v", again, err)
	}
}

func TestDelay(t *testing.T) {
	ctx := ctxFor(t)
	q, _ := newQueue(t, "delay", 30)
	if err := q.Send(ctx, []byte(`"later"`), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if msgs, _ := q.Receive(ctx, 1, 0); len(msgs) != 0 {
		t.Fatalf("delayed message visible at once")
	}
	var got []byte
	for time.Since(sent) < 10*time.Second && got == nil {
		msgs, err := q.Receive(ctx, 1, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 {
			got = msgs[0].Body
		}
	}
	if string(got) != `"later"` || time.Since(sent) < time.Second {
		t.Fatalf("delayed message %q after %v", got, time.Since(sent))
	}
	// A delay over SQS's 15 minutes is capped rather than refused.
	if err := q.Send(ctx, []byte(`"far"`), time.Hour); err != nil {
		t.Fatalf("long delay: %v", err)
	}
}

func TestBodiesSQSRefusesRoundTrip(t *testing.T) {
	ctx := ctxFor(t)
	q, _ := newQueue(t, "bytes", 30)
	bodies := []string{"\xff\xfe not UTF-8", "control \x01 char", "b64:looks encoded", `{"json": "as is"}`}
	for _, b := range bodies {
		if err := q.Send(ctx, []byte(b), 0); err != nil {
			t.Fatalf("send %q: %v", b, err)
		}
	}
	got := map[string]bool{}
	for len(got) < len(bodies) {
		msgs, err := q.Receive(ctx, 10, 2*time.Second)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("received %d of %d: %v", len(got), len(bodies), err)
		}
		for _, m := range msgs {
			got[string(m.Body)] = true
		}
	}
	for _, b := range bodies {
		if !got[b] {
			t.Fatalf("body %q did not round-trip; got %v", b, got)
		}
	}
	// JSON travels as is, so Lambda functions can read it straight from the event.
	if sqsqueue.EncodeBody([]byte(`{"a":"ü"}`)) != `{"a":"ü"}` {
		t.Fatal("JSON body was encoded")
	}
}

// countingAPI counts the SQS requests that send.
type countingAPI struct {
	*sqs.Client
	batches, singles atomic.Int64
}

func (c *countingAPI) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.singles.Add(1)
	return c.Client.SendMessage(ctx, in, opts...)
}

func (c *countingAPI) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.batches.Add(1)
	return c.Client.SendMessageBatch(ctx, in, opts...)
}

// receiveAll receives until want distinct bodies arrived.
func receiveAll(t *testing.T, ctx context.Context, q *sqsqueue.Queue, want int) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for len(got) < want {
		msgs, err := q.Receive(ctx, 10, 2*time.Second)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("received %d of %d: %v", len(got), want, err)
		}
		for _, m := range msgs {
			got[string(m.Body)] = true
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

// SendBatch sends 10 messages per request, splits batches at SQS's 256 KiB
// payload limit, and every body arrives as sent.
func TestSendBatch(t *testing.T) {
	ctx := ctxFor(t)
	plain, client := newQueue(t, "batch", 30)
	api := &countingAPI{Client: client}
	q := sqsqueue.New(api, plain.URL())
	var bodies [][]byte
	for i := range 23 {
		bodies = append(bodies, []byte(fmt.Sprintf(`{"n": %d}`, i)))
	}
	bodies = append(bodies, []byte("\x01 not SQS text"))
	if err := q.SendBatch(ctx, bodies); err != nil {
		t.Fatal(err)
	}
	if b, s := api.batches.Load(), api.singles.Load(); b != 3 || s != 0 {
		t.Fatalf("%d batch and %d single requests for 24 messages; want 3 and 0", b, s)
	}
	got := receiveAll(t, ctx, q, len(bodies))
	for _, b := range bodies {
		if !got[string(b)] {
			t.Fatalf("body %q missing; got %v", b, got)
		}
	}
	// Three bodies of 100 KiB: two fit in one request's 256 KiB, the third
	// goes in a second.
	api.batches.Store(0)
	big := make([][]byte, 3)
	for i := range big {
		big[i] = []byte(fmt.Sprintf(`{"n": %d, "pad": %q}`, i, strings.Repeat("x", 100<<10)))
	}
	if err := q.SendBatch(ctx, big); err != nil {
		t.Fatal(err)
	}
	if b := api.batches.Load(); b != 2 {
		t.Fatalf("%d batch requests for 300 KiB; want 2", b)
	}
	if got := receiveAll(t, ctx, q, 3); len(got) != 3 {
		t.Fatalf("got %d of 3 large bodies", len(got))
	}
	// A body SQS can never take is refused by name; the others are sent.
	err := q.SendBatch(ctx, [][]byte{[]byte(`"ok"`), make([]byte, sqsqueue.MaxBody+1)})
	if err == nil || !strings.Contains(err.Error(), "message 1") {
		t.Fatalf("err %v; want one naming message 1", err)
	}
	if got := receiveAll(t, ctx, q, 1); !got[`"ok"`] {
		t.Fatalf("got %v; want the good body", got)
	}
}
