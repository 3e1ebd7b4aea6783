package dsl

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
)

// transitions reads on-success / on-error / on-complete in every form
// Mistral accepts. It also returns the publish of the advanced form.
func (l *loader) transitions(v *yaml.Node, what, task string) (list []Transition, pub clausePublish) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, pub
		}
		if tr, ok := l.transition(v, v.Value, nil, what); ok {
			list = append(list, tr)
		}
	case yaml.SequenceNode:
		list = l.transitionList(v.Content, what)
	case yaml.MappingNode:
		ps := l.pairs(v, what)
		advanced := len(ps) > 0
		for _, p := range ps {
			if p.k.Value != "publish" && p.k.Value != "next" {
				advanced = false
			}
		}
		if !advanced {
			if len(ps) != 1 {
				l.errf(v, "%s must be a task name, a list, a single \"task: <%% condition %%>\" or a mapping with publish and next", what)
				return nil, pub
			}
			if tr, ok := l.transition(ps[0].k, ps[0].k.Value, ps[0].v, what); ok {
				list = append(list, tr)
			}
			return list, pub
		}
		for _, p := range ps {
			switch p.k.Value {
			case "publish":
				var atomic *expr.Value
				pub.branch, pub.global, atomic = l.publish(p.v, what+" publish")
				if pub.branch != nil || pub.global != nil || atomic != nil {
					pub.at = p.v
				}
				if atomic != nil {
					// Mistral parses atomic publish and ignores it (a TODO there).
					l.warnf(p.v, "atomic publish in %s is ignored, as Mistral ignores it; use branch or global", what)
				}
			case "next":
				switch p.v.Kind {
				case yaml.SequenceNode:
					list = l.transitionList(p.v.Content, what)
				default:
					sub, _ := l.transitions(p.v, what, task)
					list = sub
				}
			}
		}
	default:
		l.errf(v, "%s must be a task name or a list of them", what)
	}
	return list, pub
}

func (l *loader) transitionList(items []*yaml.Node, what string) []Transition {
	var list []Transition
	for _, it := range items {
		it = l.deref(it)
		if it == nil {
			continue
		}
		switch {
		case it.Kind == yaml.ScalarNode && it.Tag != "!!null":
			if tr, ok := l.transition(it, it.Value, nil, what); ok {
				list = append(list, tr)
			}
		case it.Kind == yaml.MappingNode && len(it.Content) == 2:
			k := it.Content[0]
			if tr, ok := l.transition(k, k.Value, l.deref(it.Content[1]), what); ok {
				list = append(list, tr)
			}
		default:
			l.errf(it, "each entry of %s must be a task name or a single \"task: <%% condition %%>\"", what)
		}
	}
	return list
}

var funcCmdRe = regexp.MustCompile(`(?s)^(\w+)\((.*)\)$`)

func funcCmdMatch(text string) []string {
	if !strings.HasSuffix(text, ")") {
		return nil
	}
	return funcCmdRe.FindStringSubmatch(text)
}

// transition parses one entry: "task", "fail msg='x'", "fail(msg='x')",
// optionally with a condition node.
func (l *loader) transition(at *yaml.Node, text string, cond *yaml.Node, what string) (Transition, bool) {
	tr := Transition{Pos: l.pos(at)}
	text = strings.TrimSpace(text)
	name, rest := text, ""
	// The regexp can only match text ending in ")"; testing that first keeps
	// it off the common path (a plain task name).
	if m := funcCmdMatch(text); m != nil && contains(commands, m[1]) {
		name, rest = m[1], m[2]
	} else if i := strings.IndexAny(text, " \t"); i >= 0 {
		name, rest = text[:i], strings.TrimSpace(text[i+1:])
	}
	if name == "" {
		l.errf(at, "%s has an empty task name", what)
		return tr, false
	}
	if contains(commands, name) {
		tr.Command = name
		if rest != "" {
			params, err := parseParams(rest)
			if err != nil {
				l.errf(at, "%s: %v", what, err)
				return tr, false
			}
			for k, v := range params.All() {
				if k != "msg" {
					l.errf(at, "engine command %s takes only msg, not %q", name, k)
					continue
				}
				tr.Msg = l.compileValue(at, v)
			}
		}
	} else {
		if rest != "" {
			l.errf(at, "%q is not a task name: task names have no spaces, and only fail, succeed and pause take parameters", text)
			return tr, false
		}
		tr.Task = name
	}
	if cond != nil && !(cond.Kind == yaml.ScalarNode && cond.Tag == "!!null") {
		switch {
		case cond.Kind == yaml.ScalarNode && cond.Tag == "!!str" && isExprString(cond.Value):
			tr.Condition = l.compile(cond)
		case cond.Kind == yaml.ScalarNode && cond.Tag == "!!bool":
			tr.Condition = expr.Const(scalar(cond))
		default:
			l.errf(cond, "the condition of %q in %s must be an expression like <%% $.ok %%>, not %s", text, what, describe(cond))
		}
	}
	return tr, true
}
