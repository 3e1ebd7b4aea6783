package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/lazyflow/lazyflow/core/engine"
)

// DefaultInlineSteps is how many trivial actions (std.noop, std.echo,
// std.fail) one invocation runs inline before it sends the next to the task
// queue: a chain of them must not grow one call's stack and duration
// without limit (a Lambda function has a timeout, a queue message a
// visibility), and the queue hands the rest of the chain to a fresh call.
const DefaultInlineSteps = 32

// MaxOwnResult is the largest encoded result a runner applies itself when
// RunnerApplies is set; a larger one goes to the result queue, so the
// engine function, not every runner, pays for storing large values.
const MaxOwnResult = 64 << 10

type inlineBudgetKey struct{}

// WithInlineBudget gives ctx an inline budget of InlineSteps unless it has
// one already: every step carried out under the returned context shares
// it. Each result, timer or request gets its own otherwise; a host that
// handles a batch of messages in one invocation (a Lambda function) gives
// the batch one budget, so the invocation's length stays bounded.
func (s *Service) WithInlineBudget(ctx context.Context) context.Context {
	if s.InlineSteps <= 0 || ctx.Value(inlineBudgetKey{}) != nil {
		return ctx
	}
	b := new(atomic.Int64)
	b.Store(int64(s.InlineSteps))
	return context.WithValue(ctx, inlineBudgetKey{}, b)
}

// inline reports whether command c runs here instead of going to the task
// queue, and takes its step from the budget if so.
func (s *Service) inline(ctx context.Context, c engine.Command) bool {
	if c.Kind != engine.RunAction || c.Action == "" || !s.Actions.Trivial(c.Action) {
		return false
	}
	b, _ := ctx.Value(inlineBudgetKey{}).(*atomic.Int64)
	return b != nil && b.Add(-1) >= 0
}

type ownApplyKey struct{}

// maxConflicts is how many times a step is computed again on a conflict: a
// result applied where it was produced (inline, or by a runner) gives up
// after one retry and goes to the result queue, whose engine function
// retries as long as it takes without holding up a runner.
func (s *Service) maxConflicts(ctx context.Context) int {
	if ctx.Value(ownApplyKey{}) != nil {
		return min(1, s.MaxConflicts)
	}
	return s.MaxConflicts
}

// applyOwn applies a result where it was produced, through the same
// TaskComplete as the engine host's, and falls back to the result queue
// when that does not work out (a conflict, throttling, any store error):
// the result is then applied by the engine function, or found settled
// there, whose duplicate step re-sends what this one may not have.
func (s *Service) applyOwn(ctx context.Context, r engine.Result) error {
	_, err := s.taskComplete(context.WithValue(ctx, ownApplyKey{}, true), r)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrGone) {
		s.Log.Info("result dropped: the work it is about has ended", "execution_id", r.Exec, "task", r.Task, "attempt", r.Attempt, "err", err)
		return nil
	}
	s.Log.Warn("result not applied here; sending it to the result queue", "execution_id", r.Exec, "task", r.Task,
		"attempt", r.Attempt, "err", err)
	if serr := s.SendResult(ctx, r); serr != nil {
		return fmt.Errorf("apply result of %s/%s attempt %d: %w; send it: %w", r.Exec, r.Task, r.Attempt, err, serr)
	}
	return nil
}

// deliver hands a runner's result on: to the result queue, or, with
// RunnerApplies, to applyOwn unless the result is large.
func (s *Service) deliver(ctx context.Context, r engine.Result) error {
	if !s.RunnerApplies {
		return s.SendResult(ctx, r)
	}
	if body, err := json.Marshal(r.Output); err != nil || len(body) > MaxOwnResult {
		s.Log.Debug("large result goes to the result queue", slog.String("execution_id", r.Exec), slog.String("task", r.Task))
		return s.SendResult(ctx, r)
	}
	return s.applyOwn(ctx, r)
}

// runInline runs a trivial action's attempt as a runner would (status
// check, run) and applies its result at once. It does not claim the
// attempt: a claim is a durable write of its own, there to keep an action
// from running twice, and a trivial action has no effect to repeat. If
// another runner runs the same attempt (recovery sent it again), the
// engine applies one result and finds the other a duplicate; if the
// process dies before the result commits, the attempt is unclaimed, so
// recovery runs it again rather than report it interrupted.
func (s *Service) runInline(ctx context.Context, c engine.Command) error {
	res, ok, err := s.runAttempt(ctx, c, false)
	if err != nil || !ok {
		return err
	}
	return s.applyOwn(ctx, res)
}
