package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
)

// finish ends the execution in this plan with state st.
func (b *builder) finish(st State, info string, final *value.Map) {
	h := *b.head
	h.State = st
	h.StateInfo = info
	ectx := b.scope(final, nil)
	// Mistral's defaults: without an output clause the output is the final
	// context (the branches' published data); a failed execution's output
	// is {"result": state_info} merged with output-on-error, or with the
	// final context when there is none.
	if st == Success && b.wf.Output != nil {
		v, err := ectx.eval(b.wf.Output)
		if err != nil {
			h.State = Error
			h.StateInfo = fmt.Sprintf("evaluate output of workflow %s: %v", b.wf.Name, err)
		} else {
			h.Output = v
		}
	} else if st == Success {
		h.Output = plainCtx(final)
	}
	if h.State == Error {
		// Mistral merges output-on-error into {"result": state_info}, so
		// result comes first; here the state info keeps the value.
		out := value.MapFromPairs("result", h.StateInfo)
		var extra any = plainCtx(final)
		if b.wf.OutputOnError != nil {
			if v, err := ectx.eval(b.wf.OutputOnError); err == nil {
				extra = v
			}
		}
		if m, ok := value.AsMap(extra); ok {
			for k, v := range m.All() {
				if k != "result" {
					out.Set(k, v)
				}
			}
		}
		h.Output = out
	}
	b.head = &h
	b.putHead = true
	if err := b.endLiveTasks(); err != nil {
		// The end stands; a task left RUNNING is reported, not hidden.
		h.StateInfo = strings.TrimSpace(h.StateInfo + " (" + err.Error() + ")")
	}
	b.cmds = append(b.cmds, Command{Kind: Finished, Exec: h.ID, Slot: -1})
	b.cmds = append(b.cmds, ParentReport(&h)...)
	b.cmds = append(b.cmds, resumeParent(&h)...)
}

// resumeParent lets a parent that paused with this sub-workflow resume
// once it ended (none of its sub-workflows may be paused any more).
func resumeParent(h *Execution) []Command {
	if h.Parent == "" {
		return nil
	}
	return []Command{{Kind: ResumeWorkflow, Exec: h.Parent, From: h.ID, Slot: -1}}
}

// ParentReport is the command that tells a finished sub-workflow's parent
// task how it ended (none for a top-level or unfinished execution). Hosts
// repeat it whenever they meet the finished child again: the parent applies
// a result for an attempt once, so a repeat is harmless and a lost report is
// repaired.
func ParentReport(h *Execution) []Command {
	if h.Parent == "" || !h.State.Terminal() {
		return nil
	}
	r := &Result{Exec: h.Parent, Task: h.ParentTask, Slot: h.ParentSlot, Attempt: h.ParentAttempt,
		OK: h.State == Success, Output: h.Output, Error: h.StateInfo}
	if r.Error == "" && !r.OK {
		r.Error = fmt.Sprintf("sub-workflow %s ended in %s", h.ID, h.State)
	}
	if h.State == Cancelled {
		r.Error = "sub-workflow " + h.ID + " was cancelled"
	}
	return []Command{{Kind: ReportParent, Exec: h.ID, Slot: -1, Result: r}}
}

// markOutlive marks the tasks this step started from ops[from:] whose
// action is about to run: Mistral dispatches the task commands listed
// before a fail/succeed command (on-success: [notify, succeed]) and runs
// them to the end after the workflow ended. Only plain action tasks: a
// with-items task, a sub-workflow or a task waiting on a policy is
// cancelled with the execution, as any other unstarted task.
func (b *builder) markOutlive(from int) {
	for _, op := range b.ops[from:] {
		pt, ok := op.(PutTask)
		if !ok {
			continue
		}
		t, d := pt.Task, b.wf.Tasks[pt.Task.Name]
		if d == nil || d.Action == "" || len(d.WithItems) > 0 || t.State != Running || t.Pending != PendingNone ||
			t.Items > 0 || t.Claimed >= t.Attempt {
			continue
		}
		if b.outlive == nil {
			b.outlive = map[string]bool{}
		}
		b.outlive[t.Key] = true
	}
}

