package dynamostore_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	corruptHead(t, c, st, "e1")
	_, err := st.Execution(ctx, "e1")
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "execution e1") {
		t.Fatalf("read of a corrupt head: %v, want ErrCorrupt naming execution e1", err)
	}
}

// corruptHead overwrites the record of execution id's head with bytes that
// are not JSON.
func corruptHead(t *testing.T, c *dynamodb.Client, st *dynamostore.Store, id string) {
	t.Helper()
	_, err := c.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(st.TableName()),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: id}, "sk": &types.AttributeValueMemberS{Value: store.HeadSK}},
		UpdateExpression:          aws.String("SET d = :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "{this record is corrupt"}}})
	if err != nil {
		t.Fatal(err)
	}
}

// A corrupt head is left out of every list, which still pages through all
// the others, and is logged at ERROR naming it; the purge goes past it too:
// one record that needs repair must not hide every RUNNING execution from
// Sweep or the API.
func TestListSkipsCorruptHead(t *testing.T) {
	ctx := context.Background()
	c := ddbClient(ddbLocal)
	var logs bytes.Buffer
	st := newStoreWith(t, c, dynamostore.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	now := time.Now().UTC()
	for i, id := range []string{"e1", "e2", "e3", "e4"} {
		at := now.Add(time.Duration(i) * time.Second)
		e := &engine.Execution{ID: id, Workflow: "wf", DefID: "d", State: engine.Running, Root: id, Created: at, Updated: at}
		if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
			t.Fatal(err)
		}
	}
	corruptHead(t, c, st, "e3")
	for _, p := range []store.ListParams{{State: engine.Running}, {Workflow: "wf"}, {}} {
		var ids []string
		for cursor := ""; ; {
			p.Limit, p.Cursor = 1, cursor
			page, err := st.ListExecutions(ctx, p)
			if err != nil {
				t.Fatalf("list %+v with a corrupt head: %v", p, err)
			}
			for _, e := range page.Executions {
				ids = append(ids, e.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if got := strings.Join(ids, ","); got != "e4,e2,e1" {
			t.Errorf("list %+v: %s, want e4,e2,e1", p, got)
		}
	}
	var line struct {
		Level, Execution string
		Key              string
	}
	first, _, _ := strings.Cut(logs.String(), "\n")
	if err := json.Unmarshal([]byte(strings.ReplaceAll(first, "execution_id", "Execution")), &line); err != nil {
		t.Fatalf("no log line for the corrupt head: %q", logs.String())
	}
	if line.Level != "ERROR" || line.Execution != "e3" || line.Key != "e3/"+store.HeadSK {
		t.Fatalf("log line %q, want ERROR naming execution e3 and its key", first)
	}

	// The purge deletes the finished executions it can read and keeps one it
	// cannot.
	old := now.Add(-time.Hour)
	for _, id := range []string{"old1", "old2"} {
		e := &engine.Execution{ID: id, Workflow: "old", DefID: "d", State: engine.Success, Root: id, Created: old, Updated: old}
		if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
			t.Fatal(err)
		}
	}
	corruptHead(t, c, st, "old1")
	if n, err := st.PurgeExecutions(ctx, store.PurgeParams{Before: now}); err != nil || n != 1 {
		t.Fatalf("purge with a corrupt finished head: %d deleted, %v; want 1", n, err)
	}
	if _, err := st.Execution(ctx, "old1"); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("the corrupt head after the purge: %v, want it kept", err)
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
