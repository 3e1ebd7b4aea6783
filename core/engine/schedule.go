package engine

import (
	"fmt"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// schedule creates the next task execution of name, reached from the task
// record `from` ("" at start) with branch context ctx.
func (b *builder) schedule(name, from string, ctx *value.Map) error {
	return b.scheduleAt(name, name, from, ctx)
}

// scheduleAt is schedule with the record key a join arrival counts on:
// the join's name, or the key of a later round (joinRound).
func (b *builder) scheduleAt(name, joinKey, from string, ctx *value.Map) error {
	t, ok := b.wf.Tasks[name]
	if !ok {
		return fmt.Errorf("workflow %s: transition to unknown task %q", b.wf.Name, name)
	}
	if n := b.graph.joinNeed(b.wf, t); n > 0 && from != "" {
		// The arrival is its own record and the join only counts it, so
		// the cost of an arrival does not grow with the number of branches.
		b.ops = append(b.ops, PutArrival{Exec: b.head.ID, Join: joinKey, From: from, Ctx: ctx},
			CountArrival{Exec: b.head.ID, Key: joinKey, Name: name})
		b.cmds = append(b.cmds, Command{Kind: CheckJoin, Exec: b.head.ID, Task: joinKey, Slot: -1, From: from, Need: n})
		// The arriving branch's unit ends here; the join's own unit is added
		// when it fires. Finalize checks joins before it declares an end, so
		// the gap between the two is safe.
		return nil
	}
	key := name
	if from != "" {
		existing, err := b.r.Task(b.ctx, b.head.ID, name)
		if err != nil {
			return fmt.Errorf("load task %s of %s: %w", name, b.head.ID, err)
		}
		if existing != nil {
			// A cycle: this task ran before. A key derived from the record
			// that leads here is unique and needs no counter.
			key = name + "#" + shortHash(from)
		}
	}
	rec := &Task{Exec: b.head.ID, Key: key, Name: name, Ctx: ctx, Attempt: 1, Started: b.now,
		Seq: b.head.Seq + b.add.Seq + 1}
	b.add.Seq++
	b.add.Active++
	mark := len(b.cmds)
	if err := b.begin(rec, t); err != nil {
		return err
	}
	if rec.Outbox == nil {
		rec.Outbox = clone(b.cmds[mark:])
	}
	b.putTask(rec)
	return nil
}

func clone(c []Command) []Command {
	if len(c) == 0 {
		return nil
	}
	return append([]Command(nil), c...)
}

// begin decides how a newly created task record starts and fills its state.
func (b *builder) begin(rec *Task, t *dsl.Task) error {
	if b.head.State == Paused {
		rec.State = Idle
		return nil
	}
	if t.PauseBefore != nil && rec.Pending != PendingPaused {
		v, err := truth(t.PauseBefore, b.scope(rec.Ctx, rec))
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("pause-before: %w", err))
		}
		if v {
			rec.State = Idle
			rec.Pending = PendingPaused
			return b.pauseHead(fmt.Sprintf("paused before task %s", rec.Name))
		}
	}
	if t.Concurrency != nil && len(t.WithItems) == 0 {
		// Mistral 23.0.0 checks a task's concurrency policy even where it
		// has nothing to limit: a bad value fails the task.
		if _, err := intOf(t.Concurrency, b.scope(rec.Ctx, rec)); err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("concurrency: %w", err))
		}
	}
	if t.WaitBefore != nil {
		secs, err := b.seconds(t.WaitBefore, rec)
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("wait-before: %w", err))
		}
		if secs > 0 {
			rec.State = RunningDelayed
			rec.Pending = PendingWaitBefore
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerWaitBefore, Delay: secs})
			return nil
		}
	}
	return b.run(rec, t)
}

// run dispatches a task's work: its items, its sub-workflow or its action.
func (b *builder) run(rec *Task, t *dsl.Task) error {
	rec.State = Running
	rec.Pending = PendingNone
	if t.Timeout != nil {
		// Mistral's timeout bounds the task as a whole: its retries and,
		// for with-items, all its items.
		secs, err := b.seconds(t.Timeout, rec)
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("timeout: %w", err))
		}
		if secs > 0 {
			rec.TimeoutAt = b.now.UnixMilli() + int64(secs*1000)
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerTimeout, Delay: secs, Due: rec.TimeoutAt})
		}
	}
	if len(t.WithItems) > 0 {
		return b.runItems(rec, t)
	}
	return b.runAttempt(rec, t)
}

