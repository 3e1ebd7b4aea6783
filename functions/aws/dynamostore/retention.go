package dynamostore

import (
	"context"
	"fmt"
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

// PurgeExecutions implements store.Store: it queries the byState index of
// each finished state for heads created before p.Before (a head updated
// before then was created before then), keeps those also updated before it,
// and deletes each execution's items, its head last.
func (s *Store) PurgeExecutions(ctx context.Context, p store.PurgeParams) (int, error) {
	cutoff := p.Before.UTC().Format("2006-01-02T15:04:05.000000000Z")
	n := 0
	for _, st := range []engine.State{engine.Success, engine.Error, engine.Cancelled} {
		in := &dynamodb.QueryInput{TableName: s.table, IndexName: aws.String(IndexByState), ScanIndexForward: aws.Bool(true),
			KeyConditionExpression:    aws.String("gsi2pk = :pk AND gsi2sk < :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS("ST#" + string(st)), ":c": avS(cutoff)},
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
		for {
			var out *dynamodb.QueryOutput
			err := s.read(ctx, "find executions to purge", func() ([]types.ConsumedCapacity, error) {
				var err error
				out, err = s.c.Query(ctx, in)
				if out != nil {
					return caps(out.ConsumedCapacity), err
				}
				return nil, err
			})
			if err != nil {
				return n, err
			}
			for _, it := range out.Items {
				if ok, err := s.visible(ctx, it); err != nil {
					return n, err
				} else if !ok {
					continue
				}
				e, err := s.decodeHead(ctx, it)
				if err != nil {
					return n, err
				}
				// The index is eventually consistent: the head itself decides.
				cur, err := s.Execution(ctx, e.ID)
				if err != nil {
					return n, err
				}
				if cur == nil || !cur.State.Terminal() || !cur.Updated.Before(p.Before) {
					continue
				}
				if err := s.DeleteExecution(ctx, e.ID); err != nil {
					return n, fmt.Errorf("purge: %w", err)
				}
				if n++; p.Max > 0 && n >= p.Max {
					return n, nil
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return n, nil
}
