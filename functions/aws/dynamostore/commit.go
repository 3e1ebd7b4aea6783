package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// write is one item write of a commit.
type write struct {
	what string
	put  *types.Put
	upd  *types.Update
	// counter: an ADD, not idempotent on its own.
	counter bool
}

var (
	one  = avN(1)
	zero = avN(0)
)

func (s *driver) plan(ctx context.Context, op engine.Op) (*write, error) {
	switch o := op.(type) {
	case engine.PutExecution:
		item, err := s.headItem(ctx, o.Exec, o.IfVersion+1)
		if err != nil {
			return nil, err
		}
		p := &types.Put{TableName: s.table, Item: item}
		if o.IfVersion == 0 {
			p.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			p.ConditionExpression = aws.String("v = :ifv")
			p.ExpressionAttributeValues = map[string]types.AttributeValue{":ifv": avN(o.IfVersion)}
		}
		return &write{what: "execution " + o.Exec.ID, put: p}, nil

	case engine.PutInput:
		what := "input of execution " + o.Exec
		raw, err := json.Marshal(o.Record())
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", what, err)
		}
		d, err := s.blob(ctx, what, raw)
		if err != nil {
			return nil, err
		}
		item := key(o.Exec, store.InputSK)
		item["d"] = d
		return &write{what: what, put: &types.Put{TableName: s.table, Item: item}}, nil

	case engine.AddExecution:
		expr := "ADD active :a, errors :e, seq :s, sp :sp, v :one"
		vals := map[string]types.AttributeValue{":a": avN(o.Active), ":e": avN(o.Errors), ":s": avN(o.Seq),
			":sp": avN(o.Spawned), ":one": one, ":st": avS(string(o.IfState))}
		if o.ErrorInfo != "" {
			expr += " SET ei = if_not_exists(ei, :ei)"
			vals[":ei"] = avS(o.ErrorInfo)
		}
		return &write{what: "execution " + o.ID, counter: true, upd: &types.Update{TableName: s.table, Key: key(o.ID, store.HeadSK),
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String("st = :st"), ExpressionAttributeValues: vals}}, nil

	case engine.SetState:
		return s.setState(o), nil

	case engine.PutTask:
		t := o.Task
		d, err := s.taskDoc(ctx, t)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("task %s of %s", t.Key, t.Exec)
		if o.IfVersion == 0 {
			item := key(t.Exec, store.TaskSK(t.Key))
			item["d"], item["v"], item["st"] = d, one, avS(string(t.State))
			item["attempt"], item["claimed"] = avN(int64(t.Attempt)), avN(int64(t.Claimed))
			item["done"], item["failed"] = avN(t.Done), avN(t.Failed)
			if t.Pending != "" {
				item["pnd"] = avS(string(t.Pending))
			}
			return &write{what: what, put: &types.Put{TableName: s.table, Item: item,
				ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
		}
		expr := "SET d = :d, v = :nv, st = :st, attempt = :att, done = :done, failed = :failed, claimed = if_not_exists(claimed, :zero)"
		vals := map[string]types.AttributeValue{":d": d, ":nv": avN(o.IfVersion + 1), ":st": avS(string(t.State)),
			":att": avN(int64(t.Attempt)), ":done": avN(t.Done), ":failed": avN(t.Failed), ":zero": zero, ":ifv": avN(o.IfVersion)}
		if t.Pending != "" {
			expr += ", pnd = :pnd"
			vals[":pnd"] = avS(string(t.Pending))
		} else {
			expr += " REMOVE pnd"
		}
		return &write{what: what, upd: &types.Update{TableName: s.table, Key: key(t.Exec, store.TaskSK(t.Key)),
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String("v = :ifv"), ExpressionAttributeValues: vals}}, nil

	case engine.AddItems:
		return &write{what: fmt.Sprintf("with-items task %s of %s", o.Key, o.Exec), counter: true, upd: &types.Update{
			TableName: s.table, Key: key(o.Exec, store.TaskSK(o.Key)),
			UpdateExpression:          aws.String("ADD done :d, failed :f, v :one"),
			ConditionExpression:       aws.String("st = :running"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": avN(o.Done), ":f": avN(o.Failed), ":one": one, ":running": avS(string(engine.Running))},
		}}, nil

	case engine.PutArrival:
		// An arrival is its own item (a leaf's shape: the task it came from and
		// its context), so neither its write nor the join's count grows with
		// the number of branches.
		what := fmt.Sprintf("arrival of %s at join %s of %s", o.From, o.Join, o.Exec)
		raw, err := json.Marshal(o.Record())
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", what, err)
		}
		d, err := s.blob(ctx, what, raw)
		if err != nil {
			return nil, err
		}
		item := key(o.Exec, store.ArrivalSK(o.Join, o.From))
		item["d"] = d
		return &write{what: what, put: &types.Put{TableName: s.table, Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil

	case engine.CountArrival:
		// The join record's document is written only by the first arrival;
		// every arrival adds to the counters kept as their own attributes.
		d, err := s.taskDoc(ctx, o.JoinRecord())
		if err != nil {
			return nil, err
		}
		return &write{what: fmt.Sprintf("join %s of %s", o.Key, o.Exec), counter: true, upd: &types.Update{
			TableName: s.table, Key: key(o.Exec, store.TaskSK(o.Key)),
			UpdateExpression:          aws.String("SET d = if_not_exists(d, :d) ADD v :one, arrived :n"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": d, ":one": one, ":n": avN(o.Count())},
		}}, nil

	case engine.PutSlot:
		sl := o.Slot
		d, err := s.slotDoc(ctx, sl)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("item %d of task %s of %s", sl.Index, sl.Task, sl.Exec)
		k := key(sl.Exec, store.SlotSK(sl.Task, sl.Index))
		if o.IfVersion == 0 {
			item := k
			item["d"], item["v"], item["st"] = d, one, avS(string(sl.State))
			item["attempt"], item["claimed"] = avN(int64(sl.Attempt)), avN(int64(sl.Claimed))
			return &write{what: what, put: &types.Put{TableName: s.table, Item: item,
				ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil
		}
		return &write{what: what, upd: &types.Update{TableName: s.table, Key: k,
			UpdateExpression:    aws.String("SET d = :d, v = :nv, st = :st, attempt = :att, claimed = if_not_exists(claimed, :zero)"),
			ConditionExpression: aws.String("v = :ifv"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": d, ":nv": avN(o.IfVersion + 1),
				":st": avS(string(sl.State)), ":att": avN(int64(sl.Attempt)), ":zero": zero, ":ifv": avN(o.IfVersion)}}}, nil

	case engine.PutLeaf:
		l := o.Leaf
		raw, err := json.Marshal(l)
		if err != nil {
			return nil, fmt.Errorf("encode branch end %s of %s: %w", l.Task, l.Exec, err)
		}
		d, err := s.blob(ctx, fmt.Sprintf("branch end %s of %s", l.Task, l.Exec), raw)
		if err != nil {
			return nil, err
		}
		item := key(l.Exec, store.LeafSK(l.Seq, l.Task))
		item["d"] = d
		return &write{what: fmt.Sprintf("branch end %s of %s", l.Task, l.Exec), put: &types.Put{TableName: s.table, Item: item}}, nil
	}
	return nil, fmt.Errorf("unknown op %T", op)
}

// setState changes the head's state attributes, which override the copies
// in its document (decodeHead), and adds to its counters, on a condition on
// the state alone: the document, which steps rewrite under a version
// check, is left as it is.
func (s *driver) setState(o engine.SetState) *write {
	set := "SET st = :st, si = :si, gsi2pk = :g2"
	vals := map[string]types.AttributeValue{":st": avS(string(o.State)), ":si": avS(o.StateInfo),
		":g2": avS("ST#" + string(o.State)), ":ifst": avS(string(o.IfState)),
		":a": avN(o.Active), ":e": avN(o.Errors), ":s": avN(o.Seq), ":one": one}
	if !o.Updated.IsZero() {
		set += ", ut = :ut"
		vals[":ut"] = avS(o.Updated.UTC().Format(time.RFC3339Nano))
	}
	if o.State.Terminal() && s.opt.Retention > 0 {
		set += ", #ttl = :ttl"
		vals[":ttl"] = avN(s.opt.Now().Add(s.opt.Retention + ttlGrace).Unix())
	}
	expr := set + " ADD active :a, errors :e, seq :s, v :one"
	if o.ClearErrorInfo {
		expr += " REMOVE ei"
	}
	u := &types.Update{TableName: s.table, Key: key(o.ID, store.HeadSK),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("st = :ifst"), ExpressionAttributeValues: vals}
	if strings.Contains(set, "#ttl") {
		u.ExpressionAttributeNames = map[string]string{"#ttl": "ttl"}
	}
	return &write{what: "state of execution " + o.ID, upd: u}
}

// MaxCommitOps is DynamoDB's limit on the items of one transaction.
const MaxCommitOps = 100

// Commit implements store.Driver.
func (s *driver) Commit(ctx context.Context, ops []engine.Op) error {
	ws := make([]*write, len(ops))
	seen := map[string]bool{}
	for i, op := range ops {
		w, err := s.plan(ctx, op)
		if err != nil {
			return err
		}
		k := itemKey(w)
		if seen[k] {
			return fmt.Errorf("commit writes %s twice; DynamoDB cannot do that in one transaction", w.what)
		}
		seen[k] = true
		ws[i] = w
	}
	if len(ws) > MaxCommitOps {
		return s.commitLarge(ctx, ws)
	}
	if len(ws) == 1 && !ws[0].counter {
		return s.single(ctx, ws[0])
	}
	return s.transact(ctx, ws)
}

func itemKey(w *write) string {
	var k map[string]types.AttributeValue
	if w.put != nil {
		k = w.put.Item
	} else {
		k = w.upd.Key
	}
	return strOf(k["pk"]) + "\x00" + strOf(k["sk"])
}

func (s *driver) single(ctx context.Context, w *write) error {
	tok := writeToken()
	if w.put != nil {
		item := make(map[string]types.AttributeValue, len(w.put.Item)+1)
		for k, v := range w.put.Item {
			item[k] = v
		}
		item[tokAttr] = avS(tok)
		in := &dynamodb.PutItemInput{TableName: s.table, Item: item, ConditionExpression: w.put.ConditionExpression,
			ExpressionAttributeNames: w.put.ExpressionAttributeNames, ExpressionAttributeValues: w.put.ExpressionAttributeValues,
			ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
		s.stats.BytesWritten.Add(itemSize(in.Item))
		return s.conditional(ctx, "write "+w.what, tok, func(o func(*dynamodb.Options)) (*types.ConsumedCapacity, error) {
			out, err := s.c.PutItem(ctx, in, o)
			if out != nil {
				return out.ConsumedCapacity, err
			}
			return nil, err
		})
	}
	vals := make(map[string]types.AttributeValue, len(w.upd.ExpressionAttributeValues)+1)
	for k, v := range w.upd.ExpressionAttributeValues {
		vals[k] = v
	}
	vals[":"+tokAttr] = avS(tok)
	in := &dynamodb.UpdateItemInput{TableName: s.table, Key: w.upd.Key,
		UpdateExpression:    aws.String(withToken(aws.ToString(w.upd.UpdateExpression))),
		ConditionExpression: w.upd.ConditionExpression, ExpressionAttributeNames: w.upd.ExpressionAttributeNames,
		ExpressionAttributeValues: vals, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	s.stats.BytesWritten.Add(itemSize(in.Key) + itemSize(in.ExpressionAttributeValues))
	return s.conditional(ctx, "update "+w.what, tok, func(o func(*dynamodb.Options)) (*types.ConsumedCapacity, error) {
		out, err := s.c.UpdateItem(ctx, in, o)
		if out != nil {
			return out.ConsumedCapacity, err
		}
		return nil, err
	})
}

// tokAttr holds the token of the last single-item write to an item. A
// conditional write whose response is lost is retried, and the retry's
// condition fails against the item the first try wrote; the token tells
// that apart from another writer's item. (A transaction has its
// ClientRequestToken for the same.)
const tokAttr = "wtok"

func writeToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withToken adds the token to a SET update expression.
func withToken(expr string) string {
	if rest, ok := strings.CutPrefix(expr, "SET "); ok {
		return "SET " + tokAttr + " = :" + tokAttr + ", " + rest
	}
	return "SET " + tokAttr + " = :" + tokAttr + " " + expr
}

// conditional runs one conditional single-item write that stores tok. It is
// retried here, not by the SDK, so this code knows when a try is a retry:
// a retry refused by an item that carries tok found an earlier try that
// landed, so the write is done, not refused.
func (s *driver) conditional(ctx context.Context, what, tok string,
	send func(func(*dynamodb.Options)) (*types.ConsumedCapacity, error)) error {
	var found map[string]types.AttributeValue
	tries := 0
	err := s.call(ctx, what, func() ([]types.ConsumedCapacity, error) {
		tries++
		cc, err := send(func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			found = ccf.Item
		}
		return caps(cc), err
	})
	if errors.Is(err, store.ErrConflict) && tries > 1 && strOf(found[tokAttr]) == tok {
		return nil
	}
	return err
}

func (s *driver) transact(ctx context.Context, ws []*write) error {
	items := make([]types.TransactWriteItem, len(ws))
	var what []string
	for i, w := range ws {
		if w.put != nil {
			items[i].Put = w.put
			s.stats.BytesWritten.Add(itemSize(w.put.Item))
		} else {
			items[i].Update = w.upd
			s.stats.BytesWritten.Add(itemSize(w.upd.Key) + itemSize(w.upd.ExpressionAttributeValues))
		}
		what = append(what, w.what)
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(hex.EncodeToString(tok[:])),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
	return s.call(ctx, "commit "+strings.Join(what, ", "), func() ([]types.ConsumedCapacity, error) {
		out, err := s.c.TransactWriteItems(ctx, in)
		if out != nil {
			return out.ConsumedCapacity, err
		}
		return nil, err
	})
}

func caps(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

// itemSize approximates DynamoDB's item size: names plus values.
func itemSize(m map[string]types.AttributeValue) int64 {
	var n int64
	for k, v := range m {
		n += int64(len(k)) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int64 {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return int64(len(x.Value))
	case *types.AttributeValueMemberN:
		return int64(len(x.Value))
	case *types.AttributeValueMemberM:
		return 3 + itemSize(x.Value)
	}
	return 1
}

// ClaimAttempt implements store.Driver. The conditions are
// engine.Task.Claimable and engine.Slot.Claimable as condition expressions
// over the attributes a claim reads (st, attempt, claimed, pnd), so the
// check and the write are one conditional update.
func (s *driver) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	k := key(p.Exec, store.TaskSK(p.Task))
	cond := "st = :running AND attempt = :a AND claimed < :a AND attribute_not_exists(pnd)"
	what := fmt.Sprintf("claim task %s of %s attempt %d", p.Task, p.Exec, p.Attempt)
	if p.Slot >= 0 {
		k = key(p.Exec, store.SlotSK(p.Task, p.Slot))
		cond = "st = :running AND attempt = :a AND claimed < :a"
		what = fmt.Sprintf("claim item %d of task %s of %s attempt %d", p.Slot, p.Task, p.Exec, p.Attempt)
	}
	// The token matters most here: a claim that landed but was reported
	// refused would leave the task claimed and never run.
	tok := writeToken()
	in := &dynamodb.UpdateItemInput{TableName: s.table, Key: k, UpdateExpression: aws.String(withToken("SET claimed = :a")),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":running": avS(string(engine.Running)),
			":a": avN(int64(p.Attempt)), ":" + tokAttr: avS(tok)},
		ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	return s.conditional(ctx, what, tok, func(o func(*dynamodb.Options)) (*types.ConsumedCapacity, error) {
		out, err := s.c.UpdateItem(ctx, in, o)
		if out != nil {
			return out.ConsumedCapacity, err
		}
		return nil, err
	})
}
