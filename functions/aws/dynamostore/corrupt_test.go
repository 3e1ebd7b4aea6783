package dynamostore_test

import (
	"context"
	"errors"
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
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(st.TableName()),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "e1"}, "sk": &types.AttributeValueMemberS{Value: store.HeadSK}},
		UpdateExpression:          aws.String("SET d = :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: "{this record is corrupt"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Execution(ctx, "e1")
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "execution e1") {
		t.Fatalf("read of a corrupt head: %v, want ErrCorrupt naming execution e1", err)
	}
}
