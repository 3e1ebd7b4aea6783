package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/store"
)

// DeleteDefinition implements store.Driver: the item by name goes, the
// item by content id stays for the executions that started with it.
func (s *driver) DeleteDefinition(ctx context.Context, name string) (bool, error) {
	return s.deleteItem(ctx, "definition "+name, store.DefPK, store.DefNameSK(name))
}

// deleteItem deletes one item and reports whether it existed.
func (s *driver) deleteItem(ctx context.Context, what, pk, sk string) (bool, error) {
	var old map[string]types.AttributeValue
	err := s.call(ctx, "delete "+what, func() ([]types.ConsumedCapacity, error) {
		out, err := s.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: key(pk, sk),
			ReturnValues: types.ReturnValueAllOld, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if out != nil {
			if len(out.Attributes) > 0 {
				old = out.Attributes
			}
			return caps(out.ConsumedCapacity), err
		}
		return nil, err
	})
	return old != nil && err == nil, err
}

// PutEnvironment implements store.Driver: the write is conditional on the
// item's absence (create) or presence (update).
func (s *driver) PutEnvironment(ctx context.Context, env *store.Environment, create bool) error {
	what := "environment " + env.Name
	ne := *env
	cur, err := s.Environment(ctx, env.Name)
	if err != nil {
		return err
	}
	cond := "attribute_not_exists(pk)"
	if !create {
		cond = "attribute_exists(pk)"
		if cur != nil {
			ne.Created = cur.Created
		}
	}
	raw, err := json.Marshal(&ne)
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	av, err := s.blob(ctx, what, raw)
	if err != nil {
		return err
	}
	item := key(store.EnvPK, store.EnvSK(env.Name))
	item["d"] = av
	err = s.single(ctx, &write{what: what, put: &types.Put{TableName: s.table, Item: item, ConditionExpression: aws.String(cond)}})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict) && create:
		return fmt.Errorf("%s already exists: %w", what, store.ErrConflict)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// Environment implements store.Driver.
func (s *driver) Environment(ctx context.Context, name string) (*store.Environment, error) {
	item, err := s.get(ctx, store.EnvPK, store.EnvSK(name))
	if err != nil || item == nil {
		return nil, err
	}
	return decodeDoc[store.Environment](s, ctx, item)
}

// ListEnvironments implements store.Driver.
func (s *driver) ListEnvironments(ctx context.Context) ([]*store.Environment, error) {
	var out []*store.Environment
	err := s.query(ctx, store.EnvPK, store.EnvPrefix, func(it map[string]types.AttributeValue) error {
		env, err := decodeDoc[store.Environment](s, ctx, it)
		if err == nil {
			out = append(out, env)
		}
		return err
	})
	return out, err
}

// DeleteEnvironment implements store.Driver.
func (s *driver) DeleteEnvironment(ctx context.Context, name string) (bool, error) {
	return s.deleteItem(ctx, "environment "+name, store.EnvPK, store.EnvSK(name))
}
