package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// pauseHead moves the execution to PAUSED in this plan. As in Mistral the
// pause spreads to its running sub-workflows and to its parent (whose pause
// spreads to its other sub-workflows); each stops at an execution that is
// not running.
func (b *builder) pauseHead(info string) error {
	if b.head.State != Running {
		return nil
	}
	h := *b.head
	h.State = Paused
	h.StateInfo = info
	b.head = &h
	b.putHead = true
	kids, err := b.subWorkflows()
	if err != nil {
		return fmt.Errorf("pause sub-workflows of %s: %w", h.ID, err)
	}
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: PauseWorkflow, Exec: id, From: h.ID, Slot: -1})
	}
	if h.Parent != "" {
		b.cmds = append(b.cmds, Command{Kind: PauseWorkflow, Exec: h.Parent, From: h.ID, Slot: -1})
	}
	return nil
}

// PausedWithChild starts the state info of a parent a sub-workflow's pause
// paused: only such a parent resumes when its sub-workflows do.
const PausedWithChild = "paused with its sub-workflow "

// subWorkflows lists the running sub-workflow executions of this execution
// (none, without reading, when its workflow calls none).
func (b *builder) subWorkflows() ([]string, error) {
	calls := false
	for _, t := range b.wf.Tasks {
		calls = calls || t.Workflow != ""
	}
	if !calls {
		return nil, nil
	}
	tasks, err := b.r.Tasks(b.ctx, b.head.ID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range tasks {
		if t := b.wf.Tasks[rec.Name]; t == nil || t.Workflow == "" || rec.State != Running {
			continue
		}
		kids, err := b.childrenOf(rec)
		if err != nil {
			return nil, err
		}
		ids = append(ids, kids...)
	}
	return ids, nil
}

// childrenOf lists the sub-workflow executions task rec is running.
func (b *builder) childrenOf(rec *Task) ([]string, error) {
	if rec.Items == 0 {
		return childIDs(b.head.ID, rec.Key, -1, rec.Attempt), nil
	}
	slots, err := b.r.Slots(b.ctx, b.head.ID, rec.Key)
	if err != nil {
		return nil, fmt.Errorf("load items of %s: %w", rec.Key, err)
	}
	var ids []string
	for _, s := range slots {
		if s.State == Running {
			ids = append(ids, childIDs(b.head.ID, rec.Key, s.Index, s.Attempt)...)
		}
	}
	return ids, nil
}

// childID is the deterministic id of the sub-workflow one attempt starts.
// It has the length of any execution id, however deep the sub-workflow.
func childID(exec, key string, slot, attempt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d/%d", exec, key, slot, attempt))
	return "ex-" + hex.EncodeToString(sum[:12])
}

// childIDs are the ids a sub-workflow of one attempt may have: childID,
// and the parent's id with a suffix, which sub-workflows started by
// earlier versions have. Control commands go to both; the one that does
// not exist ignores them.
func childIDs(exec, key string, slot, attempt int) []string {
	legacy := exec + "." + shortHash(fmt.Sprintf("%s/%d/%d", key, slot, attempt))
	return []string{childID(exec, key, slot, attempt), legacy}
}

// cancelChildren asks the host to cancel the running sub-workflows of task key.
func (b *builder) cancelChildren(key string) error {
	rec, err := b.r.Task(b.ctx, b.head.ID, key)
	if err != nil || rec == nil {
		return err
	}
	if t := b.wf.Tasks[rec.Name]; t == nil || t.Workflow == "" {
		return nil
	}
	kids, err := b.childrenOf(rec)
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: CancelWorkflow, Exec: id, Slot: -1})
	}
	return err
}

