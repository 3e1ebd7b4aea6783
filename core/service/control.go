package service

import (
	"context"

	"github.com/lazyflow/lazyflow/core/engine"
)

// Pause, Resume, Cancel and Rerun change an execution on request.
func (s *Service) Pause(ctx context.Context, id string) (*engine.Execution, error) {
	return s.control(ctx, id, "pause", func() (*engine.Plan, error) { return s.Engine.Pause(ctx, s.reader(), id) })
}

// Resume continues a paused execution.
func (s *Service) Resume(ctx context.Context, id string) (*engine.Execution, error) {
	e, err := s.control(ctx, id, "resume", func() (*engine.Plan, error) { return s.Engine.Resume(ctx, s.reader(), id) })
	if err != nil {
		return nil, err
	}
	// Tasks whose messages runners dropped while paused are sent again.
	return e, s.Recover(ctx, id)
}

// Cancel cancels an execution.
func (s *Service) Cancel(ctx context.Context, id string) (*engine.Execution, error) {
	return s.control(ctx, id, "cancel", func() (*engine.Plan, error) { return s.Engine.Cancel(ctx, s.reader(), id) })
}

// Fail ends a running or paused execution as ERROR with reason as its
// state_info (Mistral's "set the state to ERROR"); an ended one is left as it is.
func (s *Service) Fail(ctx context.Context, id, reason string) (*engine.Execution, error) {
	return s.control(ctx, id, "fail", func() (*engine.Plan, error) { return s.Engine.Fail(ctx, s.reader(), id, reason) })
}

// Rerun runs a failed task of a failed execution again.
func (s *Service) Rerun(ctx context.Context, id, task string) (*engine.Execution, error) {
	return s.control(ctx, id, "rerun", func() (*engine.Plan, error) { return s.Engine.Rerun(ctx, s.reader(), id, task) })
}

func (s *Service) control(ctx context.Context, id, kind string, fn func() (*engine.Plan, error)) (*engine.Execution, error) {
	p, err := s.apply(ctx, id, kind, fn)
	if err != nil {
		return nil, err
	}
	s.Log.Info("execution "+kind, "execution_id", id)
	if p.Exec != nil {
		return p.Exec, nil
	}
	return s.Store.Execution(ctx, id)
}
