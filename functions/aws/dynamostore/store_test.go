package dynamostore_test

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/storetest"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// TestConformanceDynamoDBLocal runs the whole suite, with the 200-branch
// fan-in (3 executions at once, 32 goroutines, every result twice and
// shuffled), against DynamoDB Local, large values offloaded to MiniStack's S3.
func TestConformanceDynamoDBLocal(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) store.Store {
		return newStore(t, ddbLocal, dynamostore.Options{Blobs: valueBlobs(t)})
	}, storetest.Options{Big: 300 << 10, TooBig: 5 << 20})
}

// TestConformanceMiniStack runs the suite against MiniStack's DynamoDB (the
// emulator the deployed stack is tested on); one fan-in execution, as
// MiniStack serves requests one at a time.
func TestConformanceMiniStack(t *testing.T) {
	storetest.RunWith(t, func(t *testing.T) store.Store {
		return newStore(t, ministack, dynamostore.Options{Blobs: valueBlobs(t)})
	}, storetest.Options{Big: 300 << 10, TooBig: 5 << 20, Executions: 1})
}
