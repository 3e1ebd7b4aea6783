package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// RunTask is the runner's side: check the attempt is still wanted, claim it,
// run the action, and send its result — success or error — to the engine.
func (s *Service) RunTask(ctx context.Context, body []byte) error {
	s.arm(ctx, func(o *outbox) string { return o.tasks })
	var c engine.Command
	if err := decodeJSON(body, &c); err != nil || c.Kind != engine.RunAction {
		return fmt.Errorf("%w: decode task message: %v", ErrPoison, err)
	}
	return s.runCommand(ctx, c)
}

func (s *Service) runCommand(ctx context.Context, c engine.Command) error {
	ctx = s.WithInlineBudget(ctx)
	res, ok, err := s.runAttempt(ctx, c, true)
	if err != nil || !ok {
		return err
	}
	return s.deliver(ctx, res)
}

// runAttempt checks the attempt is still wanted, claims it (if claim) and
// runs the action. It reports false when there is no result to deliver: the
// attempt is not to run, or a delegate action will report through its
// callback.
func (s *Service) runAttempt(ctx context.Context, c engine.Command, claim bool) (engine.Result, bool, error) {
	st, ok, err := store.ReadStatus(ctx, s.Store, c.Exec)
	if err != nil {
		return engine.Result{}, false, fmt.Errorf("load execution %s: %w", c.Exec, err)
	}
	if !ok || st.State != engine.Running && !(c.PastEnd && st.State.Terminal()) {
		// Paused: Resume sends it again; finished or gone: nothing to do
		// (unless the action was started with the end: the claim decides).
		s.logAction(ctx, c, "action not run: execution not running")
		return engine.Result{}, false, nil
	}
	if c.Action == "" {
		// A recovery message names only the attempt; its details are on the record.
		if err := s.fillCommand(ctx, &c); err != nil {
			return engine.Result{}, false, err
		}
	}
	if claim {
		leave := s.gates.enter(c.Exec, "claim")
		err = s.Store.ClaimAttempt(ctx, store.ClaimParams{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt})
		leave()
		if errors.Is(err, store.ErrConflict) {
			s.logAction(ctx, c, "action not run: attempt already claimed or superseded")
			return engine.Result{}, false, nil
		}
		if err != nil {
			return engine.Result{}, false, fmt.Errorf("claim %s/%s attempt %d: %w", c.Exec, c.Task, c.Attempt, err)
		}
	}
	actx := ctx
	if c.Deadline > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, time.Duration(c.Deadline)*time.Second)
		defer cancel()
	}
	started := time.Now()
	out, async, aerr := s.Actions.Run(actx, c.Action, c.Input.GoMap(), func() (actions.Callback, error) { return s.callbackFor(c) })
	if errors.Is(aerr, actions.ErrUnknownAction) {
		// A user action sends its whole input as one document: in order.
		if uout, ok, uerr := s.runUser(actx, c.Action, c.Input); ok {
			out, aerr = uout, uerr
		}
	}
	if async && aerr == nil {
		s.logAction(ctx, c, "delegate action started", slog.Int64("duration_ms", time.Since(started).Milliseconds()))
		return engine.Result{}, false, nil
	}
	res := engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: aerr == nil, Output: out}
	if aerr != nil {
		res.Error = aerr.Error()
	}
	s.logAction(ctx, c, "action done", slog.Bool("ok", res.OK), slog.Int64("duration_ms", time.Since(started).Milliseconds()))
	return res, true, nil
}

// logAction logs one line about an action attempt at Info. The attributes
// are built only when Info is enabled: a runner logs per attempt, and a
// quiet host should not pay for lines nobody reads.
func (s *Service) logAction(ctx context.Context, c engine.Command, msg string, extra ...slog.Attr) {
	if !s.Log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := append([]slog.Attr{slog.String("execution_id", c.Exec), slog.String("task", c.Task), slog.Int("slot", c.Slot),
		slog.Int("attempt", c.Attempt), slog.String("action", c.Action)}, extra...)
	s.Log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}

// SendResult puts a result on the result queue.
func (s *Service) SendResult(ctx context.Context, r engine.Result) error {
	body, err := json.Marshal(Message{Result: &r})
	if err != nil {
		// An output that cannot be encoded is the action's error, not a lost result.
		body, _ = json.Marshal(Message{Result: &engine.Result{Exec: r.Exec, Task: r.Task, Slot: r.Slot, Attempt: r.Attempt,
			Error: fmt.Sprintf("action output cannot be encoded as JSON: %v", err)}})
	}
	// A result sent once ctx has ended (the host stopping its workers) goes
	// to the Results sender, which decides whether it is still taken.
	if ack, _ := takeAck(ctx); ack != nil && ctx.Err() == nil {
		err := s.outbox.store.CommitSending(ctx, nil, []store.Outgoing{{Queue: s.outbox.results, Body: body}, ack.outgoing()})
		if err != nil {
			return fmt.Errorf("send result of %s/%s attempt %d: %w", r.Exec, r.Task, r.Attempt, err)
		}
		ack.done = true
		return nil
	}
	return s.Results.Send(ctx, body, 0)
}

func (s *Service) fillCommand(ctx context.Context, c *engine.Command) error {
	t, err := s.Store.Task(ctx, c.Exec, c.Task)
	if err != nil || t == nil {
		return fmt.Errorf("load task %s of %s: %v", c.Task, c.Exec, err)
	}
	var sl *engine.Slot
	if c.Slot >= 0 {
		sl, err = s.Store.Slot(ctx, c.Exec, c.Task, c.Slot)
		if err != nil || sl == nil {
			return fmt.Errorf("load item %d of %s: %v", c.Slot, c.Task, err)
		}
	}
	if o, ok := engine.AttemptAction(t, sl, c.Attempt); ok {
		*c = o
		return nil
	}
	return fmt.Errorf("%w: %w: no pending action for %s/%s item %d attempt %d", ErrPoison, ErrGone, c.Exec, c.Task, c.Slot, c.Attempt)
}
