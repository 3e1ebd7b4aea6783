package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/blobstore"
)

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

// blob encodes a JSON value as an attribute: inline, or offloaded to Blobs.
func (s *driver) blob(ctx context.Context, what string, raw []byte) (types.AttributeValue, error) {
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
	s.stats.Offloaded.Add(1)
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ref": avS(k), "n": avN(int64(len(raw)))}}, nil
}

func (s *driver) unblob(ctx context.Context, what string, av types.AttributeValue) ([]byte, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return []byte(v.Value), nil
	case *types.AttributeValueMemberM:
		ref := strOf(v.Value["ref"])
		if ref == "" || s.opt.Blobs == nil {
			return nil, fmt.Errorf("%s is offloaded (%q) but no blob store is configured", what, ref)
		}
		raw, err := s.opt.Blobs.Get(ctx, ref)
		if errors.Is(err, blobstore.ErrNotFound) || errors.Is(err, blobstore.ErrMismatch) {
			// The record points at a value that is gone or damaged:
			// retrying cannot help.
			return nil, fmt.Errorf("load offloaded %s: %w: %w", what, store.ErrCorrupt, err)
		}
		if err != nil {
			// S3 not answering is an outage like DynamoDB not answering:
			// the caller may retry.
			return nil, fmt.Errorf("load offloaded %s: %w: %w", what, store.ErrUnavailable, err)
		}
		return raw, nil
	case nil:
		return nil, fmt.Errorf("%s has no record attribute: %w", what, store.ErrCorrupt)
	}
	return nil, fmt.Errorf("%s has a record attribute of type %T: %w", what, av, store.ErrCorrupt)
}

func (s *driver) headItem(ctx context.Context, e *engine.Execution, version int64) (map[string]types.AttributeValue, error) {
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
	item := key(e.ID, store.HeadSK)
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

func (s *driver) decodeHead(ctx context.Context, item map[string]types.AttributeValue) (*engine.Execution, error) {
	what := "execution " + strOf(item["pk"])
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	e := new(engine.Execution)
	if err := engine.Decode(raw, e); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", what, store.ErrCorrupt, err)
	}
	e.Version, e.Active, e.Errors, e.Seq, e.Spawned = numOf(item["v"]), numOf(item["active"]), numOf(item["errors"]), numOf(item["seq"]), numOf(item["sp"])
	e.ErrorInfo = strOf(item["ei"])
	// A control operation's SetState writes these without the document.
	if st, ok := item["st"]; ok {
		e.State = engine.State(strOf(st))
	}
	if si, ok := item["si"]; ok {
		e.StateInfo = strOf(si)
	}
	if ut, ok := item["ut"]; ok {
		if t, err := time.Parse(time.RFC3339Nano, strOf(ut)); err == nil {
			e.Updated = t
		}
	}
	return e, nil
}

// taskDoc is the JSON kept in d: the fields with their own attributes are
// left out, so no stale copy of them can be read.
func (s *driver) taskDoc(ctx context.Context, t *engine.Task) (types.AttributeValue, error) {
	doc := *t
	doc.Version, doc.Claimed, doc.Done, doc.Failed, doc.Arrived = 0, 0, 0, 0, 0
	raw, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode task %s of %s: %w", t.Key, t.Exec, err)
	}
	return s.blob(ctx, fmt.Sprintf("task %s of %s", t.Key, t.Exec), raw)
}

func (s *driver) decodeTask(ctx context.Context, item map[string]types.AttributeValue) (*engine.Task, error) {
	what := fmt.Sprintf("task %s of %s", strings.TrimPrefix(strOf(item["sk"]), store.TaskPrefix), strOf(item["pk"]))
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	t := new(engine.Task)
	if err := engine.Decode(raw, t); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", what, store.ErrCorrupt, err)
	}
	t.Version, t.Claimed = numOf(item["v"]), int(numOf(item["claimed"]))
	t.Done, t.Failed = numOf(item["done"]), numOf(item["failed"])
	t.Arrived = numOf(item["arrived"])
	return t, nil
}

func (s *driver) slotDoc(ctx context.Context, sl *engine.Slot) (types.AttributeValue, error) {
	doc := *sl
	doc.Version, doc.Claimed = 0, 0
	raw, err := json.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encode item %d of %s of %s: %w", sl.Index, sl.Task, sl.Exec, err)
	}
	return s.blob(ctx, fmt.Sprintf("item %d of task %s of %s", sl.Index, sl.Task, sl.Exec), raw)
}

func (s *driver) decodeSlot(ctx context.Context, item map[string]types.AttributeValue) (*engine.Slot, error) {
	what := fmt.Sprintf("item %s of %s", strOf(item["sk"]), strOf(item["pk"]))
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	sl := new(engine.Slot)
	if err := engine.Decode(raw, sl); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", what, store.ErrCorrupt, err)
	}
	sl.Version, sl.Claimed = numOf(item["v"]), int(numOf(item["claimed"]))
	return sl, nil
}

func decodeDoc[T any](s *driver, ctx context.Context, item map[string]types.AttributeValue) (*T, error) {
	what := strOf(item["pk"]) + "/" + strOf(item["sk"])
	raw, err := s.unblob(ctx, what, item["d"])
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := engine.Decode(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", what, store.ErrCorrupt, err)
	}
	return v, nil
}
