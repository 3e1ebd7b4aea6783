package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/engine"
)

func (s *Service) callbackFor(c engine.Command) (actions.Callback, error) {
	if len(s.CallbackKey) == 0 {
		return actions.Callback{}, errors.New("delegate actions need a callback key (LAZYFLOW_CALLBACK_KEY or the deployment secret)")
	}
	exp := time.Now().Add(s.CallbackTTL).Unix()
	tok, err := callback.Sign(s.CallbackKey, callback.Claims{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, Expires: exp})
	if err != nil {
		return actions.Callback{}, err
	}
	cb := actions.Callback{URL: s.CallbackURL + tok, Token: tok, Expires: exp}
	// Mistral's delegates PUT {state, output} to /v2/action_executions/{id};
	// the token is that id, so it carries the same signed, expiring claims.
	if base, ok := strings.CutSuffix(s.CallbackURL, "callbacks/"); ok {
		cb.MistralURL = base + "v2/action_executions/" + tok
	}
	return cb, nil
}

// CallbackToken signs a token for one action attempt, as a delegate action
// gets it: Mistral's API shows it as the attempt's action execution id.
func (s *Service) CallbackToken(exec, task string, slot, attempt int) (string, error) {
	return callback.Sign(s.CallbackKey, callback.Claims{Exec: exec, Task: task, Slot: slot, Attempt: attempt,
		Expires: time.Now().Add(s.CallbackTTL).Unix()})
}

// Callback errors.
var (
	ErrCallbackRejected = errors.New("callback rejected")
	ErrCallbackStale    = errors.New("callback for an attempt that is no longer running")
)

// Callback completes a delegate action from a signed token.
func (s *Service) Callback(ctx context.Context, token string, ok bool, output any, errMsg string) error {
	c, err := callback.Verify(s.CallbackKey, token, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCallbackRejected, err)
	}
	if err := s.attemptRunning(ctx, c); err != nil {
		return err
	}
	// The read above only turns away most late callbacks early: callbacks
	// racing for one attempt all pass it. The commit decides: the one whose
	// result settled the attempt is accepted, the others found it settled.
	p, err := s.taskComplete(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: ok, Output: output, Error: errMsg})
	if err != nil {
		return err
	}
	if p != nil && p.Duplicate {
		return ErrCallbackStale
	}
	return nil
}

// Heartbeat keeps a delegate action's attempt alive: its watchdog deadline
// moves to now+extend. A stale attempt gets ErrCallbackStale.
func (s *Service) Heartbeat(ctx context.Context, token string, extend time.Duration) error {
	c, err := callback.Verify(s.CallbackKey, token, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCallbackRejected, err)
	}
	_, err = s.apply(ctx, c.Exec, "heartbeat", func() (*engine.Plan, error) {
		return s.Engine.Heartbeat(ctx, s.reader(), c.Exec, c.Task, c.Slot, c.Attempt, extend)
	})
	if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("%w: %v", ErrCallbackStale, err)
	}
	return err
}

// attemptRunning refuses a callback for an attempt that is no longer
// running, or whose execution was cancelled (a cancel ends every attempt,
// even an item's whose record it does not rewrite).
func (s *Service) attemptRunning(ctx context.Context, c callback.Claims) error {
	head, err := s.Store.Execution(ctx, c.Exec)
	if err != nil {
		return err
	}
	if head == nil || head.State == engine.Cancelled {
		return ErrCallbackStale
	}
	live, err := s.attemptLive(ctx, engine.Command{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt})
	if err != nil {
		return err
	}
	if !live {
		return ErrCallbackStale
	}
	return nil
}

// attemptLive reports whether the attempt c names is the one its task (or
// item) is running.
func (s *Service) attemptLive(ctx context.Context, c engine.Command) (bool, error) {
	if c.Slot >= 0 {
		sl, err := s.Store.Slot(ctx, c.Exec, c.Task, c.Slot)
		if err != nil {
			return false, err
		}
		return sl != nil && sl.State == engine.Running && sl.Attempt == c.Attempt, nil
	}
	t, err := s.Store.Task(ctx, c.Exec, c.Task)
	if err != nil {
		return false, err
	}
	return t != nil && t.State == engine.Running && t.Attempt == c.Attempt, nil
}
