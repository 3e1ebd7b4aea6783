package dynamostore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// ttlGrace is how long after the retention a finished head's TTL falls due.
// The sweeper's PurgeExecutions deletes an execution with all its items at
// the retention; TTL is only the backstop for a head the sweeper never got
// to, so it must not win the race and orphan the execution's other items.
const ttlGrace = 7 * 24 * time.Hour

// PurgeCandidates implements store.Driver: it queries the byState index of
// each finished state for heads created before before (a head updated
// before then was created before then), oldest first within each state.
// The index may lag the heads, so it only proposes: the head decides.
func (s *driver) PurgeCandidates(ctx context.Context, before time.Time, yield func(string) (bool, error)) error {
	cutoff := before.UTC().Format("2006-01-02T15:04:05.000000000Z")
	for _, st := range []engine.State{engine.Success, engine.Error, engine.Cancelled} {
		in := &dynamodb.QueryInput{TableName: s.table, IndexName: aws.String(IndexByState), ScanIndexForward: aws.Bool(true),
			KeyConditionExpression:    aws.String("gsi2pk = :pk AND gsi2sk < :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS("ST#" + string(st)), ":c": avS(cutoff)},
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
		stop := false
		err := s.queryPages(ctx, "find executions to purge", in, func(it map[string]types.AttributeValue) (bool, error) {
			e, err := s.visibleHead(ctx, it)
			if err != nil || e == nil {
				return err == nil, err
			}
			more, err := yield(e.ID)
			stop = !more
			return more, err
		})
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// DeleteExecutionIf implements store.Driver. The index is eventually
// consistent, so the head itself, read consistently, decides; its delete
// comes last.
func (s *driver) DeleteExecutionIf(ctx context.Context, id string, cond func(*engine.Execution) bool) (bool, error) {
	cur, err := s.Execution(ctx, id)
	if err != nil || cur == nil || !cond(cur) {
		return false, err
	}
	if err := s.deleteExecution(ctx, id); err != nil {
		return false, err
	}
	return true, nil
}

// deleteExecution deletes every item of execution id.
func (s *driver) deleteExecution(ctx context.Context, id string) error {
	// Every item, commit markers and provisional items included, keys only.
	var keys []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk"), ProjectionExpression: aws.String("pk, sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(id)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
	err := s.queryPages(ctx, "list items of "+id, in, func(it map[string]types.AttributeValue) (bool, error) {
		keys = append(keys, key(strOf(it["pk"]), strOf(it["sk"])))
		return true, nil
	})
	if err != nil {
		return err
	}
	// The head goes last: until it is gone, the indexes still find the
	// execution, so a delete cut short is finished by the next purge.
	sort.SliceStable(keys, func(i, j int) bool {
		return strOf(keys[j]["sk"]) == store.HeadSK && strOf(keys[i]["sk"]) != store.HeadSK
	})
	for len(keys) > 0 {
		n := min(len(keys), 25)
		reqs := make([]types.WriteRequest, n)
		for i, k := range keys[:n] {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		keys = keys[n:]
		pending := map[string][]types.WriteRequest{s.opt.Table: reqs}
		for try := 0; len(pending[s.opt.Table]) > 0; try++ {
			if try > s.opt.MaxRetries {
				return fmt.Errorf("delete execution %s: %d deletes left unprocessed: %w", id, len(pending[s.opt.Table]), store.ErrUnavailable)
			}
			if try > 0 {
				s.sleep(ctx, try)
			}
			var out *dynamodb.BatchWriteItemOutput
			err := s.call(ctx, "delete execution "+id, func() ([]types.ConsumedCapacity, error) {
				var err error
				out, err = s.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending,
					ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
				if out != nil {
					return out.ConsumedCapacity, err
				}
				return nil, err
			})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
