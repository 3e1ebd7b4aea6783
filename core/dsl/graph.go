package dsl

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// graph checks references between tasks and fills StartTasks and Inbound.
func (l *loader) graph(wf *Workflow, taskNodes map[string]*yaml.Node) {
	names := wf.TaskOrder
	if wf.Type == Reverse {
		for _, name := range names {
			t := wf.Tasks[name]
			for _, r := range t.Requires {
				if _, ok := wf.Tasks[r]; !ok {
					l.errs = append(l.errs, &Error{Pos: t.requiresPos, Msg: fmt.Sprintf("task %q requires %q, which is not a task of workflow %q%s", name, r, wf.Name, suggest(r, names))})
				}
			}
		}
		l.reverseCycles(wf)
		return
	}
	for _, name := range names {
		t := wf.Tasks[name]
		for _, list := range [][]Transition{t.OnSuccess, t.OnError, t.OnComplete, t.OnSkip} {
			for _, tr := range list {
				if tr.Task == "" {
					continue
				}
				if _, ok := wf.Tasks[tr.Task]; !ok {
					l.errs = append(l.errs, &Error{Pos: tr.Pos, Msg: fmt.Sprintf("task %q goes to %q, which is not a task of workflow %q%s", name, tr.Task, wf.Name, suggest(tr.Task, names))})
					continue
				}
				if !contains(wf.Inbound[tr.Task], name) {
					wf.Inbound[tr.Task] = append(wf.Inbound[tr.Task], name)
				}
			}
		}
	}
	for _, name := range names {
		if len(wf.Inbound[name]) == 0 {
			wf.StartTasks = append(wf.StartTasks, name)
		}
	}
	for _, name := range names {
		t := wf.Tasks[name]
		n := len(wf.Inbound[name])
		switch {
		case t.Join == JoinNone:
		case n == 1 && t.Join != JoinOne:
			// Mistral 23.0.0 runs a join all/N that one task reaches once
			// that task completes: likely a mistake, so a warning (an error
			// with validate --strict).
			l.warns = append(l.warns, &Error{Pos: t.joinPos, Msg: fmt.Sprintf("task %q has join but %s: it runs as soon as that task completes, as in Mistral", name, leadCount(n))})
		case n < 2 && t.Join != JoinOne:
			// join: one with a single way in behaves like no join at all, and
			// Mistral's own test workbooks use it, so only all/N are refused.
			l.errs = append(l.errs, &Error{Pos: t.joinPos, Msg: fmt.Sprintf("task %q has join but %s: a join needs at least two incoming tasks", name, leadCount(n))})
		case t.Join == JoinCount && t.JoinN > n:
			l.errs = append(l.errs, &Error{Pos: t.joinPos, Msg: fmt.Sprintf("task %q joins %d tasks but only %d tasks lead to it, so it could never run", name, t.JoinN, n)})
		}
	}
	if len(wf.StartTasks) == 0 && len(names) > 0 {
		l.errs = append(l.errs, &Error{Pos: wf.Pos, Msg: fmt.Sprintf("workflow %q has no start task: every task is the target of a transition, so nothing can run first", wf.Name)})
	}
}

// reverseCycles reports a requires cycle, which would deadlock a reverse workflow.
func (l *loader) reverseCycles(wf *Workflow) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	reported := false
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		if reported {
			return
		}
		color[name] = grey
		t := wf.Tasks[name]
		for _, r := range t.Requires {
			if _, ok := wf.Tasks[r]; !ok {
				continue
			}
			switch color[r] {
			case grey:
				cyc := append(append([]string{}, path...), name, r)
				i := indexOf(cyc, r)
				l.errs = append(l.errs, &Error{Pos: t.requiresPos, Msg: fmt.Sprintf("requires cycle in workflow %q: %s", wf.Name, strings.Join(cyc[i:], " -> "))})
				reported = true
				return
			case white:
				visit(r, append(path, name))
			}
		}
		color[name] = black
	}
	for _, name := range wf.TaskOrder {
		if color[name] == white {
			visit(name, nil)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, e := range list {
		if e == s {
			return i
		}
	}
	return 0
}

func leadCount(n int) string {
	if n == 1 {
		return "only one task leads to it"
	}
	return "no task leads to it"
}
