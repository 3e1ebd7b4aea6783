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
	"github.com/lazyflow/lazyflow/core/value"
)

func (s *driver) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	var item map[string]types.AttributeValue
	err := s.read(ctx, "read "+pk+"/"+sk, func() ([]types.ConsumedCapacity, error) {
		out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if out != nil {
			item = out.Item
			return caps(out.ConsumedCapacity), err
		}
		return nil, err
	})
	if len(item) == 0 || err != nil {
		return nil, err
	}
	if ok, err := s.visible(ctx, item); !ok || err != nil {
		return nil, err
	}
	return item, nil
}

// Execution implements store.Driver.
func (s *driver) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	item, err := s.get(ctx, id, store.HeadSK)
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeHead(ctx, item)
}

// Input implements store.Driver.
func (s *driver) Input(ctx context.Context, exec string) (*value.Map, error) {
	item, err := s.get(ctx, exec, store.InputSK)
	if err != nil || item == nil {
		return nil, err
	}
	r, err := decodeDoc[engine.InputRecord](s, ctx, item)
	if err != nil {
		return nil, err
	}
	if r.Input == nil {
		return value.NewMap(0), nil
	}
	return r.Input, nil
}

// Task implements store.Driver.
func (s *driver) Task(ctx context.Context, exec, k string) (*engine.Task, error) {
	item, err := s.get(ctx, exec, store.TaskSK(k))
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeTask(ctx, item)
}

// Slot implements store.Driver.
func (s *driver) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	item, err := s.get(ctx, exec, store.SlotSK(task, i))
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeSlot(ctx, item)
}

// query reads every item of pk whose sort key starts with prefix, in order.
func (s *driver) query(ctx context.Context, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	return s.queryAfter(ctx, pk, prefix, "", 0, fn)
}

// queryAfter is query from the first sort key after after ("": from the
// first), reading pages of at most limit items (0: as many as DynamoDB
// returns); fn returns errStop to end it early.
func (s *driver) queryAfter(ctx context.Context, pk, prefix, after string, limit int, fn func(map[string]types.AttributeValue) error) error {
	if pk == "" {
		return nil
	}
	in := &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(pk), ":p": avS(prefix)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	return s.queryPages(ctx, "query "+pk+"/"+prefix, in, func(it map[string]types.AttributeValue) (bool, error) {
		if strOf(it["sk"]) >= "X#" && strOf(it["sk"]) < "X$" {
			return true, nil // commit markers of large commits
		}
		if ok, err := s.visible(ctx, it); err != nil || !ok {
			return err == nil, err
		}
		if err := fn(it); errors.Is(err, errStop) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return true, nil
	})
}

// queryPages runs in page after page (each read retried as s.read does),
// handing fn every item until fn says no more, fails, or the pages end.
// what names the read in errors.
func (s *driver) queryPages(ctx context.Context, what string, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) (bool, error)) error {
	for {
		var out *dynamodb.QueryOutput
		err := s.read(ctx, what, func() ([]types.ConsumedCapacity, error) {
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
			if more, err := fn(it); err != nil || !more {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Slots implements store.Driver.
func (s *driver) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	var out []*engine.Slot
	err := s.query(ctx, exec, store.SlotPrefix(task), func(it map[string]types.AttributeValue) error {
		sl, err := s.decodeSlot(ctx, it)
		// The prefix of task "b" also matches the slots of "b#1a2b".
		if err == nil && sl.Task == task {
			out = append(out, sl)
		}
		return err
	})
	return out, err
}

// Tasks implements store.Driver.
func (s *driver) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	var out []*engine.Task
	err := s.query(ctx, exec, store.TaskPrefix, func(it map[string]types.AttributeValue) error {
		t, err := s.decodeTask(ctx, it)
		if err == nil {
			out = append(out, t)
		}
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// errStop ends a queryAfter early.
var errStop = errors.New("enough read")

// TasksAfter implements store.Driver.
func (s *driver) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	var out []*engine.Task
	from := ""
	if after != "" {
		from = store.TaskSK(after)
	}
	err := s.queryAfter(ctx, exec, store.TaskPrefix, from, limit, func(it map[string]types.AttributeValue) error {
		t, err := s.decodeTask(ctx, it)
		if err != nil {
			return err
		}
		if out = append(out, t); len(out) == limit {
			return errStop
		}
		return nil
	})
	return out, err
}

// Arrivals implements store.Driver.
func (s *driver) Arrivals(ctx context.Context, exec, join string) (map[string]*value.Map, error) {
	out := map[string]*value.Map{}
	err := s.query(ctx, exec, store.ArrivalPrefix(join), func(it map[string]types.AttributeValue) error {
		l, err := decodeDoc[engine.Leaf](s, ctx, it)
		if err != nil {
			return err
		}
		if l.Ctx == nil {
			l.Ctx = value.NewMap(0)
		}
		out[l.Task] = l.Ctx
		return nil
	})
	return out, err
}

// Leaves implements store.Driver.
func (s *driver) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	var out []*engine.Leaf
	err := s.query(ctx, exec, store.LeafPrefix, func(it map[string]types.AttributeValue) error {
		l, err := decodeDoc[engine.Leaf](s, ctx, it)
		if err == nil {
			out = append(out, l)
		}
		return err
	})
	return out, err
}
