package engine

import (
	"context"
	"fmt"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// TaskComplete applies the result of one action attempt.
func (e *Engine) TaskComplete(ctx context.Context, r Reader, res Result) (*Plan, error) {
	b, err := e.load(ctx, r, res.Exec)
	if err != nil {
		return nil, err
	}
	rec, err := r.Task(ctx, res.Exec, res.Task)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", res.Task, res.Exec, err)
	}
	if b.head.State.Terminal() {
		// The execution ended (a fail/succeed command, a cancel) while
		// this action ran. Its outcome is still recorded on its task, as in
		// Mistral, so no task stays RUNNING in a finished execution; nothing
		// follows from it (no transitions, no counters).
		p, err := b.lateResult(rec, res)
		if p != nil {
			p.Commands = append(p.Commands, ParentReport(b.head)...)
		}
		return p, err
	}
	if rec == nil {
		return nil, fmt.Errorf("result for task %s of %s: %w", res.Task, res.Exec, ErrNotFound)
	}
	t, ok := b.wf.Tasks[rec.Name]
	if !ok {
		return nil, fmt.Errorf("task %s not in workflow %s: %w", rec.Name, b.wf.Name, ErrNotFound)
	}
	if res.Slot >= 0 {
		slot, err := r.Slot(ctx, res.Exec, res.Task, res.Slot)
		if err != nil {
			return nil, fmt.Errorf("load slot %d of task %s of %s: %w", res.Slot, res.Task, res.Exec, err)
		}
		if rec.State != Running || slot == nil || slot.State != Running || slot.Attempt != res.Attempt {
			p := &Plan{Duplicate: true, Commands: b.itemsFollowUp(rec)}
			if slot != nil && rec.State == Running {
				p.Commands = append(clone(slot.Outbox), p.Commands...)
			}
			return p, nil
		}
		if err := b.itemResult(rec, t, slot, res); err != nil {
			return nil, err
		}
		return b.plan(), nil
	}
	if rec.State != Running || rec.Attempt != res.Attempt || rec.Pending != PendingNone {
		return &Plan{Duplicate: true, Commands: rec.Outbox, CheckFinal: rec.State.Terminal()}, nil
	}
	if err := b.settleResult(rec, t, res); err != nil {
		return nil, err
	}
	if !rec.State.Terminal() {
		// A task that ended went through finishTask, which already set its
		// outbox to this step's commands (it is the first to add any).
		rec.Outbox = clone(b.cmds)
	}
	b.putTask(rec)
	return b.plan(), nil
}

// adhocOutput applies the output clauses of action's ad-hoc chain to its
// base action's result, innermost first (none when action is not ad-hoc).
func (b *builder) adhocOutput(action string, result any, rec *Task) (any, error) {
	chain, err := b.doc.AdhocChain(action)
	if err != nil || len(chain) == 0 {
		return result, err
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if ad := chain[i]; ad.Output != nil {
			v, err := b.resultScope(result, rec).eval(ad.Output)
			if err != nil {
				return nil, fmt.Errorf("output of action %s: %w", ad.Name, err)
			}
			result = v
		}
	}
	return result, nil
}

// lateResult records the result of an attempt that was running when its
// execution ended.
func (b *builder) lateResult(rec *Task, res Result) (*Plan, error) {
	if rec == nil || b.head.State == Cancelled {
		// Cancel ended every task and item: a result changes nothing.
		return &Plan{Duplicate: true}, nil
	}
	st, info := Success, ""
	if !res.OK {
		st, info = Error, res.Error
	}
	if res.Slot >= 0 {
		slot, err := b.r.Slot(b.ctx, res.Exec, res.Task, res.Slot)
		if err != nil {
			return nil, fmt.Errorf("load slot %d of task %s of %s: %w", res.Slot, res.Task, res.Exec, err)
		}
		if slot == nil || slot.State != Running || slot.Attempt != res.Attempt {
			return &Plan{Duplicate: true}, nil
		}
		s := *slot
		s.State, s.StateInfo, s.Result, s.Outbox = st, info, res.Output, nil
		if !res.OK {
			s.Result = res.Error
		}
		return &Plan{Ops: []Op{PutSlot{Slot: &s, IfVersion: slot.Version}}}, nil
	}
	if rec.State != Running || rec.Attempt != res.Attempt || rec.Pending != PendingNone || rec.Items > 0 {
		// A result delivered again: the step that ended the execution may
		// have died before it sent the actions started with the end.
		var again []Command
		for _, c := range rec.Outbox {
			if c.PastEnd {
				again = append(again, c)
			}
		}
		return &Plan{Duplicate: true, Commands: again}, nil
	}
	if res.OK {
		if d := b.wf.Tasks[rec.Name]; d != nil {
			if v, err := b.adhocOutput(d.Action, res.Output, rec); err != nil {
				st, info, res.OK, res.Error = Error, err.Error(), false, err.Error()
			} else {
				res.Output = v
			}
		}
	}
	t := *rec
	t.State, t.StateInfo, t.Result, t.HasResult, t.Finished, t.Outbox = st, info, res.Output, true, b.now, nil
	if !res.OK {
		t.Result = res.Error
	}
	// The task's unit of work ends here, so Active still returns to zero.
	return &Plan{Ops: []Op{AddExecution{ID: b.head.ID, Active: -1, IfState: b.head.State},
		PutTask{Task: &t, IfVersion: rec.Version}}}, nil
}

