package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// The reads below are what a front end (the HTTP API) shows of the stored
// state. They return the store's records and errors as they are, so a
// caller can tell store.ErrNotFound and store.ErrUnavailable apart.

// Workflow returns the current definition registered under name.
func (s *Service) Workflow(ctx context.Context, name string) (*engine.Definition, error) {
	return s.Store.Definition(ctx, name)
}

// Workflows returns every registered definition.
func (s *Service) Workflows(ctx context.Context) ([]*engine.Definition, error) {
	return s.Store.ListDefinitions(ctx)
}

// Execution returns an execution's head (without its input: ExecutionInput),
// or nil if there is none.
func (s *Service) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	return s.Store.Execution(ctx, id)
}

// ExecutionInput returns an execution's input, kept beside its head.
func (s *Service) ExecutionInput(ctx context.Context, id string) (*value.Map, error) {
	return s.Store.Input(ctx, id)
}

// ExecutionTasks returns the task records of an execution.
func (s *Service) ExecutionTasks(ctx context.Context, id string) ([]*engine.Task, error) {
	return s.Store.Tasks(ctx, id)
}

// ListExecutions lists execution heads newest first, one page at a time.
func (s *Service) ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error) {
	return s.Store.ListExecutions(ctx, p)
}

// VerifyCallback checks a delegate action's callback token against the
// service's key and returns what it names; its errors are callback's own
// (expired, forged, malformed).
func (s *Service) VerifyCallback(token string) (callback.Claims, error) {
	return callback.Verify(s.CallbackKey, token, time.Now())
}

// ActionDeadline is how long an action may run without reporting (zero:
// no deadline is set).
func (s *Service) ActionDeadline() time.Duration {
	return time.Duration(s.Engine.ActionDeadline) * time.Second
}

// Logger is the service's logger.
func (s *Service) Logger() *slog.Logger { return s.Log }

// ActionNames lists the actions the service's runners provide.
func (s *Service) ActionNames() []string {
	if s.Actions == nil {
		return nil
	}
	return s.Actions.Names()
}