// markFinishing adds key to the tasks whose end is being decided, until
// the function it returns runs.
func (b *builder) markFinishing(key string) func() {
	if b.finishing == nil {
		b.finishing = map[string]bool{}
	}
	b.finishing[key] = true
	return func() { delete(b.finishing, key) }
}

// endLiveTasks is called when the execution ends while work is still live
// (a fail/succeed command with branches running, a cancel). Runners drop
// the unclaimed actions of an ended execution, so no task may be left
// RUNNING waiting for them: every task that has not started an action yet
// (created in this plan, unclaimed, delayed, idle) becomes CANCELLED and its commands are
// withdrawn; a task whose action a runner already claimed stays RUNNING until
// its result arrives (TaskComplete records it, see lateResult). Each cancelled
// task's unit of work ends, so Active still returns to zero. It reads every
// task record, which is fine: it runs at most once per execution.
func (b *builder) endLiveTasks() error {
	live := b.head.Active + b.add.Active - int64(len(b.finishing)) // their units end in their callers
	if live <= 0 {
		return nil
	}
	dropped := map[string]bool{}
	planned := map[string]bool{}
	for _, op := range b.ops {
		if pt, ok := op.(PutTask); ok && !b.finishing[pt.Task.Key] {
			planned[pt.Task.Key] = true
			if b.outlive[pt.Task.Key] {
				pastEnd(pt.Task.Outbox, pt.Task.Key)
				pastEnd(b.cmds, pt.Task.Key)
				continue
			}
			if t := pt.Task; !t.State.Terminal() && !(t.State == Waiting && !t.Fired) && t.Claimed < t.Attempt {
				b.endTask(t)
				dropped[t.Key] = true
			}
		}
	}
	stored, err := b.r.Tasks(b.ctx, b.head.ID)
	if err != nil {
		return fmt.Errorf("cancel live tasks: %w", err)
	}
	for _, t := range stored {
		if planned[t.Key] || b.finishing[t.Key] || t.State.Terminal() || t.State == Waiting && !t.Fired {
			continue
		}
		if b.head.State != Cancelled && t.State == Running && t.Pending == PendingNone && t.Items == 0 && t.Claimed >= t.Attempt {
			// Its claimed action will report (as in Mistral, it outlives a
			// fail or succeed); a cancel ends it now, and its late result
			// is ignored.
			continue
		}
		b.endTask(t)
		dropped[t.Key] = true
		b.putTask(t)
	}
	if len(dropped) > 0 {
		kept := b.cmds[:0]
		for _, c := range b.cmds {
			if !dropped[c.Task] || c.Exec != b.head.ID {
				kept = append(kept, c)
			}
		}
		b.cmds = kept
	}
	// Sub-workflows of the tasks it ends are cancelled too, as in Mistral.
	for key := range dropped {
		if err := b.cancelChildren(key); err != nil {
			return err
		}
	}
	return nil
}

// endTask ends live task t (not yet written) as CANCELLED with its
// execution, withdrawing its commands; its unit of work ends.
func (b *builder) endTask(t *Task) {
	t.State, t.StateInfo, t.Pending, t.Outbox = Cancelled, "execution ended before this task finished", PendingNone, nil
	t.Finished = b.now
	b.add.Active--
}

// pastEnd lets the runner run task key's action although the execution has
// ended (see markOutlive).
func pastEnd(cmds []Command, key string) {
	for i := range cmds {
		if cmds[i].Kind == RunAction && cmds[i].Task == key {
			cmds[i].PastEnd = true
		}
	}
}

