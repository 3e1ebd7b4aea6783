package dynamostore_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/service/servicetest"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// TestChaosDynamoDBLocal runs the chaos suite's generated cases and fault
// schedules (see core/chaos) over the DynamoDB driver on DynamoDB Local.
func TestChaosDynamoDBLocal(t *testing.T) {
	var counts chaos.Counts
	gen := rapid.Custom(chaos.DrawCase)
	fresh := func() store.Store { return newStore(t, ddbLocal, dynamostore.Options{}) }
	for i := 0; i < 12; i++ {
		chaos.CheckCase(t, gen.Example(i), uint64(i), fresh, &counts)
	}
	t.Log(counts.String())
}

// TestCancelWinsAcrossInstancesDynamoDBLocal: two service instances over one
// table, as two Lambda functions: one streams completions while the other
// cancels, which lands within servicetest.MaxCancelTries commits.
func TestCancelWinsAcrossInstancesDynamoDBLocal(t *testing.T) {
	servicetest.CancelUnderLoad(t, newStore(t, ddbLocal, dynamostore.Options{}), 200)
}
