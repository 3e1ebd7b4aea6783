package engine

import (
	"encoding/json"
	"fmt"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// transitionStep is what following one finished task's transitions needs
// and decides: the successors it scheduled, how many transitions it took
// (none: the branch ends here) and whether an engine command or a join error
// ended the whole execution.
type transitionStep struct {
	rec  *Task
	t    *dsl.Task
	ectx *scope     // expressions see the task's result and outbound context
	out  *value.Map // the outbound context successors start with
	ok   bool       // the task succeeded; a failing condition clears it

	opsMark   int // ops of this step before its transitions: what outliving tasks keep
	taken     int
	ended     bool
	scheduled map[string]bool
	// handlers is how many of the transitions considered (the first ones)
	// handle the task's error: its on-error clauses. Taking one of them
	// handles the error; on-complete runs but does not (Mistral's
	// handles_error), so the workflow still ends in ERROR.
	handlers int
	handled  bool
}

// nextTransitions lists the transitions to consider after rec ended as ok
// says: on-success or on-error, then on-complete (Mistral's order); in a
// reverse workflow, the tasks that required this one, on success only.
func (b *builder) nextTransitions(rec *Task, t *dsl.Task, ok bool) []dsl.Transition {
	if b.wf.Type == dsl.Reverse {
		var next []dsl.Transition
		if ok {
			for _, s := range b.graph.succ[rec.Name] {
				next = append(next, dsl.Transition{Task: s})
			}
		}
		return next
	}
	if ok {
		return joinTransitions(t.OnSuccess, t.OnComplete)
	}
	return joinTransitions(t.OnError, t.OnComplete)
}

// followTransitions takes, in order, each transition whose condition holds:
// an engine command or a successor to schedule. It stops at the first
// condition that cannot be evaluated (the task then fails) and after a
// transition that ended the execution.
func (b *builder) followTransitions(s *transitionStep, next []dsl.Transition) error {
	running := !b.head.State.Terminal()
	for i, tr := range next {
		if tr.Condition != nil {
			yes, err := truth(tr.Condition, s.ectx)
			if err != nil {
				s.rec.State, s.rec.StateInfo = Error, fmt.Sprintf("condition of transition %s of task %s: %v", tr.Task+tr.Command, s.t.Name, err)
				s.ok = false
				break
			}
			if !yes {
				continue
			}
		}
		s.taken++
		if i < s.handlers {
			s.handled = true
		}
		var err error
		if tr.Command != "" {
			err = b.engineCommand(s, tr)
		} else {
			err = b.scheduleSuccessor(s, tr)
		}
		if err != nil {
			return err
		}
		if s.ended || running && b.head.State.Terminal() {
			// A successor that failed to run ended the execution too.
			break
		}
	}
	return nil
}

// engineCommand carries out fail, succeed, pause or noop. Fail and succeed
// end the execution with the task's outbound context; tasks still running
// then outlive it (markOutlive).
func (b *builder) engineCommand(s *transitionStep, tr dsl.Transition) error {
	msg := ""
	if tr.Msg != nil {
		if v, err := s.ectx.eval(tr.Msg); err == nil {
			msg = msgText(v)
		}
	}
	switch tr.Command {
	case dsl.CmdFail:
		if msg == "" {
			msg = fmt.Sprintf("failed by task %s (fail command)", s.rec.Name)
			if !s.ok {
				msg = fmt.Sprintf("failed by task %s: %s", s.rec.Name, s.rec.StateInfo)
			}
		}
		b.markOutlive(s.opsMark)
		b.finish(Error, msg, s.out)
		if tr.Msg == nil {
			// Mistral 23.0.0: a fail without msg leaves the output's
			// result null; the state_info above still says why.
			if out, ok := b.head.Output.(*value.Map); ok {
				out.Set("result", nil)
			}
		}
		s.ended = true
	case dsl.CmdSucceed:
		b.markOutlive(s.opsMark)
		b.finish(Success, msg, s.out)
		if b.head.State == Error {
			// Mistral 23.0.0 evaluates the output while it completes the
			// task whose transition said succeed: an output that cannot be
			// evaluated fails that task too (its publish stays).
			s.rec.State, s.rec.StateInfo = Error, b.head.StateInfo
		}
		s.ended = true
	case dsl.CmdPause:
		if err := b.pauseHead(msg); err != nil {
			return err
		}
	case dsl.CmdNoop:
		// Taken, so an error it follows counts as handled; does nothing.
	}
	return nil
}

// msgText is a command's msg as state_info: a string as it is, anything
// else as JSON, as Mistral 23.0.0 writes a dict msg.
func msgText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// scheduleSuccessor schedules the task a transition names, once per step,
// in the join round the branch arrives in.
func (b *builder) scheduleSuccessor(s *transitionStep, tr dsl.Transition) error {
	if s.scheduled[tr.Task] {
		// on-success and on-complete may both name it: one successor,
		// as a second would be the same record written twice.
		return nil
	}
	s.scheduled[tr.Task] = true
	joinKey, arrival := tr.Task, s.out
	if s.rec.Key != s.rec.Name || knowsRound(s.out, tr.Task) {
		// A run in a cycle may reach a join again: find the round it
		// arrives in. Only here, so workflows without cycles pay nothing.
		key, n, why, err := b.joinRound(tr.Task, s.rec, s.out)
		if err != nil {
			return err
		}
		if why != "" {
			b.finish(Error, why, s.out)
			s.ended = true
			return nil
		}
		joinKey = key
		if n > 0 {
			arrival = withRound(s.out, tr.Task, n)
		}
	}
	return b.scheduleAt(tr.Task, joinKey, s.rec.Key, arrival)
}

// endBranchUnit ends the finished task's unit of work. When it took no
// transition its branch ends: a leaf keeps its outbound context for the
// workflow's output, and an error nothing handled is counted against the
// workflow.
func (b *builder) endBranchUnit(s *transitionStep) {
	b.add.Active-- // this task's unit ends
	leafErr := ""
	if !s.ok && !s.handled && !s.ended {
		// Mistral: an error no on-error clause handled fails the workflow
		// once nothing else is running, even when on-complete went on.
		leafErr = fmt.Sprintf("failure caused by error in task '%s': %s", s.rec.Name, s.rec.StateInfo)
		b.add.Errors++
		if b.add.ErrorInfo == "" {
			b.add.ErrorInfo = leafErr
		}
	}
	if s.taken == 0 && !s.ended {
		b.ops = append(b.ops, PutLeaf{Leaf: &Leaf{Exec: s.rec.Exec, Seq: s.rec.Seq, Task: s.rec.Key, Ctx: s.out, Error: leafErr}})
	} else if leafErr != "" && !s.ended {
		b.ops = append(b.ops, PutLeaf{Leaf: &Leaf{Exec: s.rec.Exec, Seq: s.rec.Seq, Task: s.rec.Key, Error: leafErr, ErrorOnly: true}})
	}
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