// Finalize ends an execution whose Active count is zero. Before it declares
// the end it fires any join whose arrivals are enough (a branch may have
// arrived without its CheckJoin having run yet); a join that can never be
// satisfied fails, as in Mistral.
func (e *Engine) Finalize(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running || b.head.Active != 0 {
		return &Plan{}, nil
	}
	var unsatisfied []*Task
	for _, name := range b.wf.TaskOrder {
		t := b.wf.Tasks[name]
		need := b.graph.joinNeed(b.wf, t)
		if need == 0 {
			continue
		}
		rec, _, _, err := b.openJoin(name) // a join in a cycle may have run before
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		if int(rec.Arrived) >= need {
			if err := b.fire(rec, t); err != nil {
				return nil, err
			}
			return b.plan(), nil
		}
		unsatisfied = append(unsatisfied, rec)
	}
	if len(unsatisfied) > 0 {
		// A join that can never be satisfied fails as an ordinary task
		// error (Mistral: "join can never be satisfied"), so its
		// publish-on-error, on-error and on-complete apply and a handled
		// failure does not fail the workflow.
		for _, rec := range unsatisfied {
			t := b.wf.Tasks[rec.Name]
			rec.Fired = true
			rec.State = Running
			rec.Attempt = 1
			rec.Started = b.now
			rec.Seq = b.head.Seq + b.add.Seq + 1
			arrivals, err := r.Arrivals(ctx, execID, rec.Key)
			if err != nil {
				return nil, fmt.Errorf("load arrivals at join %s of %s: %w", rec.Key, execID, err)
			}
			rec.Ctx = mergeBranches(arrivals)
			b.add.Seq++
			b.add.Active++ // the join's unit, ended by finishTask
			msg := fmt.Sprintf("join of task %s can never be satisfied: %d of %d inbound tasks arrived",
				rec.Name, rec.Arrived, b.graph.joinNeed(b.wf, t))
			rec.Result, rec.HasResult = msg, true
			if err := b.finishTask(rec, t, false, msg); err != nil {
				return nil, err
			}
			b.putTask(rec)
		}
		p := b.plan()
		p.CheckFinal = true // finalise again once the error's handlers (if any) are done
		return p, nil
	}
	leaves, err := r.Leaves(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("load branch ends of %s: %w", execID, err)
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].Seq < leaves[j].Seq })
	ends := make([]*value.Map, 0, len(leaves))
	for _, l := range leaves {
		if !l.ErrorOnly {
			ends = append(ends, l.Ctx)
		}
	}
	final := mergeBranches(ends)
	final = inTaskOrder(final, leaves)
	if b.head.Errors > 0 {
		// With several unhandled errors, the state_info names the one
		// of the smallest task key, not the first to arrive, so the outcome
		// does not depend on the order results came in.
		info, key := b.head.ErrorInfo, ""
		for _, l := range leaves {
			if l.Error != "" && (key == "" || l.Task < key) {
				info, key = l.Error, l.Task
			}
		}
		b.finish(Error, info, final)
	} else {
		b.finish(Success, "", final)
	}
	return b.plan(), nil
}

// inTaskOrder is final, merged from the branch ends, with a key where the
// first end in task key order has it (a Python dict merge: a key keeps its
// first place, a new one goes last). Mistral merges the ends in the order
// its end tasks started, the last one first, so there the order depends on
// which branch was faster; here it does not, as the output's values do not.
// A single branch's order is Mistral's: its publications in order. Only
// the order changes: the values stay mergeBranches' choice.
func inTaskOrder(final *value.Map, leaves []*Leaf) *value.Map {
	var ends []*Leaf
	for _, l := range leaves {
		if !l.ErrorOnly {
			ends = append(ends, l)
		}
	}
	if len(ends) < 2 {
		return final
	}
	sort.SliceStable(ends, func(i, j int) bool { return ends[i].Task < ends[j].Task })
	out := value.NewMap(final.Len())
	for _, l := range ends {
		for k := range l.Ctx.All() {
			if v, ok := final.Get(k); ok && !out.Has(k) {
				out.Set(k, v)
			}
		}
	}
	for k, v := range final.All() {
		if !out.Has(k) {
			out.Set(k, v) // bookkeeping the merge made
		}
	}
	return out
}
