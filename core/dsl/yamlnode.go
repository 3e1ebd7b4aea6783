package dsl

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// pair is one key/value of a YAML mapping.
type pair struct {
	k, v *yaml.Node
}

// deref follows aliases, charging each use against the expansion budget.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// pairs lists a mapping's entries, reporting duplicate keys and applying
// YAML merge keys (<<).
func (l *loader) pairs(n *yaml.Node, what string) []pair {
	n = l.deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	// A set only pays for itself on large mappings (tasks); most have a
	// handful of keys, which a scan of out checks faster. Either way it
	// answers "is this key in out already".
	var seen map[string]bool
	if len(n.Content) > 2*smallMapping {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	has := func(key string) bool {
		if seen != nil {
			return seen[key]
		}
		for _, p := range out {
			if p.k.Value == key {
				return true
			}
		}
		return false
	}
	add := func(p pair) {
		out = append(out, p)
		if seen != nil {
			seen[p.k.Value] = true
		}
	}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], l.deref(n.Content[i+1])
		if v == nil {
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: k.Line, Column: k.Column}
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				merged = append(merged, l.pairs(s, what)...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errf(k, "%s keys must be plain text", what)
			continue
		}
		if has(k.Value) {
			if what == "tasks" {
				l.errf(k, "duplicate task name %q", k.Value)
			} else {
				l.errf(k, "duplicate key %q in %s", k.Value, what)
			}
			continue
		}
		add(pair{k, v})
	}
	for _, p := range merged {
		if !has(p.k.Value) {
			add(p)
		}
	}
	return out
}

// smallMapping is the number of keys up to which pairs finds duplicates by
// scanning rather than with a map.
const smallMapping = 16

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// str reads a scalar as text.
func (l *loader) str(n *yaml.Node, what string) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n, "%s must be text", what)
		return ""
	}
	return n.Value
}

// plain turns a node into a JSON-like Go value.
func (l *loader) plain(n *yaml.Node) any {
	n = l.deref(n)
	if n == nil {
		return nil
	}
	l.expanded++
	if l.expanded > maxAliasExpansion {
		if l.expanded == maxAliasExpansion+1 {
			l.errf(n, "the document expands to more than %d values (too many aliases)", maxAliasExpansion)
		}
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, l.plain(c))
		}
		return out
	case yaml.MappingNode:
		// A mapping keeps the file's order, as Mistral's (a Python dict).
		ps := l.pairs(n, "mapping")
		out := value.NewMap(len(ps))
		for _, p := range ps {
			out.Set(p.k.Value, l.plain(p.v))
		}
		return out
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return l.plain(n.Content[0])
		}
	}
	return nil
}

// scalar decodes a scalar by its resolved YAML tag. The common forms are
// parsed directly because yaml's reflective Decode dominates load time.
func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return i
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	}
	return n.Value
}

func (l *loader) stringList(n *yaml.Node, what string) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = l.deref(c)
			if c == nil || c.Kind != yaml.ScalarNode {
				l.errf(c, "%s must be a list of names", what)
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	l.errf(n, "%s must be a name or a list of names", what)
	return nil
}

// describe names a node's value for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "this value"
}
