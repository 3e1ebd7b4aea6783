package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/store"
)

// PutAction implements store.Driver.
func (s *driver) PutAction(ctx context.Context, a *store.ActionDef) error {
	na := *a
	if cur, err := s.Action(ctx, a.Name); err != nil {
		return err
	} else if cur != nil && !cur.Deleted {
		na.Created = cur.Created
	}
	raw, err := json.Marshal(&na)
	if err != nil {
		return fmt.Errorf("encode action %s: %w", a.Name, err)
	}
	av, err := s.blob(ctx, "action "+a.Name, raw)
	if err != nil {
		return err
	}
	item := key(store.ActionPK, store.ActionSK(a.Name))
	item["d"] = av
	return s.transact(ctx, []*write{{what: "action " + a.Name, put: &types.Put{TableName: s.table, Item: item}}})
}

// Action implements store.Driver.
func (s *driver) Action(ctx context.Context, name string) (*store.ActionDef, error) {
	item, err := s.get(ctx, store.ActionPK, store.ActionSK(name))
	if err != nil || item == nil {
		return nil, err
	}
	return decodeDoc[store.ActionDef](s, ctx, item)
}

// ListActions implements store.Driver.
func (s *driver) ListActions(ctx context.Context) ([]*store.ActionDef, error) {
	var out []*store.ActionDef
	err := s.query(ctx, store.ActionPK, store.ActionPrefix, func(it map[string]types.AttributeValue) error {
		a, err := decodeDoc[store.ActionDef](s, ctx, it)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	return out, err
}
