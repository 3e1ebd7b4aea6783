package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/store"
)

// Commits over one transaction's 100 items.
//
// A wide fan-out (or a with-items task starting many items) makes one step
// create more records than a transaction holds. Splitting the commit would
// let part of it be seen without the rest, so such a commit is made in
// three phases that keep it all-or-nothing for readers:
//
//  1. Every new record (a put conditional on attribute_not_exists) is
//     written provisionally: the item carries pv = <token> and pvt = when.
//     Readers treat a provisional item as absent until its commit is done.
//  2. One transaction applies every other op together with a marker item
//     (pk = the execution, sk = "X#<token>", st = "done"), conditional on
//     the marker not existing. This is the commit point.
//  3. pv is removed from the new records (best effort).
//
// A reader that meets an item with pv looks up its marker: "done" makes the
// item visible (and clears pv); no marker means the commit is in flight or
// its writer died; after ProvisionalTimeout the reader writes an "aborted"
// marker (conditional, so it and phase 2 cannot both win) and deletes the
// item. A failure in phase 1 or 2 deletes what phase 1 wrote and reports
// the conflict. Phase 2 itself must fit one transaction: at most 99 ops
// that are not creations.
const provisionalTimeout = 30 * time.Second

const (
	markerDone    = "done"
	markerAborted = "aborted"
)

func token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *driver) commitLarge(ctx context.Context, ws []*write) error {
	var creates, rest []*write
	for _, w := range ws {
		if w.put != nil && w.put.ConditionExpression != nil && *w.put.ConditionExpression == "attribute_not_exists(pk)" {
			creates = append(creates, w)
		} else {
			rest = append(rest, w)
		}
	}
	if len(rest)+1 > MaxCommitOps {
		return fmt.Errorf("commit of %d writes, %d of them changes of existing records: DynamoDB transactions hold at most %d", len(ws), len(rest), MaxCommitOps)
	}
	tok := token()
	exec := strOf(ws[0].key()["pk"])
	now := s.opt.Now()

	// Phase 1.
	var mu sync.Mutex
	var written []*write
	var firstErr error
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, w := range creates {
		item := make(map[string]types.AttributeValue, len(w.put.Item)+2)
		for k, v := range w.put.Item {
			item[k] = v
		}
		item["pv"], item["pvt"] = avS(tok), avN(now.Unix())
		pw := &write{what: w.what, put: &types.Put{TableName: s.table, Item: item, ConditionExpression: w.put.ConditionExpression}}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := s.single(ctx, pw)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				written = append(written, pw)
			} else if firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		s.rollback(ctx, tok, written)
		return firstErr
	}

	// Phase 2: the commit point.
	marker := key(exec, "X#"+tok)
	marker["st"] = avS(markerDone)
	marker["ttl"] = avN(now.Add(24 * time.Hour).Unix())
	rest = append(rest, &write{what: "commit marker " + tok, put: &types.Put{TableName: s.table, Item: marker,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	if err := s.transact(ctx, rest); err != nil {
		if errors.Is(err, store.ErrUnavailable) || !errors.Is(err, store.ErrConflict) {
			// The transaction may or may not have been applied: only the
			// marker can tell, and the readers' rules settle it either way.
			if st, merr := s.marker(ctx, exec, tok); merr == nil && st == markerDone {
				s.settle(ctx, tok, written)
				return nil
			}
		}
		s.rollback(ctx, tok, written)
		return err
	}
	// Phase 3.
	s.settle(ctx, tok, written)
	return nil
}

func (w *write) key() map[string]types.AttributeValue {
	if w.put != nil {
		return w.put.Item
	}
	return w.upd.Key
}

// settle clears pv from committed items; a reader does it for any it misses.
func (s *driver) settle(ctx context.Context, tok string, ws []*write) {
	s.each(ws, func(k map[string]types.AttributeValue) {
		_ = s.call(ctx, "settle provisional item", func() ([]types.ConsumedCapacity, error) {
			out, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table, Key: k,
				UpdateExpression: aws.String("REMOVE pv, pvt"), ConditionExpression: aws.String("pv = :t"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": avS(tok)},
				ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal})
			if out != nil {
				return caps(out.ConsumedCapacity), err
			}
			return nil, err
		})
	})
}

// rollback deletes provisional items of a commit that did not happen.
func (s *driver) rollback(ctx context.Context, tok string, ws []*write) {
	s.each(ws, func(k map[string]types.AttributeValue) { s.deleteProvisional(ctx, k, tok) })
}

// deleteProvisional removes an item of a commit that did not happen. Its
// caller has already decided (the commit failed, or the item is not
// visible), so a failure is logged, not returned: the item stays invisible
// to readers but keeps its key taken, and a later create of the same record
// conflicts until the item is gone, so it must not go unnoticed.
func (s *driver) deleteProvisional(ctx context.Context, k map[string]types.AttributeValue, tok string) {
	pk, sk := strOf(k["pk"]), strOf(k["sk"])
	err := s.call(ctx, "delete provisional item "+pk+"/"+sk, func() ([]types.ConsumedCapacity, error) {
		out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table,
			Key: key(pk, sk), ConditionExpression: aws.String("pv = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": avS(tok)},
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal})
		if out != nil {
			return caps(out.ConsumedCapacity), err
		}
		return nil, err
	})
	// A conflict is an item no longer provisional under tok: settled, or
	// already deleted. Nothing is left behind then.
	if err != nil && !errors.Is(err, store.ErrConflict) {
		s.opt.Log.Warn("dynamostore: a provisional item of an abandoned commit was left behind; creating its record conflicts until it is deleted",
			"table", s.opt.Table, "pk", pk, "sk", sk, "commit", tok, "err", err)
	}
}

