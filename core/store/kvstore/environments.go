package kvstore

import (
	"context"
	"fmt"

	"github.com/lazyflow/lazyflow/core/store"
)

// DeleteDefinition implements store.Driver: the record by name goes, the
// one by content id stays for the executions that started with it.
func (s *driver) DeleteDefinition(ctx context.Context, name string) (bool, error) {
	return s.deleteIfPresent(store.DefPK, store.DefNameSK(name))
}

// deleteIfPresent deletes one record and reports whether it existed.
func (s *driver) deleteIfPresent(pk, sk string) (bool, error) {
	found := false
	err := s.b.Update(func(tx Tx) error {
		raw, err := tx.Get(pk, sk)
		if err != nil || raw == nil {
			return err
		}
		found = true
		return tx.Delete(pk, sk)
	})
	return found && err == nil, err
}

// PutEnvironment implements store.Driver.
func (s *driver) PutEnvironment(ctx context.Context, env *store.Environment, create bool) error {
	return s.b.Update(func(tx Tx) error {
		cur, err := get[store.Environment](s, tx, store.EnvPK, store.EnvSK(env.Name))
		if err != nil {
			return err
		}
		switch {
		case create && cur != nil:
			return fmt.Errorf("environment %q already exists: %w", env.Name, store.ErrConflict)
		case !create && cur == nil:
			return fmt.Errorf("environment %q: %w", env.Name, store.ErrNotFound)
		}
		ne := *env
		if cur != nil {
			ne.Created = cur.Created
		}
		return s.put(tx, store.EnvPK, store.EnvSK(env.Name), &ne)
	})
}

// Environment implements store.Driver.
func (s *driver) Environment(ctx context.Context, name string) (env *store.Environment, err error) {
	err = s.view(func(tx Tx) error {
		env, err = get[store.Environment](s, tx, store.EnvPK, store.EnvSK(name))
		return err
	})
	return env, err
}

// ListEnvironments implements store.Driver.
func (s *driver) ListEnvironments(ctx context.Context) ([]*store.Environment, error) {
	return scanAll[store.Environment](s, store.EnvPK, store.EnvPrefix)
}

// DeleteEnvironment implements store.Driver.
func (s *driver) DeleteEnvironment(ctx context.Context, name string) (bool, error) {
	return s.deleteIfPresent(store.EnvPK, store.EnvSK(name))
}
