package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Index names, fixed by the infrastructure (infra.IndexByWorkflow/ByState).
const (
	IndexByWorkflow = "byWorkflow"
	IndexByState    = "byState"
)

// Blobs keeps values too large for an item (package blobstore over S3).
type Blobs interface {
	Put(ctx context.Context, data []byte) (key string, err error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// Options configures a Store.
type Options struct {
	Table string
	// Blobs receives values over OffloadAt; nil keeps every value inline
	// (up to what an item holds).
	Blobs Blobs
	// OffloadAt is the encoded size above which a value goes to Blobs (default 64 KiB).
	OffloadAt int
	// MaxValue is the largest encoded record accepted at all (default 4 MiB).
	MaxValue int
	// Retention is how long a finished execution is kept: PurgeExecutions
	// (the sweeper) deletes it then; its head's ttl falls due a week later as
	// a backstop (default 30 days; negative: no ttl).
	Retention time.Duration
	// MaxRetries bounds the retries of throttled or failed requests (default 6).
	MaxRetries int
	Now        func() time.Time
}

// Store is store.Store over a DynamoDB table.
type Store struct {
	c     *dynamodb.Client
	opt   Options
	table *string
	// Stats counts what the store asked of DynamoDB.
	Stats Stats
}

var _ store.Store = (*Store)(nil)

// inlineMax is the largest value kept in an item when there is no blob
// store: DynamoDB's item limit is 400 KB, names and other attributes included.
const inlineMax = 380 << 10

// New returns a store over an existing table (see CreateTable).
func New(client *dynamodb.Client, opt Options) *Store {
	if opt.OffloadAt <= 0 {
		opt.OffloadAt = 64 << 10
	}
	if opt.MaxValue <= 0 {
		opt.MaxValue = 4 << 20
	}
	if opt.Retention == 0 {
		opt.Retention = 30 * 24 * time.Hour
	}
	if opt.MaxRetries <= 0 {
		opt.MaxRetries = 6
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{c: client, opt: opt, table: aws.String(opt.Table)}
}

// ---------------------------------------------------------------- keys

const (
	defPK   = "~def"
	headSK  = "H"
	inputSK = "I" // the execution's input, written once beside the head
)

func taskSK(key string) string          { return "T#" + key }
func slotSK(task string, i int) string  { return fmt.Sprintf("S#%s#%08d", task, i) }
func leafSK(seq int64, t string) string { return fmt.Sprintf("L#%012d#%s", seq, t) }

// indexSK orders executions by creation in both indexes; the fixed width
// keeps string order and time order the same.
func indexSK(e *engine.Execution) string {
	return e.Created.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + e.ID
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": avS(pk), "sk": avS(sk)}
}

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func avN(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func numOf(av types.AttributeValue) int64 {
	if n, ok := av.(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

func strOf(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func validID(id string) error {
	if id == "" || strings.HasPrefix(id, "~") {
		return fmt.Errorf("invalid execution id %q: %w", id, engine.ErrInvalidInput)
	}
	return nil
}

// ---------------------------------------------------------------- values

// blob encodes a JSON value as an attribute: inline, or offloaded to Blobs.
func (s *Store) blob(ctx context.Context, what string, raw []byte) (types.AttributeValue, error) {
	if len(raw) > s.opt.MaxValue {
		return nil, fmt.Errorf("%s is %d bytes (limit %d): %w", what, len(raw), s.opt.MaxValue, store.ErrTooLarge)
	}
	if len(raw) <= s.opt.OffloadAt || s.opt.Blobs == nil && len(raw) <= inlineMax {
		return avS(string(raw)), nil
	}
	if s.opt.Blobs == nil {
		return nil, fmt.Errorf("%s is %d bytes, over what an item holds, and no blob store is configured: %w", what, len(raw), store.ErrTooLarge)
	}
	k, err := s.opt.Blobs.Put(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("offload %s: %w: %v", what, store.ErrUnavailable, err)
	}
	s.Stats.Offloaded.Add(1)
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ref": avS(k), "n": avN(int64(len(raw)))}}, nil
}

func (s *Store) unblob(ctx context.Context, what string, av types.AttributeValue) ([]byte, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return []byte(v.Value), nil
	case *types.AttributeValueMemberM:
		ref := strOf(v.Value["ref"])
		if ref == "" || s.opt.Blobs == nil {
			return nil, fmt.Errorf("%s is offloaded (%q) but no blob store is configured", what, ref)
		}
		raw, err := s.opt.Blobs.Get(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("load offloaded %s: %w", what, err)
		}
		return raw, nil
	case nil:
		return nil, fmt.Errorf("%s has no record attribute", what)
	}
	return nil, fmt.Errorf("%s has a record attribute of type %T", what, av)
}

// ---------------------------------------------------------------- records

func (s *Store) headItem(ctx context.Context, e *engine.Execution, version int64) (map[string]types.AttributeValue, error) {
	doc := *e
	doc.Active, doc.Errors, doc.Seq, doc.ErrorInfo, doc.Version, doc.Spawned = 0, 0, 0, "", 0, 0
	doc.Input = nil // its own item (PutInput): the head every step reads stays small
	raw, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode execution %s: %w", e.ID, err)
	}
	d, err := s.blob(ctx, "execution "+e.ID, raw)
	if err != nil {
		return nil, err
	}
	item := key(e.ID, headSK)
	isk := indexSK(e)
	item["d"] = d
	item["v"] = avN(version)
	item["st"] = avS(string(e.State))
	item["active"], item["errors"], item["seq"], item["sp"] = avN(e.Active), avN(e.Errors), avN(e.Seq), avN(e.Spawned)
	if e.ErrorInfo != "" {
		item["ei"] = avS(e.ErrorInfo)
	}
	item["gsi1pk"], item["gsi1sk"] = avS("WF#"+e.Workflow), avS(isk)
	item["gsi2pk"], item["gsi2sk"] = avS("ST#"+string(e.State)), avS(isk)
	if e.State.Terminal() && s.opt.Retention > 0 {
		item["ttl"] = avN(s.opt.Now().Add(s.opt.Retention + ttlGrace).Unix())
	}
	return item, nil
}

func (s *Store) decodeHead(ctx context.Context, item map[string]types.AttributeValue) (*engine.Execution, error) {
	what := "execution " + strOf(item["pk"])
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	e := new(engine.Execution)
	if err := engine.Decode(raw, e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	e.Version, e.Active, e.Errors, e.Seq, e.Spawned = numOf(item["v"]), numOf(item["active"]), numOf(item["errors"]), numOf(item["seq"]), numOf(item["sp"])
	e.ErrorInfo = strOf(item["ei"])
	return e, nil
}

// taskDoc is the JSON kept in d: the fields with their own attributes are
// left out, so no stale copy of them can be read.
func (s *Store) taskDoc(ctx context.Context, t *engine.Task) (types.AttributeValue, error) {
	doc := *t
	doc.Version, doc.Claimed, doc.Done, doc.Failed, doc.Arrived = 0, 0, 0, 0, 0
	raw, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode task %s of %s: %w", t.Key, t.Exec, err)
	}
	return s.blob(ctx, fmt.Sprintf("task %s of %s", t.Key, t.Exec), raw)
}

// arrivalSK sorts a join's arrivals under it; "\x00" ends the join key so
// join "b" never reads the arrivals of a join "b#…".
func arrivalSK(join, from string) string { return "A#" + join + "\x00" + from }

func (s *Store) decodeTask(ctx context.Context, item map[string]types.AttributeValue) (*engine.Task, error) {
	what := fmt.Sprintf("task %s of %s", strings.TrimPrefix(strOf(item["sk"]), "T#"), strOf(item["pk"]))
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	t := new(engine.Task)
	if err := engine.Decode(raw, t); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	t.Version, t.Claimed = numOf(item["v"]), int(numOf(item["claimed"]))
	t.Done, t.Failed = numOf(item["done"]), numOf(item["failed"])
	t.Arrived = numOf(item["arrived"])
	return t, nil
}

func (s *Store) slotDoc(ctx context.Context, sl *engine.Slot) (types.AttributeValue, error) {
	doc := *sl
	doc.Version, doc.Claimed = 0, 0
	raw, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode item %d of %s of %s: %w", sl.Index, sl.Task, sl.Exec, err)
	}
	return s.blob(ctx, fmt.Sprintf("item %d of task %s of %s", sl.Index, sl.Task, sl.Exec), raw)
}

func (s *Store) decodeSlot(ctx context.Context, item map[string]types.AttributeValue) (*engine.Slot, error) {
	what := fmt.Sprintf("item %s of %s", strOf(item["sk"]), strOf(item["pk"]))
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	sl := new(engine.Slot)
	if err := engine.Decode(raw, sl); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	sl.Version, sl.Claimed = numOf(item["v"]), int(numOf(item["claimed"]))
	return sl, nil
}

func decodeDoc[T any](s *Store, ctx context.Context, item map[string]types.AttributeValue) (*T, error) {
	what := strOf(item["pk"]) + "/" + strOf(item["sk"])
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := engine.Decode(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

// ---------------------------------------------------------------- commit

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

func (s *Store) plan(ctx context.Context, op engine.Op) (*write, error) {
	switch o := op.(type) {
	case engine.PutExecution:
		if err := validID(o.Exec.ID); err != nil {
			return nil, err
		}
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
		raw, err := json.Marshal(&engine.Leaf{Exec: o.Exec, Ctx: o.Input})
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", what, err)
		}
		d, err := s.blob(ctx, what, raw)
		if err != nil {
			return nil, err
		}
		item := key(o.Exec, inputSK)
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
		return &write{what: "execution " + o.ID, counter: true, upd: &types.Update{TableName: s.table, Key: key(o.ID, headSK),
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String("st = :st"), ExpressionAttributeValues: vals}}, nil

	case engine.PutTask:
		t := o.Task
		d, err := s.taskDoc(ctx, t)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("task %s of %s", t.Key, t.Exec)
		if o.IfVersion == 0 {
			item := key(t.Exec, taskSK(t.Key))
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
		return &write{what: what, upd: &types.Update{TableName: s.table, Key: key(t.Exec, taskSK(t.Key)),
			UpdateExpression: aws.String(expr), ConditionExpression: aws.String("v = :ifv"), ExpressionAttributeValues: vals}}, nil

	case engine.AddItems:
		return &write{what: fmt.Sprintf("with-items task %s of %s", o.Key, o.Exec), counter: true, upd: &types.Update{
			TableName: s.table, Key: key(o.Exec, taskSK(o.Key)),
			UpdateExpression:          aws.String("ADD done :d, failed :f, v :one"),
			ConditionExpression:       aws.String("st = :running"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": avN(o.Done), ":f": avN(o.Failed), ":one": one, ":running": avS(string(engine.Running))},
		}}, nil

	case engine.PutArrival:
		// An arrival is its own item (a leaf's shape: the task it came from and
		// its context), so neither its write nor the join's count grows with
		// the number of branches.
		c := o.Ctx
		if c == nil {
			c = map[string]any{}
		}
		what := fmt.Sprintf("arrival of %s at join %s of %s", o.From, o.Join, o.Exec)
		raw, err := json.Marshal(&engine.Leaf{Exec: o.Exec, Task: o.From, Ctx: c})
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", what, err)
		}
		d, err := s.blob(ctx, what, raw)
		if err != nil {
			return nil, err
		}
		item := key(o.Exec, arrivalSK(o.Join, o.From))
		item["d"] = d
		return &write{what: what, put: &types.Put{TableName: s.table, Item: item,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}}, nil

	case engine.CountArrival:
		base := &engine.Task{Exec: o.Exec, Key: o.Key, Name: o.Name, State: engine.Waiting, Pending: "join"}
		d, err := s.taskDoc(ctx, base)
		if err != nil {
			return nil, err
		}
		return &write{what: fmt.Sprintf("join %s of %s", o.Key, o.Exec), counter: true, upd: &types.Update{
			TableName: s.table, Key: key(o.Exec, taskSK(o.Key)),
			UpdateExpression:          aws.String("SET d = if_not_exists(d, :d) ADD v :one, arrived :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": d, ":one": one},
		}}, nil

	case engine.PutSlot:
		sl := o.Slot
		d, err := s.slotDoc(ctx, sl)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("item %d of task %s of %s", sl.Index, sl.Task, sl.Exec)
		k := key(sl.Exec, slotSK(sl.Task, sl.Index))
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
		item := key(l.Exec, leafSK(l.Seq, l.Task))
		item["d"] = d
		return &write{what: fmt.Sprintf("branch end %s of %s", l.Task, l.Exec), put: &types.Put{TableName: s.table, Item: item}}, nil
	}
	return nil, fmt.Errorf("unknown op %T", op)
}

// MaxCommitOps is DynamoDB's limit on the items of one transaction.
const MaxCommitOps = 100

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, ops []engine.Op) error {
	if len(ops) == 0 {
		return nil
	}
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

func (s *Store) single(ctx context.Context, w *write) error {
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
		s.Stats.BytesWritten.Add(itemSize(in.Item))
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
	s.Stats.BytesWritten.Add(itemSize(in.Key) + itemSize(in.ExpressionAttributeValues))
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
func (s *Store) conditional(ctx context.Context, what, tok string,
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

func (s *Store) transact(ctx context.Context, ws []*write) error {
	items := make([]types.TransactWriteItem, len(ws))
	var what []string
	for i, w := range ws {
		if w.put != nil {
			items[i].Put = w.put
			s.Stats.BytesWritten.Add(itemSize(w.put.Item))
		} else {
			items[i].Update = w.upd
			s.Stats.BytesWritten.Add(itemSize(w.upd.Key) + itemSize(w.upd.ExpressionAttributeValues))
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

// ---------------------------------------------------------------- claims

// ClaimAttempt implements store.Store.
func (s *Store) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	k := key(p.Exec, taskSK(p.Task))
	cond := "st = :running AND attempt = :a AND claimed < :a AND attribute_not_exists(pnd)"
	what := fmt.Sprintf("claim task %s of %s attempt %d", p.Task, p.Exec, p.Attempt)
	if p.Slot >= 0 {
		k = key(p.Exec, slotSK(p.Task, p.Slot))
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

// ---------------------------------------------------------------- reads

func (s *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
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

// Execution implements engine.Reader.
func (s *Store) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	if id == "" {
		return nil, nil
	}
	item, err := s.get(ctx, id, headSK)
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeHead(ctx, item)
}

// Input implements engine.Reader.
func (s *Store) Input(ctx context.Context, exec string) (map[string]any, error) {
	if exec == "" {
		return nil, nil
	}
	item, err := s.get(ctx, exec, inputSK)
	if err != nil || item == nil {
		return nil, err
	}
	l, err := decodeDoc[engine.Leaf](s, ctx, item)
	if err != nil {
		return nil, err
	}
	if l.Ctx == nil {
		return map[string]any{}, nil
	}
	return l.Ctx, nil
}

// Task implements engine.Reader.
func (s *Store) Task(ctx context.Context, exec, k string) (*engine.Task, error) {
	if exec == "" {
		return nil, nil
	}
	item, err := s.get(ctx, exec, taskSK(k))
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeTask(ctx, item)
}

// Slot implements engine.Reader.
func (s *Store) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	if exec == "" {
		return nil, nil
	}
	item, err := s.get(ctx, exec, slotSK(task, i))
	if err != nil || item == nil {
		return nil, err
	}
	return s.decodeSlot(ctx, item)
}

// query reads every item of pk whose sort key starts with prefix, in order.
func (s *Store) query(ctx context.Context, pk, prefix string, fn func(map[string]types.AttributeValue) error) error {
	if pk == "" {
		return nil
	}
	in := &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(pk), ":p": avS(prefix)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
	for {
		var out *dynamodb.QueryOutput
		err := s.read(ctx, "query "+pk+"/"+prefix, func() ([]types.ConsumedCapacity, error) {
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
			if strOf(it["sk"]) >= "X#" && strOf(it["sk"]) < "X$" {
				continue // commit markers of large commits
			}
			if ok, err := s.visible(ctx, it); err != nil {
				return err
			} else if !ok {
				continue
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Slots implements engine.Reader.
func (s *Store) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	var out []*engine.Slot
	err := s.query(ctx, exec, "S#"+task+"#", func(it map[string]types.AttributeValue) error {
		sl, err := s.decodeSlot(ctx, it)
		// The prefix of task "b" also matches the slots of "b#1a2b".
		if err == nil && sl.Task == task {
			out = append(out, sl)
		}
		return err
	})
	return out, err
}

// Tasks implements engine.Reader.
func (s *Store) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	var out []*engine.Task
	err := s.query(ctx, exec, "T#", func(it map[string]types.AttributeValue) error {
		t, err := s.decodeTask(ctx, it)
		if err == nil {
			out = append(out, t)
		}
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// Arrivals implements engine.Reader.
func (s *Store) Arrivals(ctx context.Context, exec, join string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	err := s.query(ctx, exec, "A#"+join+"\x00", func(it map[string]types.AttributeValue) error {
		l, err := decodeDoc[engine.Leaf](s, ctx, it)
		if err != nil {
			return err
		}
		if l.Ctx == nil {
			l.Ctx = map[string]any{}
		}
		out[l.Task] = l.Ctx
		return nil
	})
	return out, err
}

// Leaves implements engine.Reader.
func (s *Store) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	var out []*engine.Leaf
	err := s.query(ctx, exec, "L#", func(it map[string]types.AttributeValue) error {
		l, err := decodeDoc[engine.Leaf](s, ctx, it)
		if err == nil {
			out = append(out, l)
		}
		return err
	})
	return out, err
}

// ---------------------------------------------------------------- definitions

// PutDefinition implements store.Store: the name item and the id item are
// written together.
func (s *Store) PutDefinition(ctx context.Context, d *engine.Definition) error {
	nd := *d
	if cur, err := s.definition(ctx, "N#"+d.Name); err != nil {
		return err
	} else if cur != nil {
		nd.Created = cur.Created
	}
	raw, err := json.Marshal(&nd)
	if err != nil {
		return fmt.Errorf("encode definition %s: %w", d.Name, err)
	}
	av, err := s.blob(ctx, "definition "+d.Name, raw)
	if err != nil {
		return err
	}
	byName, byID := key(defPK, "N#"+d.Name), key(defPK, "I#"+d.DefID)
	byName["d"], byID["d"] = av, av
	return s.transact(ctx, []*write{
		{what: "definition " + d.Name, put: &types.Put{TableName: s.table, Item: byName}},
		{what: "definition " + d.DefID, put: &types.Put{TableName: s.table, Item: byID}},
	})
}

func (s *Store) definition(ctx context.Context, sk string) (*engine.Definition, error) {
	item, err := s.get(ctx, defPK, sk)
	if err != nil || item == nil {
		return nil, err
	}
	return decodeDoc[engine.Definition](s, ctx, item)
}

// Definition implements store.Store.
func (s *Store) Definition(ctx context.Context, name string) (*engine.Definition, error) {
	d, err := s.definition(ctx, "N#"+name)
	if err == nil && d == nil {
		err = fmt.Errorf("workflow %q: %w", name, store.ErrNotFound)
	}
	return d, err
}

// DefinitionByID implements store.Store.
func (s *Store) DefinitionByID(ctx context.Context, id string) (*engine.Definition, error) {
	d, err := s.definition(ctx, "I#"+id)
	if err == nil && d == nil {
		err = fmt.Errorf("definition %s: %w", id, store.ErrNotFound)
	}
	return d, err
}

// ListDefinitions implements store.Store.
func (s *Store) ListDefinitions(ctx context.Context) ([]*engine.Definition, error) {
	var out []*engine.Definition
	err := s.query(ctx, defPK, "N#", func(it map[string]types.AttributeValue) error {
		d, err := decodeDoc[engine.Definition](s, ctx, it)
		if err == nil {
			out = append(out, d)
		}
		return err
	})
	return out, err
}

// ---------------------------------------------------------------- listing

var allStates = []engine.State{engine.Idle, engine.Waiting, engine.Running, engine.RunningDelayed,
	engine.Paused, engine.Success, engine.Error, engine.Cancelled}

// ListExecutions implements store.Store. With a workflow it queries
// byWorkflow (and filters on the state); with only a state, byState; with
// neither, byState once per state, merged. The cursor is the index sort key
// of the last execution returned; the next page starts below it.
func (s *Store) ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error) {
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var cursor string
	if p.Cursor != "" {
		b, err := hex.DecodeString(p.Cursor)
		if err != nil {
			return nil, fmt.Errorf("list executions: bad cursor: %w", engine.ErrInvalidInput)
		}
		cursor = string(b)
	}
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
			page.Next = hex.EncodeToString([]byte(hits[i-1].sk))
			break
		}
		page.Executions = append(page.Executions, h.e)
	}
	return page, nil
}

// ---------------------------------------------------------------- retention

// DeleteExecution deletes every item of an execution (its sweeper's work
// once the head has expired, or an operator's).
func (s *Store) DeleteExecution(ctx context.Context, id string) error {
	if err := validID(id); err != nil {
		return err
	}
	// Every item, commit markers and provisional items included, keys only.
	var keys []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{TableName: s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk"), ProjectionExpression: aws.String("pk, sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(id)},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal}
	for {
		var out *dynamodb.QueryOutput
		err := s.read(ctx, "list items of "+id, func() ([]types.ConsumedCapacity, error) {
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
			keys = append(keys, key(strOf(it["pk"]), strOf(it["sk"])))
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	// The head goes last: until it is gone, the indexes still find the
	// execution, so a delete cut short is finished by the next purge.
	sort.SliceStable(keys, func(i, j int) bool { return strOf(keys[j]["sk"]) == headSK && strOf(keys[i]["sk"]) != headSK })
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

// Close implements store.Store; the client needs no closing.
func (s *Store) Close() error { return nil }

// TableName is the table the store uses.
func (s *Store) TableName() string { return s.opt.Table }