func (s *driver) each(ws []*write, fn func(map[string]types.AttributeValue)) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		sem <- struct{}{}
		go func(k map[string]types.AttributeValue) {
			defer wg.Done()
			defer func() { <-sem }()
			fn(k)
		}(w.key())
	}
	wg.Wait()
}

func (s *driver) marker(ctx context.Context, exec, tok string) (string, error) {
	var item map[string]types.AttributeValue
	err := s.read(ctx, "read commit marker "+tok, func() ([]types.ConsumedCapacity, error) {
		out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(exec, "X#"+tok),
			ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if out != nil {
			item = out.Item
			return caps(out.ConsumedCapacity), err
		}
		return nil, err
	})
	return strOf(item["st"]), err
}

// visible decides whether a read item is part of the committed state.
func (s *driver) visible(ctx context.Context, item map[string]types.AttributeValue) (bool, error) {
	tok := strOf(item["pv"])
	if tok == "" {
		return true, nil
	}
	pk := strOf(item["pk"])
	st, err := s.marker(ctx, pk, tok)
	if err != nil {
		return false, err
	}
	switch st {
	case markerDone:
		s.settle(ctx, tok, []*write{{put: &types.Put{Item: item}}})
		return true, nil
	case markerAborted:
		s.deleteProvisional(ctx, item, tok)
		return false, nil
	}
	if s.opt.Now().Unix()-numOf(item["pvt"]) < int64(provisionalTimeout/time.Second) {
		return false, nil // in flight
	}
	// Abandoned: abort its commit so it can never complete, then remove it.
	m := key(pk, "X#"+tok)
	m["st"] = avS(markerAborted)
	m["ttl"] = avN(s.opt.Now().Add(24 * time.Hour).Unix())
	err = s.single(ctx, &write{what: "abort commit " + tok, put: &types.Put{TableName: s.table, Item: m,
		ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	if errors.Is(err, store.ErrConflict) {
		// Its writer got there first; read the outcome again.
		return s.visible(ctx, item)
	}
	if err != nil {
		return false, err
	}
	s.deleteProvisional(ctx, item, tok)
	return false, nil
}