// settleResult handles a plain task's attempt result: retry, wait-after, or
// finish. Like every step below it, it changes rec and leaves writing it to
// the operation that loaded or created it.
func (b *builder) settleResult(rec *Task, t *dsl.Task, res Result) error {
	ok := res.OK
	output := res.Output
	errMsg := res.Error
	if res.Interrupted && !ok && rec.Reruns < maxReruns {
		// Mistral's safe-rerun: an action whose runner was lost runs again
		// when the task says running it twice is safe; otherwise the lost
		// run is the attempt's error (and retry decides).
		if safe, err := b.safeRerun(rec, t); err != nil {
			errMsg = err.Error()
		} else if safe {
			rec.Attempt++
			rec.Reruns++
			return b.runAttempt(rec, t)
		}
	}
	if ok {
		if v, err := b.adhocOutput(t.Action, output, rec); err != nil {
			ok, errMsg = false, err.Error()
		} else {
			output = v
		}
	}
	if ok && t.FailOn != nil {
		// Mistral's fail-on: a successful action whose result meets the
		// condition fails the task (and retry applies as to any failure).
		fail, err := truth(t.FailOn, b.scopeWith(rec.Ctx, rec, resultOf(true, output, "")))
		switch {
		case err != nil:
			ok, errMsg = false, fmt.Sprintf("fail-on of task %s: %v", t.Name, err)
		case fail:
			ok, errMsg = false, fmt.Sprintf("task %s failed by its fail-on condition", t.Name)
		}
	}
	if retry, delay, err := b.shouldRetry(rec, t, ok, output, errMsg); err != nil {
		ok, errMsg = false, err.Error()
	} else if retry {
		rec.Attempt++
		if delay > 0 {
			rec.State = RunningDelayed
			rec.Pending = PendingRetry
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerRetry, Delay: delay})
			return nil
		}
		return b.runAttempt(rec, t)
	}
	rec.Result, rec.HasResult = output, true
	if !ok {
		rec.Result = errMsg
	}
	if ok && t.WaitAfter != nil {
		secs, err := b.seconds(t.WaitAfter, rec)
		if err != nil {
			// Mistral 23.0.0: a bad wait-after value fails the task.
			return b.finishTask(rec, t, false, fmt.Sprintf("wait-after: %v", err))
		}
		if secs > 0 {
			rec.State = RunningDelayed
			rec.Pending = PendingWaitAfter
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerWaitAfter, Delay: secs})
			return nil
		}
	}
	return b.finishTask(rec, t, ok, errMsg)
}

// finishTask ends a task: it records the outcome, publishes into the
// branch and the workflow's variables, follows the transitions and ends the
// task's unit of work. The outcome may still turn to an error on the way (a
// publish or a transition condition that cannot be evaluated).
func (b *builder) finishTask(rec *Task, t *dsl.Task, ok bool, errMsg string) error {
	defer b.markFinishing(rec.Key)()
	rec.Finished = b.now
	rec.Pending = PendingNone
	ectx := b.scopeWith(rec.Ctx, rec, resultOf(ok, rec.Result, errMsg))
	out := &outbound{ctx: rec.Ctx}
	// Successors started in this step see this task finished (task(name)
	// reads it here: it is committed together with them).
	b.setLive(rec)
	b.markBranchRun(rec, out)
	published := b.publish(rec, t, ok, errMsg, ectx, out)
	ok = rec.State == Success
	s := &transitionStep{rec: rec, t: t, out: out.ctx, ok: ok, scheduled: map[string]bool{}}
	mark := len(b.cmds)
	s.opsMark = len(b.ops)
	if !published {
		// Mistral fails the task and the whole workflow when a publish
		// cannot be evaluated: no on-success, on-error or on-complete runs.
		b.finish(Error, rec.StateInfo, out.ctx)
		s.ended = true
	} else {
		s.ectx = b.scopeWith(out.ctx, rec, resultOf(ok, rec.Result, rec.StateInfo))
		next := b.nextTransitions(rec, t, ok)
		if !ok && b.wf.Type != dsl.Reverse {
			s.handlers = len(t.OnError)
		}
		if err := b.followTransitions(s, next); err != nil {
			return err
		}
	}
	b.endBranchUnit(s)
	rec.Outbox = append([]Command(nil), b.cmds[mark:]...)
	return nil
}

