package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/storetest"
	"github.com/lazyflow/lazyflow/functions/aws/blobstore"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// A head whose record cannot be decoded is store.ErrCorrupt, named by its
// execution, so a host can tell a record that needs repair from a database
// that is down (ErrUnavailable), and the API can say which record it is.
func TestCorruptHeadIsErrCorrupt(t *testing.T) {
	ctx := context.Background()
	c := ddbClient(ddbLocal)
	st := newStoreWith(t, c, dynamostore.Options{})
	now := time.Now().UTC()
	e := &engine.Execution{ID: "e1", Workflow: "wf", DefID: "d", State: engine.Running, Root: "e1", Created: now, Updated: now}
	if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
		t.Fatal(err)
	}
	corrupt(t, c, st, "e1", store.HeadSK)
	_, err := st.Execution(ctx, "e1")
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "execution e1") {
		t.Fatalf("read of a corrupt head: %v, want ErrCorrupt naming execution e1", err)
	}
}

// TestCorruptRecords runs the conformance case for undecodable records,
// planting text that is not JSON in an item's record attribute.
func TestCorruptRecords(t *testing.T) {
	c := ddbClient(ddbLocal)
	var logs bytes.Buffer
	st := newStoreWith(t, c, dynamostore.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	storetest.Corrupt(t, st, func(pk, sk string) { corrupt(t, c, st, pk, sk) }, &logs)
	first, _, _ := strings.Cut(logs.String(), "\n")
	if !strings.Contains(first, `"execution_id":"e3"`) || !strings.Contains(first, `"key":"e3/`+store.HeadSK+`"`) {
		t.Fatalf("log line %q, want the execution id and key of the corrupt head", first)
	}
}

// corrupt overwrites the record attribute of the item at pk/sk with text
// that is not JSON.
func corrupt(t *testing.T, c *dynamodb.Client, st *dynamostore.Store, pk, sk string) {
	t.Helper()
	_, err := c.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(st.TableName()),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		UpdateExpression:          aws.String("SET d = :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "{this record is corrupt"}}})
	if err != nil {
		t.Fatal(err)
	}
}

// An offloaded value S3 cannot serve is ErrUnavailable (the API's 503, a
// retry); one S3 does not have is ErrCorrupt, naming the record.
func TestOffloadedValueReadFailure(t *testing.T) {
	ctx := context.Background()
	c := ddbClient(ddbLocal)
	st := newStoreWith(t, c, dynamostore.Options{Blobs: valueBlobs(t), OffloadAt: 1 << 10})
	big := strings.Repeat("lazyflow ", 1<<10)
	tk := &engine.Task{Exec: "ex-1", Key: "t", Name: "t", State: engine.Success, Attempt: 1, Result: big}
	if err := st.Commit(ctx, []engine.Op{engine.PutTask{Task: tk}}); err != nil {
		t.Fatal(err)
	}
	// Readers of the same table whose S3 is down, or is a bucket without
	// the value.
	down := s3.NewFromConfig(awsConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	})
	unreachable := dynamostore.New(c, dynamostore.Options{Table: st.TableName(), Blobs: blobstore.New(down, "lazyflow-test-values", "values/")})
	_, err := unreachable.Task(ctx, "ex-1", "t")
	if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("S3 down: %v, want ErrUnavailable", err)
	}
	empty := blobstore.New(s3Client(), "lazyflow-test-empty", "values/")
	if err := empty.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	missing := dynamostore.New(c, dynamostore.Options{Table: st.TableName(), Blobs: empty})
	_, err = missing.Task(ctx, "ex-1", "t")
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "task t of ex-1") {
		t.Fatalf("offloaded value missing: %v, want ErrCorrupt naming task t of ex-1", err)
	}
}
