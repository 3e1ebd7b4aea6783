package dynamostore

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

var allStates = []engine.State{engine.Idle, engine.Waiting, engine.Running, engine.RunningDelayed,
	engine.Paused, engine.Success, engine.Error, engine.Cancelled}

// ListExecutions implements store.Driver. With a workflow it queries
// byWorkflow (and filters on the state); with only a state, byState; with
// neither, byState once per state, merged. The cursor is the index sort key
// of the last execution returned; the next page starts below it.
func (s *driver) ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error) {
	limit, cursor := p.Limit, p.Cursor
	type hit struct {
		sk string
		e  *engine.Execution
	}
	var hits []hit
	// each collects up to limit+1 matching heads of one index partition.
	each := func(index, pkName, pk, skName string) error {
		vals := map[string]types.AttributeValue{":pk": avS(pk)}
		cond := pkName + " = :pk"
		if cursor != "" {
			cond += " AND " + skName + " < :c"
			vals[":c"] = avS(cursor)
		}
		in := &dynamodb.QueryInput{TableName: s.table, IndexName: aws.String(index), ScanIndexForward: aws.Bool(false),
			KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: vals, Limit: aws.Int32(int32(limit + 1)),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
		n := 0
		for {
			var out *dynamodb.QueryOutput
			err := s.read(ctx, "list executions", func() ([]types.ConsumedCapacity, error) {
				var err error
				out, err = s.c.Query(ctx, in)
				if out != nil {
					return caps(out.ConsumedCapacity), err
				}
				return nil, err
			})
			if err != nil {
				return err
			}
			for _, it := range out.Items {
				if ok, err := s.visible(ctx, it); err != nil {
					return err
				} else if !ok {
					continue
				}
				e, err := s.decodeHead(ctx, it)
				if err != nil {
					return err
				}
				if p.Workflow != "" && e.Workflow != p.Workflow || p.State != "" && e.State != p.State {
					continue
				}
				hits = append(hits, hit{strOf(it[skName]), e})
				if n++; n > limit {
					return nil
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return nil
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	var err error
	switch {
	case p.Workflow != "":
		err = each(IndexByWorkflow, "gsi1pk", "WF#"+p.Workflow, "gsi1sk")
	case p.State != "":
		err = each(IndexByState, "gsi2pk", "ST#"+string(p.State), "gsi2sk")
	default:
		for _, st := range allStates {
			if err = each(IndexByState, "gsi2pk", "ST#"+string(st), "gsi2sk"); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].sk > hits[j].sk })
	page := &store.ExecutionPage{}
	for i, h := range hits {
		if i > 0 && h.sk == hits[i-1].sk {
			continue // an index that had not caught up with a state change
		}
		if len(page.Executions) == limit {
			page.Next = hits[i-1].sk
			break
		}
		page.Executions = append(page.Executions, h.e)
	}
	return page, nil
}