// dispatch emits the commands that do one attempt of a task or of one item.
// It has no effect when it fails (the input did not evaluate), so callers can
// turn the failure into an ordinary error result.
func (b *builder) dispatch(rec *Task, t *dsl.Task, slot, attempt int, items *itemList) error {
	ectx := b.itemScope(rec.Ctx, items, slot, rec)
	// The input keeps the order of the task's input clause, as Mistral
	// passes it on to the action or sub-workflow.
	var input *value.Map
	evaluated := false
	if t.Input != nil {
		v, err := ectx.eval(t.Input)
		if err != nil {
			return b.runFailed(t, fmt.Errorf("evaluate input of task %s: %w", t.Name, err))
		}
		if m, ok := value.AsMap(v); ok {
			input, evaluated = m.Clone(), true
		} else if v != nil {
			return fmt.Errorf("input of task %s is %T, not a map", t.Name, v)
		}
	}
	if !evaluated {
		input = value.NewMap(0)
	}
	callee := t.Action
	if t.Workflow != "" {
		callee = t.Workflow
	}
	if t.NameExpr != nil {
		// action: <% ... %> / workflow: <% ... %> name the callee at run time.
		v, err := ectx.eval(t.NameExpr)
		if err != nil {
			return fmt.Errorf("evaluate the callee name of task %s: %w", t.Name, err)
		}
		name, ok := v.(string)
		if !ok || name == "" {
			return fmt.Errorf("the callee name of task %s evaluated to %v, not a name", t.Name, v)
		}
		callee = name
	}
	if t.Workflow != "" {
		if err := b.checkSubworkflowInput(callee, input); err != nil {
			return err
		}
		childID := childID(rec.Exec, rec.Key, slot, attempt)
		b.cmds = append(b.cmds, Command{Kind: StartWorkflow, Exec: rec.Exec, Task: rec.Key, Slot: slot,
			Attempt: attempt, Workflow: callee, DefID: b.head.DefID, ChildID: childID, Input: nonEmpty(input)})
		return nil
	}
	action := callee
	chain, err := b.doc.AdhocChain(action)
	if err != nil {
		return err
	}
	for _, ad := range chain {
		// An ad-hoc action runs its base action with base-input evaluated
		// over the ad-hoc action's own input; a base that is itself an
		// ad-hoc action does the same in turn.
		if missing := missingInput(ad.Input, input); len(missing) > 0 {
			return b.adhocInputError(t, ad, missing)
		}
		adIn := value.NewMap(len(ad.Input))
		for _, p := range ad.Input {
			if v, ok := input.Get(p.Name); ok {
				adIn.Set(p.Name, v)
			} else if p.HasDefault {
				dv, err := b.rawScope(adIn, rec).eval(p.Default)
				if err != nil {
					return fmt.Errorf("default of input %s of action %s: %w", p.Name, ad.Name, err)
				}
				adIn.Set(p.Name, dv)
			}
		}
		base := value.NewMap(0)
		if ad.BaseInput != nil {
			v, err := b.rawScope(adIn, rec).eval(ad.BaseInput)
			if err != nil {
				return fmt.Errorf("base-input of action %s: %w", ad.Name, err)
			}
			if m, ok := value.AsMap(v); ok {
				base = m.Clone()
			}
		}
		action, input = ad.Base, base
	}
	b.cmds = append(b.cmds, Command{Kind: RunAction, Exec: rec.Exec, Task: rec.Key, Slot: slot,
		Attempt: attempt, Action: action, Input: nonEmpty(input), Deadline: b.e.ActionDeadline})
	if b.e.ActionDeadline > 0 {
		b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: slot,
			Attempt: attempt, Timer: TimerWatchdog, Delay: float64(b.e.ActionDeadline),
			Due: b.now.UnixMilli() + int64(b.e.ActionDeadline)*1000})
	}
	return nil
}

// runAttempt dispatches the current attempt of a plain task; an attempt that
// cannot be sent becomes an error result, so retry and on-error apply to it.
// The caller writes rec.
func (b *builder) runAttempt(rec *Task, t *dsl.Task) error {
	err := b.dispatch(rec, t, -1, rec.Attempt, nil)
	if err == nil || b.failRun(rec, err) {
		return nil
	}
	return b.settleResult(rec, t, Result{Exec: rec.Exec, Task: rec.Key, Slot: -1, Attempt: rec.Attempt, Error: err.Error()})
}

func (b *builder) failTaskAtStart(rec *Task, err error) error {
	rec.State = Running
	return b.settleResult(rec, b.wf.Tasks[rec.Name], Result{Exec: rec.Exec, Task: rec.Key, Slot: -1, Attempt: rec.Attempt, Error: err.Error()})
}