// Pause pauses a running execution: running actions finish, nothing new starts.
func (e *Engine) Pause(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running {
		return nil, fmt.Errorf("pause execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	b.control = true
	if err := b.pauseHead("paused by request"); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

// PauseWith pauses a running execution because a related one, from (its
// parent or one of its sub-workflows), paused (see pauseHead).
func (e *Engine) PauseWith(ctx context.Context, r Reader, execID, from string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running {
		return nil, fmt.Errorf("pause execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	// The pause spreads only while from is still paused: a resume of from
	// may have overtaken it, and a pause applied after that resume would
	// hold this execution (and, spreading back, from) for ever.
	src, err := r.Execution(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("pause execution %s with %s: %w", execID, from, err)
	}
	if src == nil || src.State != Paused {
		return nil, fmt.Errorf("pause execution %s with %s, which is not paused: %w", execID, from, ErrInvalidState)
	}
	info := PausedWithChild + from
	if b.head.Parent == from {
		info = PausedWithParent + from
	}
	b.control = true
	if err := b.pauseHead(info); err != nil {
		return nil, err
	}
	// The read of from above is not enough: from's resume may commit
	// between it and this step's commit, and spread to this execution
	// while it still runs (a no-op), leaving this pause with nothing to
	// undo it. The commit holds only while from is still paused; a zero
	// add is that condition (it bumps from's version, which a paused
	// execution's steps survive by computing again).
	b.ops = append(b.ops, AddExecution{ID: from, IfState: Paused})
	return b.plan(), nil
}

// PausedWithParent starts the state info of a sub-workflow its parent's
// pause paused: only its parent's resume resumes it.
const PausedWithParent = "paused with its parent "

// ResumeWithParent resumes a sub-workflow its parent's pause paused if the
// parent runs again: the parent's resume spreads to it, but that command
// is carried out after the parent's commit and may be lost (a crash, a
// lost write response, a store that refused it); hosts call this when
// they come across such a sub-workflow. Anything else is left as it is.
func (e *Engine) ResumeWithParent(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	h := b.head
	if h.State != Paused || h.Parent == "" || h.StateInfo != PausedWithParent+h.Parent {
		return &Plan{}, nil
	}
	parent, err := r.Execution(ctx, h.Parent)
	if err != nil {
		return nil, fmt.Errorf("resume %s with its parent: load parent %s: %w", execID, h.Parent, err)
	}
	if parent == nil || parent.State != Running {
		return &Plan{}, nil
	}
	p, err := b.resume()
	if err != nil {
		return nil, err
	}
	// Only while the parent runs: a pause of it committed after the read
	// above spreads here while this is still paused (a no-op) and must not
	// be overtaken.
	p.Ops = append(p.Ops, AddExecution{ID: h.Parent, IfState: Running})
	return p, nil
}

// ResumeAfterChild resumes an execution a sub-workflow's pause paused, once
// none of its sub-workflows is paused any more (as in Mistral). An
// execution paused on its own account (by request, a pause command) stays
// paused.
func (e *Engine) ResumeAfterChild(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Paused || !strings.HasPrefix(b.head.StateInfo, PausedWithChild) {
		return &Plan{}, nil
	}
	kids, err := b.subWorkflows()
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", execID, err)
	}
	for _, id := range kids {
		k, err := r.Execution(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("resume %s: load sub-workflow %s: %w", execID, id, err)
		}
		if k != nil && k.State == Paused {
			return &Plan{}, nil
		}
	}
	return b.resume()
}

// Resume continues a paused execution, starting the tasks held while it was paused.
func (e *Engine) Resume(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Paused {
		return nil, fmt.Errorf("resume execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	return b.resume()
}

// resume continues the paused execution: the tasks held while it was
// paused start, its paused sub-workflows resume, and a parent that paused
// with it resumes if none of its other sub-workflows is paused.
func (b *builder) resume() (*Plan, error) {
	execID := b.head.ID
	h := *b.head
	h.State, h.StateInfo = Running, ""
	b.head = &h
	b.putHead, b.control = true, true
	kids, err := b.subWorkflows()
	if err != nil {
		return nil, fmt.Errorf("resume sub-workflows of %s: %w", execID, err)
	}
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: ResumeWorkflow, Exec: id, Slot: -1})
	}
	if h.Parent != "" {
		b.cmds = append(b.cmds, Command{Kind: ResumeWorkflow, Exec: h.Parent, From: execID, Slot: -1})
	}
	tasks, err := b.r.Tasks(b.ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("load tasks of %s: %w", execID, err)
	}
	for _, rec := range tasks {
		t := b.wf.Tasks[rec.Name]
		if t == nil {
			continue
		}
		switch {
		case rec.State == Idle:
			// A task held by its own pause-before keeps Pending "paused",
			// so begin does not pause again.
			mark := len(b.cmds)
			if err := b.begin(rec, t); err != nil {
				return nil, err
			}
			rec.Outbox = clone(b.cmds[mark:])
			b.putTask(rec)
		case rec.State == RunningDelayed && (rec.Pending == PendingRetry || rec.Pending == PendingWaitBefore):
			// Its timer may have come back while paused and been dropped.
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerKind(rec.Pending), Delay: 0})
		}
	}
	p := b.plan()
	// Everything may have finished while paused; only a running execution
	// can be finalised, so look again now.
	p.CheckFinal = true
	return p, nil
}

// Cancel ends an execution as CANCELLED; results that arrive later are ignored.
func (e *Engine) Cancel(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return nil, fmt.Errorf("cancel execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	h := *b.head
	h.State, h.StateInfo = Cancelled, "cancelled by request"
	b.head = &h
	b.putHead, b.control = true, true
	// The head alone: a write of live tasks could conflict with their
	// completions; they are ended by the pages this command starts.
	b.cmds = append(b.cmds, EndTasksCommands(&h)...)
	b.cmds = append(b.cmds, Command{Kind: Finished, Exec: execID, Slot: -1})
	b.cmds = append(b.cmds, ParentReport(&h)...)
	b.cmds = append(b.cmds, resumeParent(&h)...)
	return b.plan(), nil
}

// Rerun runs a failed task again (Mistral's task rerun): a plain task gets a
// new attempt; a with-items task reruns only its failed items. The execution
// returns to RUNNING.
func (e *Engine) Rerun(ctx context.Context, r Reader, execID, key string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Error {
		return nil, fmt.Errorf("rerun a task of execution %s in state %s (must be ERROR): %w", execID, b.head.State, ErrInvalidState)
	}
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", key, execID, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("task %s of %s: %w", key, execID, ErrNotFound)
	}
	if rec.State != Error {
		return nil, fmt.Errorf("rerun task %s in state %s (must be ERROR): %w", key, rec.State, ErrInvalidState)
	}
	t := b.wf.Tasks[rec.Name]
	h := *b.head
	h.State, h.StateInfo, h.ErrorInfo = Running, "", ""
	if h.Errors > 0 {
		h.Errors--
	}
	h.Active++
	b.head = &h
	b.putHead, b.control = true, true
	rec.State, rec.StateInfo, rec.Outbox = Running, "", nil
	rec.Attempt++
	rec.Finished = time.Time{}
	rec.TimeoutAt = 0 // a timer of the failed run must not end the rerun
	if rec.Items > 0 {
		slots, err := r.Slots(ctx, execID, key)
		if err != nil {
			return nil, fmt.Errorf("load items of %s: %w", key, err)
		}
		items, err := b.items(rec, t)
		if err != nil {
			return nil, err
		}
		var failed int64
		for _, s := range slots {
			if s.State != Error || s.Index >= items.n {
				continue
			}
			failed++
			ns := *s
			ns.State, ns.StateInfo, ns.Result = Running, "", nil
			ns.Attempt++
			ns.Rerun = true
			b.ops = append(b.ops, PutSlot{Slot: &ns, IfVersion: s.Version})
			mark := len(b.cmds)
			if err := b.dispatch(rec, t, ns.Index, ns.Attempt, items); err != nil {
				return nil, err
			}
			ns.Outbox = clone(b.cmds[mark:])
		}
		rec.Failed -= failed
	} else {
		mark := len(b.cmds)
		if err := b.runAttempt(rec, t); err != nil {
			return nil, err
		}
		// Kept so the new attempt can be sent again (Recover, Resume).
		rec.Outbox = clone(b.cmds[mark:])
	}
	b.putTask(rec)
	return b.plan(), nil
}

// Fail ends an execution as ERROR from outside the workflow: a message about
// it could not be processed (it reached a dead-letter queue), so the
// execution is failed with a reason rather than left RUNNING forever.
func (e *Engine) Fail(ctx context.Context, r Reader, execID, reason string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return &Plan{}, nil
	}
	b.finish(Error, reason, nil)
	return b.plan(), nil
}
