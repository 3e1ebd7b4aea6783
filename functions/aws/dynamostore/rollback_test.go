package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// denyDeletes answers every DeleteItem as IAM does for a role without
// dynamodb:DeleteItem; every other request reaches DynamoDB Local.
type denyDeletes struct{}

func (denyDeletes) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DeleteItem") {
		return http.DefaultTransport.RoundTrip(r)
	}
	body := `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"not authorized to perform: dynamodb:DeleteItem"}`
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: r,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body))}, nil
}

// failLargeCommit commits a head, then a commit too large for one
// transaction (slots new records, created provisionally) that conflicts on
// the head's version, so its provisional items are rolled back.
func failLargeCommit(t *testing.T, st *dynamostore.Store, slots int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	e := &engine.Execution{ID: "e1", Workflow: "wf", DefID: "d", State: engine.Running, Root: "e1", Created: now, Updated: now}
	if err := st.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err != nil {
		t.Fatal(err)
	}
	ops := []engine.Op{engine.PutExecution{Exec: e, IfVersion: 7}}
	for i := range slots {
		ops = append(ops, engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "t", Index: i, State: engine.Running}})
	}
	if err := st.Commit(ctx, ops); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("large commit on a stale version: %v, want ErrConflict", err)
	}
}

// items counts every item of execution e1 in the table, provisional ones
// included.
func items(t *testing.T, c *dynamodb.Client, table string) int {
	t.Helper()
	out, err := c.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "e1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// TestRollbackOfLargeCommit: a large commit that fails deletes what its
// first phase wrote, and when a delete is refused (a role without
// dynamodb:DeleteItem) every item left behind is logged with its key,
// its commit and the cause.
func TestRollbackOfLargeCommit(t *testing.T) {
	const slots = 120
	t.Run("deleted", func(t *testing.T) {
		c := ddbClient(ddbLocal)
		st := newStoreWith(t, c, dynamostore.Options{})
		failLargeCommit(t, st, slots)
		if n := items(t, c, st.TableName()); n != 1 {
			t.Fatalf("%d items after the rollback, want the head alone", n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		c := dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(ddbLocal)
			o.HTTPClient = &http.Client{Transport: denyDeletes{}}
		})
		// slog's handler serializes the rollback's concurrent writes.
		var logs bytes.Buffer
		st := newStoreWith(t, c, dynamostore.Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
		failLargeCommit(t, st, slots)
		if n := items(t, c, st.TableName()); n != 1+slots {
			t.Fatalf("%d items after a refused rollback, want the head and %d left behind", n, slots)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != slots {
			t.Fatalf("%d log lines for %d items left behind:\n%s", len(lines), slots, logs.String())
		}
		for _, want := range []string{"level=WARN", "left behind", "pk=e1", "sk=", "commit=", "AccessDeniedException", st.TableName()} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("log line lacks %q: %s", want, lines[0])
			}
		}
		// Left behind, the items stay invisible.
		got, err := st.Slots(context.Background(), "e1", "t")
		if err != nil || len(got) != 0 {
			t.Fatalf("slots of the failed commit: %d, %v", len(got), err)
		}
	})
}