// outbound is the context a finishing task passes on: its start context
// until something is published into it (then a copy), as most tasks
// publish nothing.
type outbound struct {
	ctx   *value.Map
	owned bool
}

// own makes ctx a copy this step may change.
func (o *outbound) own() {
	if !o.owned {
		o.ctx, o.owned = copyMap(o.ctx), true
	}
}

// merge publishes m into the context and counts the publication of its keys.
func (o *outbound) merge(m *value.Map) {
	o.own()
	o.ctx.Update(m)
	bumpVersions(o.ctx, m.Keys())
}

// markBranchRun records in the outbound context which run of a task in a
// cycle the branch came through: the record key of the task's latest run,
// so task(name) finds it, and round 1 of a join in a cycle (later rounds'
// arrivals carry their round). Workflows without cycles carry neither.
func (b *builder) markBranchRun(rec *Task, out *outbound) {
	if rec.Key != rec.Name || out.ctx.Value(keysKey) != nil {
		keys := copyMap(out.ctx.Value(keysKey))
		keys.Set(rec.Name, rec.Key)
		out.own()
		out.ctx.Set(keysKey, keys)
	}
	if rec.Fired && joinInCycle(b.wf, rec.Name) && !knowsRound(out.ctx, rec.Name) {
		out.own()
		out.ctx.Set(roundsKey, roundsWith(out.ctx, rec.Name, 1))
	}
}

// publish sets rec's outcome and applies the task's publish for it (its
// own merged with its on-clauses' at load, as Mistral merges them): the
// branch, then the global scope; then keep-result. It returns
// false when a publish could not be evaluated: rec is then in ERROR and
// nothing later was published.
func (b *builder) publish(rec *Task, t *dsl.Task, ok bool, errMsg string, ectx *scope, out *outbound) bool {
	pub, glob := t.Publish, t.PublishGlobal
	if !ok {
		pub, glob = t.PublishOnError, t.PublishOnErrorGlobal
	}
	if ok {
		rec.State = Success
		rec.StateInfo = ""
	} else {
		rec.State = Error
		rec.StateInfo = errMsg
	}
	if !b.publishBranch(rec, pub, ectx, out) || !b.publishGlobal(rec, glob, ectx) {
		return false
	}
	if t.KeepResult != nil {
		if keep, err := truth(t.KeepResult, ectx); err == nil && !keep {
			rec.Result, rec.HasResult = nil, false
		}
	}
	return true
}

// publishFailed puts rec in ERROR for a publish clause (what) that could
// not be evaluated.
func publishFailed(rec *Task, what string, err error) bool {
	rec.State, rec.StateInfo = Error, fmt.Sprintf("%s of task %s: %v", what, rec.Name, err)
	return false
}

// publishBranch publishes pub into the outbound context and
// rec.Published; it returns false when it failed.
func (b *builder) publishBranch(rec *Task, pub *expr.Value, ectx *scope, out *outbound) bool {
	if pub == nil {
		return true
	}
	v, err := ectx.eval(pub)
	if err != nil {
		return publishFailed(rec, "publish", err)
	}
	if m, isMap := value.AsMap(v); isMap {
		rec.Published = m
		out.merge(m)
	}
	return true
}

// publishGlobal publishes glob into the workflow's variables; it returns
// false when it failed.
func (b *builder) publishGlobal(rec *Task, glob *expr.Value, ectx *scope) bool {
	if glob == nil {
		return true
	}
	v, err := ectx.eval(glob)
	if err != nil {
		return publishFailed(rec, "global publish", err)
	}
	if m, isMap := value.AsMap(v); isMap && m.Len() > 0 {
		// Mistral 23.0.0 keeps global publishes out of the task's
		// published values: they live only in the workflow's variables.
		b.setVars(m)
	}
	return true
}

// setVars publishes m into the workflow's variables (the head's Vars, a
// copy): a new name goes last, as Mistral merges it into its context.
func (b *builder) setVars(m *value.Map) {
	vars := copyMap(b.head.Vars)
	vars.Update(m)
	b.head.Vars = vars
	b.putHead = true
}
