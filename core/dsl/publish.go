package dsl

import (
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
		return l.compile(v), nil, nil
	}
	for _, p := range ps {
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
	for _, p := range l.pairs(v, what) {
		if contains(publishKeys, p.k.Value) && p.v.Kind == yaml.MappingNode {
			l.warnf(p.k, "%s of task %q: %s at the top level is a plain variable named %q in Mistral, not a scope; "+
				"use %s: {publish: {%s: ...}, next: ...} for scoped publishing", what, task, p.k.Value, p.k.Value, onClause, p.k.Value)
		}
	}
	return l.compile(v)
}

// mergePublish combines the task's publish (own) with the publish of an
// advanced on-clause as Mistral 23.0.0's DirectWorkflowTaskSpec.get_publish
// does (merge_dicts(on_clause, own)): the on-clause's names first, the
// task's own value winning for a name both give.
func mergePublish(own, onClause *expr.Value) *expr.Value {
	if onClause == nil {
		return own
	}
	if own == nil {
		return onClause
	}
	m := value.NewMap(0)
	for _, src := range []any{onClause.Source(), own.Source()} {
		if d, ok := value.AsMap(src); ok {
			mergeDicts(m, d)
		}
	}
	c, err := expr.Compile(m)
	if err != nil {
		return own // both halves compiled already, so this cannot happen
	}
	return c
}
