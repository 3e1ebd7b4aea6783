package chaos

import (
	"context"
	"fmt"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Store wraps any driver and injects the faults of a database: a commit
// refused as a conflict or as throttling before it is written, and a
// commit whose write took effect but whose response was lost (the caller
// sees ErrUnavailable and must find out from the state what happened).
// Claims are throttled too; a claim's lost response is not injected: a
// runner that cannot tell whether it claimed must not run the action, and
// the attempt then waits for the action deadline, which this harness does
// not model.
type Store struct {
	store.Store
	Faults *Schedule
}

// Commit implements store.Store with injected faults.
func (s *Store) Commit(ctx context.Context, ops []engine.Op) error {
	switch {
	case s.Faults.Hit(FaultConflict):
		return fmt.Errorf("chaos: injected: %w", store.ErrConflict)
	case s.Faults.Hit(FaultThrottle):
		return fmt.Errorf("chaos: injected throttling: %w", store.ErrUnavailable)
	}
	if err := s.Store.Commit(ctx, ops); err != nil {
		return err
	}
	if s.Faults.Hit(FaultLostWrite) {
		return fmt.Errorf("chaos: injected lost response after the write: %w", store.ErrUnavailable)
	}
	return nil
}

// ClaimAttempt implements store.Store with injected throttling.
func (s *Store) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	if s.Faults.Hit(FaultThrottle) {
		return fmt.Errorf("chaos: injected throttling: %w", store.ErrUnavailable)
	}
	return s.Store.ClaimAttempt(ctx, p)
}
