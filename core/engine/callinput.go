package engine

import (
	"errors"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// Calls of a sub-workflow or an ad-hoc action without a required input are
// accepted when the definition loads (with a warning) and fail when the task
// runs, as Mistral's input validation does, with its "Invalid input" text.

// missingInput lists the declared inputs without a default that input
// does not give.
func missingInput(params []dsl.Param, input *value.Map) []string {
	var missing []string
	for _, p := range params {
		if !input.Has(p.Name) && !p.HasDefault {
			missing = append(missing, p.Name)
		}
	}
	return missing
}

// nonEmpty is m, or nil when m is empty: a command's input reads back from
// a store so (engine.Decode), and a command must compare equal to itself
// read back.
func nonEmpty(m *value.Map) *value.Map {
	if m.Len() == 0 {
		return nil
	}
	return m
}

// invalidInput is Mistral's message for a call without required inputs:
// Invalid input [name=wf, class=DirectWorkflowSpec, missing=['a', 'b']].
func invalidInput(name, class string, missing []string) string {
	return "Invalid input [name=" + name + ", class=" + class + ", missing=['" + strings.Join(missing, "', '") + "']]"
}

// checkSubworkflowInput fails a call of a sub-workflow of this definition
// that lacks a required input. The task fails as any task does: retry,
// on-error and on-complete apply (Mistral 23.0.0).
func (b *builder) checkSubworkflowInput(callee string, input *value.Map) error {
	sub, err := b.doc.Workflow(callee)
	if err != nil {
		return nil // defined elsewhere: its start checks its input
	}
	missing := missingInput(sub.Input, input)
	if sub.Type == dsl.Reverse {
		missing = removeName(missing, "task_name")
	}
	if len(missing) == 0 {
		return nil
	}
	class := "DirectWorkflowSpec"
	if sub.Type == dsl.Reverse {
		class = "ReverseWorkflowSpec"
	}
	return errors.New(invalidInput(callee, class, missing))
}

// runFailure is an error in sending a task's action that fails the task and
// the whole workflow at once, with none of the task's transitions: Mistral
// 23.0.0 does this when an ad-hoc action is called without a required
// input ("Failed to run task [error=Invalid input ...]").
type runFailure struct{ msg string }

func (e *runFailure) Error() string { return e.msg }

// adhocInputError is the runFailure of task t calling ad-hoc action ad
// without the inputs missing.
func (b *builder) adhocInputError(t *dsl.Task, ad *dsl.Action, missing []string) error {
	name := ad.Name
	if b.doc.Name != "" && !strings.HasPrefix(name, b.doc.Name+".") {
		name = b.doc.Name + "." + name // Mistral names it by its workbook
	}
	return &runFailure{msg: "Failed to run task [error=" + invalidInput(name, "mistral.actions.adhoc.AdHocAction", missing) +
		", wf=" + b.head.Workflow + ", task=" + t.Name + "]"}
}

// runFailed is the runFailure of task t for err, an expression of its
// call that could not be evaluated: Mistral 23.0.0 fails the task and the
// workflow at once ("Failed to run task [error=..., wf=..., task=...]"),
// with none of the task's transitions or retries.
func (b *builder) runFailed(t *dsl.Task, err error) error {
	return &runFailure{msg: "Failed to run task [error=" + err.Error() + ", wf=" + b.head.Workflow + ", task=" + t.Name + "]"}
}

// failRun ends rec in ERROR with err's message and the execution with it,
// when err is a runFailure; it reports whether it did. No transition of rec
// runs. The caller writes rec.
func (b *builder) failRun(rec *Task, err error) bool {
	var rf *runFailure
	if !errors.As(err, &rf) {
		return false
	}
	defer b.markFinishing(rec.Key)()
	mark := len(b.cmds)
	rec.State, rec.StateInfo, rec.Pending, rec.Finished = Error, rf.msg, PendingNone, b.now
	rec.Result, rec.HasResult = rf.msg, true
	b.setLive(rec)
	b.finish(Error, rf.msg, rec.Ctx)
	b.add.Active-- // this task's unit ends
	rec.Outbox = clone(b.cmds[mark:])
	return true
}

func removeName(names []string, name string) []string {
	out := names[:0]
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}
