// Package localstack_test smoke-tests the emulator tier that the end-to-end suite relies on:
// DynamoDB Local's conditional writes, MiniStack's SQS redelivery and dead-letter queues, and
// MiniStack running a real Go provided.al2023 Lambda, directly and from an SQS event source
// mapping with partial batch failures.
//
// When AWS_ENDPOINT_URL is unset, TestMain installs and starts the no-Docker emulators with
// localstack/install.sh and localstack/up.sh and stops them afterwards (unless they were
// already up). When it is set (for example to a Docker LocalStack), the tests use it as is;
// DynamoDB then goes to LAZYFLOW_DDB_LOCAL_ENDPOINT, or to AWS_ENDPOINT_URL without it.
package localstack_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// runID keeps resource names unique, so reruns against a long-lived emulator do not collide.
var runID = strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localstack TestMain:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return m.Run(), nil
	}
	envFile := filepath.Join("..", ".cache", "localstack", "env")
	_, statErr := os.Stat(envFile)
	alreadyUp := statErr == nil
	if err := script("install.sh", "ministack", "ddblocal"); err != nil {
		return 1, err
	}
	if err := script("up.sh"); err != nil {
		return 1, err
	}
	if !alreadyUp {
		defer func() {
			if err := script("down.sh"); err != nil {
				fmt.Fprintln(os.Stderr, "localstack TestMain: down.sh:", err)
			}
		}()
	}
	if err := loadEnv(envFile); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// script runs one of the localstack/ scripts with its output on the test's stderr.
func script(name string, args ...string) error {
	cmd := exec.Command("./"+name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("localstack/%s: %w", name, err)
	}
	return nil
}

// loadEnv sets the KEY=VALUE lines that up.sh wrote as this process's environment.
func loadEnv(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open emulator env file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		return fmt.Errorf("%s has no AWS_ENDPOINT_URL", path)
	}
	return nil
}

func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestDynamoDBLocalConditionalPut checks the semantics the store's commit relies on: a
// second put guarded by attribute_not_exists must fail with ConditionalCheckFailed, hand
// back the existing item, and leave it unchanged.
func TestDynamoDBLocalConditionalPut(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	endpoint := os.Getenv("LAZYFLOW_DDB_LOCAL_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	db := dynamodb.NewFromConfig(awsConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		// DynamoDB Local sends no x-amz-crc32 on error responses; without this the SDK logs a
		// spurious checksum warning after every ConditionalCheckFailed.
		o.DisableValidateResponseChecksum = true
	})
	table := "smoke-" + runID
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table on %s: %v", endpoint, err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})

	put := func(v string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberS{Value: "exec-1"},
				"v":  &ddbtypes.AttributeValueMemberS{Value: v},
			},
			ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatalf("first conditional put: %v", err)
	}
	err = put("second")
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second conditional put: want ConditionalCheckFailedException, got %v", err)
	}
	if got, ok := ccf.Item["v"].(*ddbtypes.AttributeValueMemberS); !ok || got.Value != "first" {
		t.Errorf("ConditionalCheckFailed item: want v=first, got %#v", ccf.Item)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "exec-1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get item: %v", err)
	}
	if got, ok := out.Item["v"].(*ddbtypes.AttributeValueMemberS); !ok || got.Value != "first" {
		t.Errorf("stored item after failed put: want v=first, got %#v", out.Item)
	}
}

type queue struct{ url, arn string }

// createQueue makes a queue with the given visibility timeout, and a redrive policy to dlq
// when dlq is set. The policy goes through SetQueueAttributes because that is how the
// end-to-end setup must repair queues that CloudFormation created without one.
func createQueue(t *testing.T, ctx context.Context, q *sqs.Client, name string, visibility int, dlq *queue, maxReceive int) queue {
	t.Helper()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name + "-" + runID),
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(visibility)},
	})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}) })
	if dlq != nil {
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlq.arn, maxReceive)
		if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(url),
			Attributes: map[string]string{"RedrivePolicy": policy},
		}); err != nil {
			t.Fatalf("set redrive policy on %s: %v", name, err)
		}
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("get attributes of %s: %v", name, err)
	}
	if dlq != nil && !strings.Contains(attrs.Attributes["RedrivePolicy"], dlq.arn) {
		t.Fatalf("queue %s: RedrivePolicy not stored, attributes %v", name, attrs.Attributes)
	}
	return queue{url: url, arn: attrs.Attributes["QueueArn"]}
}

