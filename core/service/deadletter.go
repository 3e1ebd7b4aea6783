package service

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/lazyflow/lazyflow/core/engine"
)

// DeadLetter handles a message that a queue gave up on. A task message
// becomes an error result of its attempt (so retry and on-error apply); a
// result or timer message that could not be applied fails its execution
// with a reason. Either way nothing stays RUNNING forever.
func (s *Service) DeadLetter(ctx context.Context, body []byte) error {
	var c engine.Command
	if json.Unmarshal(body, &c) == nil && c.Kind == engine.RunAction && c.Exec != "" {
		s.Log.Error("action message dead-lettered", "execution_id", c.Exec, "task", c.Task, "attempt", c.Attempt)
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
	case m.Timer != nil:
		exec = m.Timer.Exec
	}
	if exec == "" {
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
