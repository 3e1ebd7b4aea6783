package dsl

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// crossChecks validates references between workflows and actions of one document.
func (l *loader) crossChecks(doc *Document) {
	names := make([]string, 0, len(doc.Actions))
	for n := range doc.Actions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := doc.AdhocChain(n); err != nil {
			l.errs = append(l.errs, &Error{Pos: doc.Actions[n].Pos, Msg: err.Error()})
		}
	}
	if l.opt.Actions != nil {
		l.checkCatalog(doc, names)
	}
	for _, wfName := range doc.Order {
		wf := doc.Workflows[wfName]
		for _, name := range wf.TaskOrder {
			t := wf.Tasks[name]
			if l.broken[t] {
				continue
			}
			var params []Param
			var kind, target string
			switch {
			case t.Workflow != "":
				sub := doc.lookupWorkflow(t.Workflow)
				if sub == nil {
					continue
				}
				params, kind, target = sub.Input, "workflow", t.Workflow
			case t.Action != "":
				a := doc.lookupAction(t.Action)
				if a == nil {
					continue
				}
				params, kind, target = a.Input, "action", t.Action
			default:
				continue
			}
			src, ok := sourceDict(t.Input)
			if t.Input != nil && !ok {
				continue // input is one expression: only known at run time
			}
			var missing []string
			for _, p := range params {
				if _, given := src[p.Name]; !given && !p.HasDefault {
					missing = append(missing, p.Name)
				}
			}
			if len(missing) > 0 {
				// Mistral loads such a call and fails the task when it
				// runs ("Invalid input"): the engine does the same, so the
				// rest of the document stays usable.
				l.warns = append(l.warns, &Error{Pos: t.Pos, Msg: fmt.Sprintf("task %q calls %s %q without its required input %s (the task will fail when it runs)",
					name, kind, target, quoteList(missing))})
			}
		}
	}
}

// checkCatalog checks the calls of actions the catalog knows: every task
// whose action is named in the text (not an expression), and every ad-hoc
// action's base.
func (l *loader) checkCatalog(doc *Document, adhoc []string) {
	check := func(pos Pos, who, action string, input *expr.Value) {
		if doc.lookupAction(action) != nil {
			return // ad-hoc: its own input is checked with the workflow
		}
		req, opt, declared, exists := l.opt.Actions.ActionInputs(action)
		if !exists {
			switch {
			case slices.Contains(mistralOnly, action):
				l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q, a Mistral action Lazyflow does not provide (it has %s)",
					who, action, quoteList(l.opt.Actions.Names()))})
			case strings.HasPrefix(action, "std."), strings.HasPrefix(action, "aws.") && hasPrefixed(l.opt.Actions.Names(), "aws."):
				l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q, which does not exist%s",
					who, action, suggest(action, l.opt.Actions.Names()))})
			case strings.HasPrefix(action, "aws."):
				// The host has no AWS actions: it cannot reach AWS.
				l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q, which this host does not provide%s (AWS actions run on the AWS stack, and in lazyflow serve when AWS_REGION is set)",
					who, action, suggest(action, l.opt.Actions.Names()))})
			}
			return
		}
		src, ok := sourceDict(input)
		if !declared || input != nil && !ok {
			return // takes any input, or its input is one expression
		}
		known := append(append([]string(nil), req...), opt...)
		var unknown []string
		for k := range src {
			if !slices.Contains(known, k) {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			hint := suggest(k, known)
			if hint == "" {
				hint = " (it takes " + takes(known) + ")"
			}
			l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s gives action %q the input %q, which it does not take%s",
				who, action, k, hint)})
		}
		var missing []string
		for _, k := range req {
			if _, ok := src[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("%s calls action %q without its required input %s", who, action, quoteList(missing))})
		}
	}
	for _, n := range adhoc {
		a := doc.Actions[n]
		check(a.Pos, fmt.Sprintf("ad-hoc action %q", n), a.Base, a.BaseInput)
	}
	for _, wfName := range doc.Order {
		wf := doc.Workflows[wfName]
		for _, name := range wf.TaskOrder {
			if t := wf.Tasks[name]; t.Action != "" && t.NameExpr == nil && !l.broken[t] {
				check(t.Pos, fmt.Sprintf("task %q", name), t.Action, t.Input)
			}
		}
	}
}

// mistralOnly are std actions Mistral ships that Lazyflow does not.
var mistralOnly = []string{"std.ssh", "std.ssh_proxied", "std.javascript", "std.js", "std.email", "std.wait_ssh", "std.test_dict"}

func takes(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return quoteList(names)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// sourceDict is the dict an input was compiled from, when it is one.
func sourceDict(v *expr.Value) (map[string]any, bool) {
	m, ok := value.AsMap(v.Source())
	if !ok {
		return nil, false
	}
	return m.GoMap(), true
}

// hasPrefixed reports whether a name in names starts with prefix.
func hasPrefixed(names []string, prefix string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, prefix) })
}
