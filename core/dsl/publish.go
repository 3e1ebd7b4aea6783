package dsl

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// publish reads an on-clause's publish: the branch/global/atomic form, or a
// plain map of variables (the branch scope).
func (l *loader) publish(v *yaml.Node, what string) (branch, global, atomic *expr.Value) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil, nil
	}
	if v.Kind != yaml.MappingNode {
		l.errf(v, "%s must be a mapping of variable names to values, not %s", what, describe(v))
		return nil, nil, nil
	}
	ps := l.pairs(v, what)
	scoped := len(ps) > 0
	for _, p := range ps {
		if !contains(publishKeys, p.k.Value) || p.v.Kind != yaml.MappingNode {
			scoped = false
		}
	}
	if !scoped {
		l.warnBareExprs(v, what+": variable")
		return l.compile(v), nil, nil
	}
	for _, p := range ps {
		l.warnBareExprs(p.v, what+" "+p.k.Value+": variable")
		c := l.compile(p.v)
		switch p.k.Value {
		case ScopeBranch:
			branch = c
		case ScopeGlobal:
			global = c
		case ScopeAtomic:
			atomic = c
		}
	}
	return branch, global, atomic
}

// taskPublishMap reads a task's own publish, publish-on-error or
// publish-on-skip (what). Mistral 23.0.0 takes the whole map as the branch
// scope (TaskSpec.get_publish wraps it as {'branch': ...}), so branch,
// global and atomic there are variables of those names, which is seldom
// what was meant: a mapping under one of them is warned about, naming the
// on-clause (onClause) where scopes are read.
func (l *loader) taskPublishMap(v *yaml.Node, what, task, onClause string) *expr.Value {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		l.errf(v, "%s must be a mapping of variable names to values, not %s", what, describe(v))
		return nil
	}
	if len(v.Content) == 0 {
		// Mistral's get_publish tests the clause's truth: an empty one is
		// no publish, so on-complete's global is not dropped beside it.
		return nil
	}
	for _, p := range l.pairs(v, what) {
		if !contains(publishKeys, p.k.Value) || p.v.Kind != yaml.MappingNode {
			continue
		}
		if onClause == "" {
			// Nothing of a skip is applied here, so there is no scoped
			// form to point to.
			l.warnf(p.k, "%s of task %q: %s at the top level is a plain variable named %q in Mistral, not a scope",
				what, task, p.k.Value, p.k.Value)
			continue
		}
		l.warnf(p.k, "%s of task %q: %s at the top level is a plain variable named %q in Mistral, not a scope; "+
			"use %s: {publish: {%s: ...}, next: ...} for scoped publishing", what, task, p.k.Value, p.k.Value, onClause, p.k.Value)
	}
	l.warnBareExprs(v, what+" of task "+strconv.Quote(task)+": variable")
	return l.compile(v)
}

// clausePublish is the publish of an on-clause's advanced form.
type clausePublish struct {
	branch, global *expr.Value
	at             *yaml.Node // the publish node; nil when the clause has none
}

// Indexes of Task.clausePub.
const (
	onSuccessPub = iota
	onErrorPub
	onCompletePub
)

// mergeClausePublish gives the task its publish for each outcome as Mistral
// 23.0.0's DirectWorkflowTaskSpec.get_publish builds it: the task's own
// publish (or publish-on-error) takes on-complete's, and the on-success (or
// on-error) publish takes the result. Each merge goes only into the scopes
// the receiving publish has, so Mistral drops a scope the receiver lacks:
// on-complete's global when the task has its own publish, and everything
// but the scopes an on-clause's publish names. Lazyflow drops the same and
// warns, as a workflow seldom means it.
func (l *loader) mergeClausePublish(t *Task) {
	t.Publish, t.PublishGlobal = l.outcomePublish(t, t.Publish, onSuccessPub, "on-success", "publish", "succeeds")
	t.PublishOnError, t.PublishOnErrorGlobal = l.outcomePublish(t, t.PublishOnError, onErrorPub, "on-error", "publish-on-error", "fails")
	// Merged: a loaded definition (cached by the engine) need not keep the
	// YAML nodes the warnings pointed at.
	t.clausePub = [3]clausePublish{}
}

func (l *loader) outcomePublish(t *Task, own *expr.Value, clause int, onName, ownName, when string) (branch, global *expr.Value) {
	oc, on := t.clausePub[onCompletePub], t.clausePub[clause]
	switch {
	case own != nil:
		branch = mergePublish(own, oc.branch)
		if oc.global != nil {
			l.warnf(oc.at, "when task %q %s, the global publish of its on-complete is dropped, as Mistral drops it beside the task's own %s "+
				"(it merges only on-complete's branch into it); publish it from %s or give the task no %s", t.Name, when, ownName, onName, ownName)
		}
	case oc.at != nil:
		branch, global = oc.branch, oc.global
	}
	if on.at == nil {
		return branch, global
	}
	if on.branch == nil && branch != nil {
		l.warnf(on.at, "when task %q %s, its %s publish has no branch, so the task's own %s and on-complete's branch publish are dropped, "+
			"as Mistral drops them; put them under %s: publish: branch:", t.Name, when, onName, ownName, onName)
	}
	if on.global == nil && global != nil {
		l.warnf(on.at, "when task %q %s, its %s publish has no global, so on-complete's global publish is dropped, as Mistral drops it; "+
			"put it under %s: publish: global:", t.Name, when, onName, onName)
	}
	if on.branch != nil {
		branch = mergePublish(on.branch, branch)
	} else {
		branch = nil
	}
	if on.global != nil {
		global = mergePublish(on.global, global)
	} else {
		global = nil
	}
	return branch, global
}

// mergePublish merges the publish over into base as mistral_lib's
// merge_dicts(base, over), with which Mistral merges publish specs: base's
// names first, over's value winning for a name both give.
func mergePublish(base, over *expr.Value) *expr.Value {
	if over == nil {
		return base
	}
	if base == nil {
		return over
	}
	m := value.NewMap(0)
	for _, src := range []any{base.Source(), over.Source()} {
		if d, ok := value.AsMap(src); ok {
			mergeDicts(m, d)
		}
	}
	c, err := expr.Compile(m)
	if err != nil {
		return base // both halves compiled already, so this cannot happen
	}
	return c
}
