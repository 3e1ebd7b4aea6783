package dynamostore

import (
	"context"
	"errors"
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
// of the last execution returned; the next page starts below it. A head
// that cannot be decoded (store.ErrCorrupt) is left out and logged at ERROR
// with its execution id and key.
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
		return s.queryPages(ctx, "list executions", in, func(it map[string]types.AttributeValue) (bool, error) {
			e, err := s.visibleHead(ctx, it)
			if err != nil || e == nil {
				return err == nil, err
			}
			if p.Workflow != "" && e.Workflow != p.Workflow || p.State != "" && e.State != p.State {
				return true, nil
			}
			hits = append(hits, hit{strOf(it[skName]), e})
			n++
			return n <= limit, nil
		})
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

// visibleHead decodes a head the index found, or is nil when the head is a
// provisional item not (yet) part of the committed state, or cannot be
// decoded: one record that needs repair must not hide every other execution
// from the API, from Sweep's recovery or from the purge, so it is logged
// at ERROR, naming it, and skipped.
func (s *driver) visibleHead(ctx context.Context, it map[string]types.AttributeValue) (*engine.Execution, error) {
	if ok, err := s.visible(ctx, it); err != nil || !ok {
		return nil, err
	}
	e, err := s.decodeHead(ctx, it)
	if errors.Is(err, store.ErrCorrupt) {
		pk := strOf(it["pk"])
		s.opt.Log.Error("dynamostore: execution skipped by a list or purge: its head cannot be read and needs repair",
			"table", s.opt.Table, "execution_id", pk, "key", pk+"/"+strOf(it["sk"]), "err", err)
		return nil, nil
	}
	return e, err
}
