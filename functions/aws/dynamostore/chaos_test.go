package dynamostore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// TestChaosSoakDynamoDBLocal is `make chaos` on DynamoDB Local: the soak
// of core/chaos (CHAOS_DURATION or CHAOS_ITERATIONS, CHAOS_SEED) over this
// driver, a fresh table per run. Its counts go to CHAOS_PARTS, from which
// core/chaos's TestChaosSoak writes them as a row of the results file.
func TestChaosSoakDynamoDBLocal(t *testing.T) {
	cfg := chaos.SoakOrSkip(t)
	counts := chaos.Soak(t, cfg, map[string]func() store.Store{soakDriver: soakStores(t)})
	c := counts[soakDriver]
	t.Logf("%s: %s", soakDriver, c.String())
	if dir := os.Getenv("CHAOS_PARTS"); dir != "" {
		if err := chaos.SavePart(dir, soakDriver, c); err != nil {
			t.Fatal(err)
		}
	}
}

// soakDriver is this driver's row in the soak's results.
const soakDriver = "dynamodb-local"

// soakStores makes a store over a fresh table for each run and deletes the
// tables made before it: chaos.CheckCase runs one run after the other, so
// a store is done with once the next is made, and a soak's thousands of
// tables would otherwise fill DynamoDB Local's memory until the test ends.
func soakStores(t *testing.T) func() store.Store {
	c := ddbClient(ddbLocal)
	var done []string
	drop := func() {
		for _, table := range done {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
			cancel()
			if err != nil {
				t.Fatalf("delete table %s on %s: %v", table, ddbLocal, err)
			}
		}
		done = done[:0]
	}
	t.Cleanup(drop)
	return func() store.Store {
		drop()
		table := createTable(t, c, "lazyflow-soak-")
		done = append(done, table)
		return dynamostore.New(c, dynamostore.Options{Table: table})
	}
}

// TestCancelWinsAcrossInstancesDynamoDBLocal: two service instances over one
// table, as two Lambda functions: one streams completions while the other
// cancels, which lands within servicetest.MaxCancelTries commits.
func TestCancelWinsAcrossInstancesDynamoDBLocal(t *testing.T) {
	servicetest.CancelUnderLoad(t, newStore(t, ddbLocal, dynamostore.Options{}), 200)
}
