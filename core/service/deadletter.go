package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// DeadLetter handles a message that a queue gave up on. A task message
// becomes an error result of its attempt (so retry and on-error apply); a
// result or timer message that could not be applied fails its execution
// with a reason. Either way nothing stays RUNNING forever.
//
// Log levels follow who must act: a message about work that has ended
// meanwhile (common after crashes, when a message was received by a
// process that died, again and again) changes nothing and is INFO; an
// attempt failed for its message is WARN, since the workflow's retry and
// on-error handle it; an execution failed, or a message that cannot be
// read, is ERROR, for an operator to look at.
func (s *Service) DeadLetter(ctx context.Context, body []byte) error {
	var c engine.Command
	if json.Unmarshal(body, &c) == nil && c.Kind == engine.RunAction && c.Exec != "" {
		attrs := []any{"execution_id", c.Exec, "task", c.Task, "slot", c.Slot, "attempt", c.Attempt}
		live, err := s.attemptLive(ctx, c)
		if err != nil {
			return fmt.Errorf("dead letter for %s/%s: %w", c.Exec, c.Task, err)
		}
		if !live {
			s.Log.Info("dead-lettered action message for an attempt that has ended; nothing to do", attrs...)
			return nil
		}
		s.Log.Warn("action message dead-lettered; failing its attempt", attrs...)
		return s.TaskComplete(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt,
			Error: "the action's message could not be processed and was moved to the dead-letter queue"})
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		s.Log.Error("undecodable dead letter dropped", "body", string(body[:min(len(body), 300)]))
		return nil
	}
	exec := ""
	switch {
	case m.Result != nil:
		exec = m.Result.Exec
		r := m.Result
		ended, err := s.attemptEnded(ctx, engine.Command{Exec: r.Exec, Task: r.Task, Slot: r.Slot, Attempt: r.Attempt})
		if err != nil {
			return fmt.Errorf("dead letter for %s/%s: %w", r.Exec, r.Task, err)
		}
		if ended {
			s.Log.Info("dead-lettered result for an attempt that has ended; nothing to do", "execution_id", r.Exec, "task", r.Task, "attempt", r.Attempt)
			return nil
		}
	case m.Timer != nil:
		exec = m.Timer.Exec
	}
	if exec == "" {
		return nil
	}
	if st, ok, err := store.ReadStatus(ctx, s.Store, exec); err != nil {
		return fmt.Errorf("dead letter for %s: %w", exec, err)
	} else if !ok || st.State.Terminal() {
		s.Log.Info("dead-lettered engine message for an execution that has ended; nothing to do", "execution_id", exec)
		return nil
	}
	s.Log.Error("engine message dead-lettered; failing execution", "execution_id", exec)
	_, err := s.apply(ctx, exec, "dead-letter", func() (*engine.Plan, error) {
		return s.Engine.Fail(ctx, s.reader(), exec, "a message of this execution could not be processed and was moved to the dead-letter queue")
	})
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	return err
}

// attemptEnded reports whether the attempt a result names exists and has
// ended. A result naming no record at all is not about ended work: it is a
// message nothing can apply, and failing its execution is what keeps the
// execution from waiting for it for ever.
func (s *Service) attemptEnded(ctx context.Context, c engine.Command) (bool, error) {
	if c.Slot >= 0 {
		sl, err := s.Store.Slot(ctx, c.Exec, c.Task, c.Slot)
		if err != nil || sl == nil {
			return false, err
		}
		return sl.State != engine.Running || sl.Attempt != c.Attempt, nil
	}
	t, err := s.Store.Task(ctx, c.Exec, c.Task)
	if err != nil || t == nil {
		return false, err
	}
	return t.State != engine.Running || t.Attempt != c.Attempt, nil
}
