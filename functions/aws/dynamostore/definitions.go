package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// PutDefinition implements store.Driver: the name item and the id item are
// written together.
func (s *driver) PutDefinition(ctx context.Context, d *engine.Definition) error {
	nd := *d
	if cur, err := s.definition(ctx, store.DefNameSK(d.Name)); err != nil {
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
	byName, byID := key(store.DefPK, store.DefNameSK(d.Name)), key(store.DefPK, store.DefIDSK(d.DefID))
	byName["d"], byID["d"] = av, av
	return s.transact(ctx, []*write{
		{what: "definition " + d.Name, put: &types.Put{TableName: s.table, Item: byName}},
		{what: "definition " + d.DefID, put: &types.Put{TableName: s.table, Item: byID}},
	})
}

func (s *driver) definition(ctx context.Context, sk string) (*engine.Definition, error) {
	item, err := s.get(ctx, store.DefPK, sk)
	if err != nil || item == nil {
		return nil, err
	}
	return decodeDoc[engine.Definition](s, ctx, item)
}

// Definition implements store.Driver.
func (s *driver) Definition(ctx context.Context, name string) (*engine.Definition, error) {
	return s.definition(ctx, store.DefNameSK(name))
}

// DefinitionByID implements store.Driver.
func (s *driver) DefinitionByID(ctx context.Context, id string) (*engine.Definition, error) {
	return s.definition(ctx, store.DefIDSK(id))
}

// DefinitionNames implements store.Driver: one query page of at most
// limit keys, none decoded.
func (s *driver) DefinitionNames(ctx context.Context, limit int) ([]string, error) {
	var names []string
	err := s.queryAfter(ctx, store.DefPK, store.DefNamePrefix, "", limit, func(it map[string]types.AttributeValue) error {
		names = append(names, strings.TrimPrefix(strOf(it["sk"]), store.DefNamePrefix))
		if len(names) == limit {
			return errStop
		}
		return nil
	})
	return names, err
}

// ListDefinitions implements store.Driver.
func (s *driver) ListDefinitions(ctx context.Context) ([]*engine.Definition, error) {
	var out []*engine.Definition
	err := s.query(ctx, store.DefPK, store.DefNamePrefix, func(it map[string]types.AttributeValue) error {
		d, err := decodeDoc[engine.Definition](s, ctx, it)
		if err == nil {
			out = append(out, d)
		}
		return err
	})
	return out, err
}