func receive(t *testing.T, ctx context.Context, q *sqs.Client, url string, wait int32) []sqstypes.Message {
	t.Helper()
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("receive from %s: %v", url, err)
	}
	return out.Messages
}

// TestMiniStackSQSRedelivery checks visibility timeout, redelivery with a growing receive
// count, and the move to the dead-letter queue once maxReceiveCount receives have passed.
func TestMiniStackSQSRedelivery(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	q := sqs.NewFromConfig(awsConfig(t))
	dlq := createQueue(t, ctx, q, "smoke-dlq", 30, nil, 0)
	src := createQueue(t, ctx, q, "smoke-src", 1, &dlq, 2)

	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(src.url), MessageBody: aws.String("poison")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	// SQS delivers at least once: an SDK retry of a send whose response was
	// lost enqueues a second copy (seen once under load). Every copy must then
	// follow the same course, so the test counts the copies the first receive
	// gets and holds the later ones to that.
	copies := 0
	for attempt := 1; attempt <= 2; attempt++ {
		msgs := receive(t, ctx, q, src.url, 3)
		if attempt == 1 && len(msgs) > 1 {
			t.Logf("the send was delivered %d times (at-least-once)", len(msgs))
		}
		if copies == 0 {
			copies = len(msgs)
		}
		if len(msgs) == 0 || len(msgs) != copies {
			t.Fatalf("receive %d: want %d poison message(s), got %d messages", attempt, max(copies, 1), len(msgs))
		}
		for _, m := range msgs {
			if aws.ToString(m.Body) != "poison" {
				t.Fatalf("receive %d: got %q, want the poison message", attempt, aws.ToString(m.Body))
			}
			if got := m.Attributes["ApproximateReceiveCount"]; got != strconv.Itoa(attempt) {
				t.Errorf("receive %d: ApproximateReceiveCount = %q", attempt, got)
			}
		}
		// Within the visibility timeout the message must stay hidden.
		if hidden := receive(t, ctx, q, src.url, 0); len(hidden) != 0 {
			t.Fatalf("receive %d: message visible again inside its visibility timeout", attempt)
		}
		time.Sleep(1200 * time.Millisecond)
	}
	// The third receive finds the count at maxReceiveCount, so the message goes to the DLQ.
	if msgs := receive(t, ctx, q, src.url, 2); len(msgs) != 0 {
		t.Fatalf("after maxReceiveCount: source queue still delivers %q", aws.ToString(msgs[0].Body))
	}
	var dead []sqstypes.Message
	for len(dead) < copies {
		msgs := receive(t, ctx, q, dlq.url, 3)
		if len(msgs) == 0 {
			break
		}
		dead = append(dead, msgs...)
	}
	if len(dead) != copies {
		t.Fatalf("dead-letter queue: want %d poison message(s), got %d messages", copies, len(dead))
	}
	for _, m := range dead {
		if aws.ToString(m.Body) != "poison" {
			t.Fatalf("dead-letter queue: got %q, want the poison message", aws.ToString(m.Body))
		}
	}
}

// buildEchoZip builds testdata/echofn as Lambda's provided.al2023 runtime expects: a static
// binary named bootstrap for this host's architecture (MiniStack execs it directly).
func buildEchoZip(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/echofn")
	cmd.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH, "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build echofn: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("read bootstrap: %v", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		t.Fatalf("zip bootstrap: %v", err)
	}
	if _, err := w.Write(code); err != nil {
		t.Fatalf("zip bootstrap: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("zip bootstrap: %v", err)
	}
	return buf.Bytes()
}

