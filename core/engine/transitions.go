package engine

import (
	"fmt"

	"github.com/lazyflow/lazyflow/core/dsl"
)

// finishTask publishes, follows transitions and ends the task's unit of work.
func (b *builder) finishTask(rec *Task, t *dsl.Task, ok bool, errMsg string) error {
	b.finishing = rec.Key
	defer func() { b.finishing = "" }()
	rec.Finished = b.now
	rec.Pending = ""
	ectx := b.scopeWith(rec.Ctx, rec, resultOf(ok, rec.Result, errMsg))
	// out is the outbound context: rec.Ctx until something is published
	// into it (then a copy), as most tasks publish nothing.
	out, owned := rec.Ctx, false
	own := func() {
		if !owned {
			out, owned = copyMap(out), true
		}
	}
	// Successors started in this step see this task finished (task(name)
	// reads it here: it is committed together with them).
	b.setLive(rec)
	if rec.Key != rec.Name || out[keysKey] != nil {
		// Remember which record ran this task last on the branch, so
		// task(name) finds the latest run in a cycle; workflows without
		// cycles never carry this.
		keys := map[string]any{}
		if m, ok := out[keysKey].(map[string]any); ok {
			for k, v := range m {
				keys[k] = v
			}
		}
		keys[rec.Name] = rec.Key
		own()
		out[keysKey] = keys
	}
	if rec.Fired && joinInCycle(b.wf, rec.Name) && !knowsRound(out, rec.Name) {
		// Round 1 of a join in a cycle (later rounds' arrivals carry their
		// round): the branches after it know they came through round 1.
		own()
		out[roundsKey] = roundsWith(out, rec.Name, 1)
	}
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
	if pub != nil {
		v, err := ectx.eval(pub)
		if err != nil {
			ok = false
			rec.State, rec.StateInfo = Error, fmt.Sprintf("publish of task %s: %v", t.Name, err)
		} else if m, isMap := v.(map[string]any); isMap {
			rec.Published = m
			own()
			for k, x := range m {
				out[k] = x
			}
			bumpVersions(out, m)
		}
	}
	if t.PublishOnComplete != nil && rec.State == map[bool]State{true: Success, false: Error}[ok] {
		// publish-on-complete (Mistral's advanced on-complete form) applies
		// after the success or error publish, whatever the outcome.
		if v, err := ectx.eval(t.PublishOnComplete); err != nil {
			ok = false
			rec.State, rec.StateInfo = Error, fmt.Sprintf("publish on complete of task %s: %v", t.Name, err)
		} else if m, isMap := v.(map[string]any); isMap {
			if rec.Published == nil {
				rec.Published = map[string]any{}
			}
			own()
			for k, x := range m {
				out[k] = x
				rec.Published[k] = x
			}
			bumpVersions(out, m)
		}
	}
	if t.PublishOnCompleteGlobal != nil {
		if glob == nil {
			glob = t.PublishOnCompleteGlobal
		} else if v, err := ectx.eval(t.PublishOnCompleteGlobal); err == nil {
			if m, isMap := v.(map[string]any); isMap && len(m) > 0 {
				vars := copyMap(b.head.Vars)
				for k, x := range m {
					vars[k] = x
				}
				b.head.Vars = vars
				b.putHead = true
			}
		}
	}
	if glob != nil && rec.State == map[bool]State{true: Success, false: Error}[ok] {
		if v, err := ectx.eval(glob); err == nil {
			if m, isMap := v.(map[string]any); isMap && len(m) > 0 {
				vars := copyMap(b.head.Vars)
				for k, x := range m {
					vars[k] = x
					if rec.Published == nil {
						rec.Published = map[string]any{}
					}
					rec.Published[k] = x
				}
				b.head.Vars = vars
				b.putHead = true
			}
		}
	}
	if t.KeepResult != nil {
		if keep, err := truth(t.KeepResult, ectx); err == nil && !keep {
			rec.Result, rec.HasResult = nil, false
		}
	}
	ok = rec.State == Success
	ectx = b.scopeWith(out, rec, resultOf(ok, rec.Result, rec.StateInfo))

	var next []dsl.Transition
	if b.wf.Type == dsl.Reverse {
		if ok {
			for _, s := range b.graph.succ[rec.Name] {
				next = append(next, dsl.Transition{Task: s})
			}
		}
	} else if ok {
		next = joinTransitions(t.OnSuccess, t.OnComplete)
	} else {
		next = joinTransitions(t.OnError, t.OnComplete)
	}
	taken := 0
	scheduled := map[string]bool{}
	ended := false
	mark, opsMark := len(b.cmds), len(b.ops)
	for _, tr := range next {
		if tr.Condition != nil {
			yes, err := truth(tr.Condition, ectx)
			if err != nil {
				rec.State, rec.StateInfo = Error, fmt.Sprintf("condition of transition %s of task %s: %v", tr.Task+tr.Command, t.Name, err)
				ok = false
				break
			}
			if !yes {
				continue
			}
		}
		taken++
		if tr.Command != "" {
			msg := ""
			if tr.Msg != nil {
				if v, err := ectx.eval(tr.Msg); err == nil {
					msg = fmt.Sprint(v)
				}
			}
			switch tr.Command {
			case dsl.CmdFail:
				if msg == "" {
					msg = fmt.Sprintf("failed by task %s (fail command)", rec.Name)
					if !ok {
						msg = fmt.Sprintf("failed by task %s: %s", rec.Name, rec.StateInfo)
					}
				}
				b.markOutlive(opsMark)
				b.finish(Error, msg, out)
				ended = true
			case dsl.CmdSucceed:
				b.markOutlive(opsMark)
				b.finish(Success, msg, out)
				ended = true
			case dsl.CmdPause:
				if err := b.pauseHead(msg); err != nil {
					return err
				}
			case dsl.CmdNoop:
				// Taken, so an error it follows counts as handled; does nothing.
			}
			if ended {
				break
			}
			continue
		}
		if scheduled[tr.Task] {
			// on-success and on-complete may both name it: one successor,
			// as a second would be the same record written twice.
			continue
		}
		scheduled[tr.Task] = true
		joinKey, arrival := tr.Task, out
		if rec.Key != rec.Name || knowsRound(out, tr.Task) {
			// A run in a cycle may reach a join again: find the round it
			// arrives in. Only here, so workflows without cycles pay nothing.
			key, n, why, err := b.joinRound(tr.Task, rec, out)
			if err != nil {
				return err
			}
			if why != "" {
				b.finish(Error, why, out)
				ended = true
				break
			}
			joinKey = key
			if n > 0 {
				arrival = withRound(out, tr.Task, n)
			}
		}
		if err := b.scheduleAt(tr.Task, joinKey, rec.Key, arrival); err != nil {
			return err
		}
	}
	b.add.Active-- // this task's unit ends
	leafErr := ""
	if !ok && taken == 0 && !ended {
		// Mistral: an error no on-error/on-complete clause handled fails the
		// workflow once nothing else is running.
		leafErr = fmt.Sprintf("failure caused by error in task '%s': %s", rec.Name, rec.StateInfo)
		b.add.Errors++
		if b.add.ErrorInfo == "" {
			b.add.ErrorInfo = leafErr
		}
	}
	if taken == 0 && !ended {
		b.ops = append(b.ops, PutLeaf{Leaf: &Leaf{Exec: rec.Exec, Seq: rec.Seq, Task: rec.Key, Ctx: out, Error: leafErr}})
	}
	rec.Outbox = append([]Command(nil), b.cmds[mark:]...)
	return nil
}

// joinTransitions is a followed by b; it copies only when both have
// transitions (next is only read).
func joinTransitions(a, b []dsl.Transition) []dsl.Transition {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	return append(append(make([]dsl.Transition, 0, len(a)+len(b)), a...), b...)
}
