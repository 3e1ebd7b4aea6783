package service

import (
	"context"
	"fmt"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// DeleteWorkflow removes workflow name from the registered workflows.
// Executions already running it go on: they read their definition by
// content id, which stays.
func (s *Service) DeleteWorkflow(ctx context.Context, name string) error {
	if err := s.Store.DeleteDefinition(ctx, name); err != nil {
		return fmt.Errorf("delete workflow %s: %w", name, s.notFoundWorkflow(ctx, name, err))
	}
	s.Log.Info("workflow deleted", "workflow", name)
	return nil
}

// DeleteExecution deletes a finished execution with every record it owns.
// An unfinished one is refused (store.ErrConflict) unless force is set;
// then it is cancelled first, so its runners stop at their next step,
// and deleted whatever its state.
func (s *Service) DeleteExecution(ctx context.Context, id string, force bool) error {
	e, err := s.Store.Execution(ctx, id)
	if err != nil {
		return fmt.Errorf("delete execution %s: %w", id, err)
	}
	switch {
	case e == nil:
		return fmt.Errorf("execution %s: %w", id, store.ErrNotFound)
	case !e.State.Terminal() && !force:
		return fmt.Errorf("execution %s is %s: only a finished execution can be deleted unless forced: %w", id, e.State, engine.ErrInvalidState)
	case !e.State.Terminal():
		if _, err := s.Cancel(ctx, id); err != nil {
			s.Log.Warn("cancel before a forced delete failed; deleting anyway", "execution_id", id, "err", err.Error())
		}
	}
	if err := s.Store.DeleteExecution(ctx, id, force); err != nil {
		return fmt.Errorf("delete execution %s: %w", id, err)
	}
	s.Log.Info("execution deleted", "execution_id", id, "force", force)
	return nil
}

// Environment returns environment name.
func (s *Service) Environment(ctx context.Context, name string) (*store.Environment, error) {
	return s.Store.Environment(ctx, name)
}

// Environments lists the environments by name.
func (s *Service) Environments(ctx context.Context) ([]*store.Environment, error) {
	return s.Store.ListEnvironments(ctx)
}

// PutEnvironment creates (create set: store.ErrConflict if it exists) or
// replaces (store.ErrNotFound if it does not) an environment, and returns
// it as stored.
func (s *Service) PutEnvironment(ctx context.Context, env store.Environment, create bool) (*store.Environment, error) {
	now := time.Now().UTC()
	env.Created, env.Updated = now, now
	if err := s.Store.PutEnvironment(ctx, &env, create); err != nil {
		return nil, fmt.Errorf("put environment %s: %w", env.Name, err)
	}
	return s.Store.Environment(ctx, env.Name)
}

// DeleteEnvironment deletes environment name; executions started with it
// keep the variables they were started with.
func (s *Service) DeleteEnvironment(ctx context.Context, name string) error {
	if err := s.Store.DeleteEnvironment(ctx, name); err != nil {
		return fmt.Errorf("delete environment %s: %w", name, err)
	}
	return nil
}
