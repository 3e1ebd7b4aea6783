package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
)

// Fire handles a timer coming back.
func (e *Engine) Fire(ctx context.Context, r Reader, tm Timer) (*Plan, error) {
	b, err := e.load(ctx, r, tm.Exec)
	if err != nil {
		return nil, err
	}
	if tm.Kind == TimerEndTasks {
		return b.fireEndTasks(tm)
	}
	if b.head.State.Terminal() {
		return &Plan{}, nil
	}
	if tm.Kind == TimerStartPage {
		return b.fireStartPage(tm)
	}
	rec, err := r.Task(ctx, tm.Exec, tm.Task)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", tm.Task, tm.Exec, err)
	}
	if rec == nil || rec.State.Terminal() {
		return &Plan{}, nil
	}
	t := b.wf.Tasks[rec.Name]
	switch tm.Kind {
	case TimerWaitBefore, TimerRetry:
		return b.fireDelay(rec, t, tm)
	case TimerWaitAfter:
		return b.fireWaitAfter(rec, t, tm)
	case TimerTimeout:
		return b.fireTimeout(rec, t, tm)
	case TimerWatchdog:
		if tm.Slot >= 0 {
			return b.fireItemWatchdog(ctx, r, rec, t, tm)
		}
		return b.fireWatchdog(rec, t, tm)
	default:
		return nil, fmt.Errorf("timer of unknown kind %q: %w", tm.Kind, ErrInvalidInput)
	}
}

// fireDelay runs the attempt a wait-before or retry delay held back, unless
// the task moved on or the execution is paused.
func (b *builder) fireDelay(rec *Task, t *dsl.Task, tm Timer) (*Plan, error) {
	if rec.State != RunningDelayed || rec.Pending != Pending(tm.Kind) || rec.Attempt != tm.Attempt {
		return &Plan{}, nil
	}
	if b.head.State == Paused {
		return &Plan{}, nil // Resume picks delayed tasks up again
	}
	if tm.Kind == TimerWaitBefore {
		if err := b.run(rec, t); err != nil {
			return nil, err
		}
	} else {
		rec.State, rec.Pending = Running, PendingNone
		if err := b.runAttempt(rec, t); err != nil {
			return nil, err
		}
	}
	rec.Outbox = clone(b.cmds)
	b.putTask(rec)
	return b.plan(), nil
}

// fireWaitAfter finishes a task that succeeded and waited its wait-after.
func (b *builder) fireWaitAfter(rec *Task, t *dsl.Task, tm Timer) (*Plan, error) {
	if rec.State != RunningDelayed || rec.Pending != PendingWaitAfter || rec.Attempt != tm.Attempt {
		return &Plan{}, nil
	}
	if err := b.finishTask(rec, t, true, ""); err != nil {
		return nil, err
	}
	rec.Outbox = clone(b.cmds)
	b.putTask(rec)
	return b.plan(), nil
}

// fireTimeout fails the run of a task its timeout policy bounds.
func (b *builder) fireTimeout(rec *Task, t *dsl.Task, tm Timer) (*Plan, error) {
	// The timer names the run it bounds by its due time; a rerun or a
	// later run of the task set another.
	if rec.TimeoutAt == 0 || tm.Due != rec.TimeoutAt || (rec.State != Running && rec.State != RunningDelayed) {
		return &Plan{}, nil
	}
	msg := fmt.Sprintf("task %s timed out (timeout policy)", rec.Name)
	rec.Result, rec.HasResult = msg, true
	if err := b.finishTask(rec, t, false, msg); err != nil {
		return nil, err
	}
	rec.Outbox = clone(b.cmds)
	b.putTask(rec)
	return b.plan(), nil
}

// watchdogMessage is the error of an attempt whose runner did not report.
func (b *builder) watchdogMessage(rec *Task) string {
	return fmt.Sprintf("action of task %s did not report within %d s; its runner is presumed lost", rec.Name, b.e.ActionDeadline)
}

// fireItemWatchdog fails a with-items item whose runner did not report by
// its deadline, or arms the watchdog again if a heartbeat moved it later.
func (b *builder) fireItemWatchdog(ctx context.Context, r Reader, rec *Task, t *dsl.Task, tm Timer) (*Plan, error) {
	slot, err := r.Slot(ctx, tm.Exec, tm.Task, tm.Slot)
	if err != nil {
		return nil, fmt.Errorf("load slot %d of %s: %w", tm.Slot, tm.Task, err)
	}
	if slot == nil || slot.State != Running || slot.Attempt != tm.Attempt || rec.State != Running {
		return &Plan{}, nil
	}
	if slot.Deadline > tm.Due && tm.Due > 0 {
		return b.rearm(tm, slot.Deadline), nil
	}
	if err := b.itemResult(rec, t, slot, Result{Exec: tm.Exec, Task: tm.Task, Slot: tm.Slot, Attempt: tm.Attempt, Error: b.watchdogMessage(rec)}); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

// fireWatchdog settles an attempt whose runner did not report by its
// deadline as interrupted (retry may run it again), or arms the watchdog
// again if a heartbeat moved the deadline later.
func (b *builder) fireWatchdog(rec *Task, t *dsl.Task, tm Timer) (*Plan, error) {
	if rec.State != Running || rec.Attempt != tm.Attempt || rec.Items > 0 {
		return &Plan{}, nil
	}
	if rec.Deadline > tm.Due && tm.Due > 0 {
		return b.rearm(tm, rec.Deadline), nil
	}
	if err := b.settleResult(rec, t, Result{Exec: tm.Exec, Task: tm.Task, Slot: -1, Attempt: tm.Attempt, Error: b.watchdogMessage(rec),
		Interrupted: true}); err != nil {
		return nil, err
	}
	rec.Outbox = clone(b.cmds)
	b.putTask(rec)
	return b.plan(), nil
}

// rearm sends a watchdog again for a deadline a heartbeat moved later.
func (b *builder) rearm(tm Timer, deadline int64) *Plan {
	return &Plan{Commands: []Command{{Kind: StartTimer, Exec: tm.Exec, Task: tm.Task, Slot: tm.Slot, Attempt: tm.Attempt,
		Timer: TimerWatchdog, Delay: float64(deadline-tm.Due) / 1000, Due: deadline}}}
}

// Heartbeat moves the watchdog deadline of a running attempt (a delegate
// action still at work) to now+extend. It fails with ErrInvalidState when
// the attempt no longer runs, so the caller can tell the third party to stop.
func (e *Engine) Heartbeat(ctx context.Context, r Reader, execID, key string, slot, attempt int, extend time.Duration) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	until := b.now.Add(extend).UnixMilli()
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", key, execID, err)
	}
	stale := fmt.Errorf("attempt %d of task %s of %s is not running: %w", attempt, key, execID, ErrInvalidState)
	if b.head.State.Terminal() || rec == nil || rec.State != Running {
		return nil, stale
	}
	if slot >= 0 {
		s, err := r.Slot(ctx, execID, key, slot)
		if err != nil {
			return nil, fmt.Errorf("load item %d of %s: %w", slot, key, err)
		}
		if s == nil || s.State != Running || s.Attempt != attempt {
			return nil, stale
		}
		if s.Deadline < until {
			ns := *s
			ns.Deadline = until
			b.ops = append(b.ops, PutSlot{Slot: &ns, IfVersion: s.Version})
		}
		return b.plan(), nil
	}
	if rec.Attempt != attempt || rec.Pending != PendingNone {
		return nil, stale
	}
	if rec.Deadline < until {
		rec.Deadline = until
		b.putTask(rec)
	}
	return b.plan(), nil
}