// TestMiniStackGoLambda deploys testdata/echofn as provided.al2023, invokes it directly, then
// drives it from an SQS mapping with ReportBatchItemFailures: the good message is forwarded
// by the function (through the emulator endpoint it inherits), the failing one is retried
// and ends in the dead-letter queue.
func TestMiniStackGoLambda(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	zipped := buildEchoZip(t)
	cfg := awsConfig(t)
	lc := lambda.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)

	out := createQueue(t, ctx, q, "smoke-out", 30, nil, 0)
	dlq := createQueue(t, ctx, q, "smoke-fn-dlq", 30, nil, 0)
	src := createQueue(t, ctx, q, "smoke-fn-src", 1, &dlq, 2)

	name := "smoke-echo-" + runID
	_, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String("arn:aws:iam::000000000000:role/lazyflow-smoke"),
		Code:          &lambdatypes.FunctionCode{ZipFile: zipped},
		Architectures: []lambdatypes.Architecture{hostArchitecture()},
		Timeout:       aws.Int32(10),
		Environment:   &lambdatypes.Environment{Variables: map[string]string{"OUT_QUEUE_URL": out.url}},
	})
	if err != nil {
		t.Fatalf("create function: %v", err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 60*time.Second); err != nil {
		t.Fatalf("function never became active: %v", err)
	}

	inv, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"echo":"hello"}`)})
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if inv.FunctionError != nil {
		t.Fatalf("invoke: function error %s: %s", aws.ToString(inv.FunctionError), inv.Payload)
	}
	var got map[string]any
	if err := json.Unmarshal(inv.Payload, &got); err != nil {
		t.Fatalf("invoke payload %q is not JSON (a mock answer?): %v", inv.Payload, err)
	}
	if got["echo"] != "hello" || got["function"] != name {
		t.Fatalf("invoke payload: want echo=hello function=%s, got %s", name, inv.Payload)
	}

	esm, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName:          aws.String(name),
		EventSourceArn:        aws.String(src.arn),
		BatchSize:             aws.Int32(10),
		FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
	})
	if err != nil {
		t.Fatalf("create event source mapping: %v", err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: esm.UUID})
	})
	// An all-success batch first: the function answers with an empty batchItemFailures.
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(src.url), MessageBody: aws.String("ok-0")}); err != nil {
		t.Fatalf("send ok-0: %v", err)
	}
	if n := waitForBody(t, ctx, q, out.url, "ok-0", 60*time.Second); n != 1 {
		t.Errorf("ok-0 forwarded %d times, want once", n)
	}
	for _, body := range []string{"ok-1", "fail-1"} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(src.url), MessageBody: aws.String(body)}); err != nil {
			t.Fatalf("send %s: %v", body, err)
		}
	}

	forwarded := waitForBody(t, ctx, q, out.url, "ok-1", 60*time.Second)
	if forwarded != 1 {
		t.Errorf("ok-1 forwarded %d times, want once (a succeeded item must be deleted, not retried)", forwarded)
	}
	if n := waitForBody(t, ctx, q, dlq.url, "fail-1", 60*time.Second); n != 1 {
		t.Errorf("fail-1 reached the dead-letter queue %d times, want once", n)
	}
	if msgs := receive(t, ctx, q, out.url, 2); len(msgs) != 0 {
		t.Errorf("output queue has extra messages after the batch settled: %q", aws.ToString(msgs[0].Body))
	}
}

// waitForBody receives from url until a message with body want arrives or d passes, and
// returns how many such messages it saw (deleting them all).
func waitForBody(t *testing.T, ctx context.Context, q *sqs.Client, url, want string, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	seen := 0
	for time.Now().Before(deadline) {
		for _, m := range receive(t, ctx, q, url, 2) {
			if aws.ToString(m.Body) == want {
				seen++
			} else {
				t.Errorf("unexpected message %q on %s", aws.ToString(m.Body), url)
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete from %s: %v", url, err)
			}
		}
		if seen > 0 {
			return seen
		}
	}
	t.Fatalf("no %q on %s within %s", want, url, d)
	return 0
}

func hostArchitecture() lambdatypes.Architecture {
	if runtime.GOARCH == "arm64" {
		return lambdatypes.ArchitectureArm64
	}
	return lambdatypes.ArchitectureX8664
}
