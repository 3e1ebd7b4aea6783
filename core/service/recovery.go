package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Recover re-sends the pending commands of every running, unclaimed task of
// an execution. It is safe at any time: runners claim each attempt once.
func (s *Service) Recover(ctx context.Context, id string) error {
	return s.recover(ctx, id, time.Time{})
}

// Purge deletes finished executions last updated more than retention ago,
// with everything stored about them, at most max of them per call (0: no
// limit); running and paused executions are kept however old. Run it on a
// schedule beside Sweep. It returns how many executions it deleted.
func (s *Service) Purge(ctx context.Context, retention time.Duration, max int) (int, error) {
	if retention <= 0 {
		return 0, nil
	}
	n, err := s.Store.PurgeExecutions(ctx, store.PurgeParams{Before: time.Now().Add(-retention), Max: max})
	if n > 0 {
		s.Log.Info("finished executions purged", "executions", n, "retention_hours", int(retention.Hours()))
	}
	if err != nil {
		return n, fmt.Errorf("purge executions older than %s: %w", retention, err)
	}
	return n, nil
}

// Sweep repairs what a lost message could leave waiting, where nothing else
// would: for each RUNNING execution (at most max) it re-sends the actions of
// tasks started before now-minAge that no runner has claimed, and finalises
// executions whose work is done; it re-sends the pages of cancelled
// executions that still count live work, and resumes a parent that paused
// with a sub-workflow none of whose sub-workflows is paused any more. Run
// it on a schedule (the sweeper function on AWS). It returns how many
// executions it looked at.
func (s *Service) Sweep(ctx context.Context, minAge time.Duration, max int) (int, error) {
	before := time.Now().Add(-minAge)
	n, err := s.sweepState(ctx, engine.Running, max, func(e *engine.Execution) error { return s.recover(ctx, e.ID, before) })
	if err != nil || n >= max {
		return n, err
	}
	// A cancel ends its live tasks by pages, each sent by the one before;
	// a page lost between commit and send is sent again while the
	// execution still counts live work.
	m, err := s.sweepState(ctx, engine.Cancelled, max-n, func(e *engine.Execution) error {
		if e.Active <= 0 || e.Updated.After(before) {
			return nil
		}
		return s.carry(ctx, e.ID, &engine.Plan{Commands: engine.EndTasksCommands(e)})
	})
	n += m
	if err != nil || n >= max {
		return n, err
	}
	// A sub-workflow's resume (or end) tells a parent that paused with it
	// by a message after its commit; if that was lost, the parent stays
	// paused with nothing left to resume it.
	m, err = s.sweepState(ctx, engine.Paused, max-n, func(e *engine.Execution) error {
		if !strings.HasPrefix(e.StateInfo, engine.PausedWithChild) || e.Updated.After(before) {
			return nil
		}
		return s.resumeWorkflow(ctx, engine.Command{Kind: engine.ResumeWorkflow, Exec: e.ID, From: strings.TrimPrefix(e.StateInfo, engine.PausedWithChild), Slot: -1})
	})
	return n + m, err
}

// sweepState calls fn for at most max executions in state st.
func (s *Service) sweepState(ctx context.Context, st engine.State, max int, fn func(*engine.Execution) error) (int, error) {
	n, cursor := 0, ""
	for n < max {
		page, err := s.Store.ListExecutions(ctx, store.ListParams{State: st, Limit: 100, Cursor: cursor})
		if err != nil {
			return n, fmt.Errorf("sweep: list %s executions: %w", st, err)
		}
		for _, e := range page.Executions {
			if n == max {
				break
			}
			n++
			if err := fn(e); err != nil {
				s.Log.Warn("sweep: recover failed; the next sweep retries", "execution_id", e.ID, "err", err)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	return n, nil
}

// recover re-sends unclaimed work; with a non-zero before, only that of tasks
// started before it, and the timer of a delayed task only once the delay
// should have ended before it (a timer lost between commit and send would
// otherwise leave the task delayed for ever).
func (s *Service) recover(ctx context.Context, id string, before time.Time) error {
	head, err := s.Store.Execution(ctx, id)
	if err != nil || head == nil {
		return err
	}
	if head.State == engine.Cancelled {
		return s.carry(ctx, id, &engine.Plan{Commands: engine.EndTasksCommands(head)})
	}
	if head.State != engine.Running {
		return nil
	}
	if err := s.carry(ctx, id, &engine.Plan{Commands: engine.StartPageCommands(head)}); err != nil {
		return err
	}
	tasks, err := s.Store.Tasks(ctx, id)
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	for _, t := range tasks {
		if !before.IsZero() && (!t.Started.Before(before) || t.State == engine.RunningDelayed && !delayOverdue(t, before)) {
			continue
		}
		if t.State == engine.Running && t.Items == 0 && t.Claimed < t.Attempt || t.State == engine.RunningDelayed {
			// Timers of delayed tasks are sent again too: a duplicate timer
			// is ignored by the engine (it checks the attempt and what the
			// task waits for).
			if err := s.carry(ctx, id, &engine.Plan{Commands: engine.OwnCommands(t)}); err != nil {
				return err
			}
		}
		if t.State == engine.Running && t.Items > 0 {
			if err := s.recoverItems(ctx, id, t); err != nil {
				return err
			}
		}
	}
	return s.checkFinal(ctx, id)
}

// recoverItems re-sends the unclaimed items of a running with-items task.
func (s *Service) recoverItems(ctx context.Context, id string, t *engine.Task) error {
	slots, err := s.Store.Slots(ctx, id, t.Key)
	if err != nil {
		return fmt.Errorf("recover items of %s/%s: %w", id, t.Key, err)
	}
	for _, sl := range slots {
		if sl.State != engine.Running || sl.Claimed >= sl.Attempt {
			continue
		}
		// An item running a sub-workflow is never claimed: its start
		// is sent again (idempotent by the child's id), not an action.
		var again []engine.Command
		for _, c := range engine.AttemptCommands(t, sl, sl.Attempt) {
			if c.Kind == engine.StartWorkflow {
				again = append(again, c)
			}
		}
		if len(again) == 0 {
			again = []engine.Command{{Kind: engine.RunAction, Exec: id, Task: t.Key, Slot: sl.Index, Attempt: sl.Attempt}}
		}
		if err := s.carry(ctx, id, &engine.Plan{Commands: again}); err != nil {
			return err
		}
	}
	return nil
}

// delayOverdue reports whether a delayed task's timer should have fired
// before the cutoff. The delay began at the task's start (wait-before) or
// later (retry, wait-after), so start + delay is a lower bound of when the
// timer is due: a timer re-sent from here fires no earlier than the lost one
// would have, and a duplicate is ignored by the engine.
func delayOverdue(t *engine.Task, before time.Time) bool {
	for _, c := range engine.OwnCommands(t) {
		if c.Kind == engine.StartTimer && t.Started.Add(time.Duration(c.Delay*float64(time.Second))).Before(before) {
			return true
		}
	}
	return false
}
