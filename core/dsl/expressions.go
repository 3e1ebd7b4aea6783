package dsl

import (
	"errors"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// isExprString reports whether a scalar holds an expression.
func isExprString(s string) bool {
	return strings.Contains(s, "<%") || strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// compile compiles a node's value, reporting bad expressions at the string
// that holds them.
func (l *loader) compile(n *yaml.Node) *expr.Value {
	if n == nil {
		return nil
	}
	return l.compileValue(n, l.plain(n))
}

// compileValue compiles v, a value read from n (or built from its text, as
// inline parameters are), reporting bad expressions at the string of n
// that holds them and warning of a '<%' never closed.
func (l *loader) compileValue(n *yaml.Node, v any) *expr.Value {
	c, err := l.exprs.Compile(v)
	if err != nil {
		l.exprErrors(n, err)
		return nil
	}
	l.warnUnclosed(n, v)
	return c
}

// exprErrors reports each error of compiling n's value, at the scalar
// holding the expression that does not parse when it can be found.
func (l *loader) exprErrors(n *yaml.Node, err error) {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var ce *expr.CompileError
		if errors.As(e, &ce) {
			at := findScalar(n, ce.Text, 0)
			if at == nil {
				at = n
			}
			l.errf(at, "expression does not parse: %v", ce.Err)
			continue
		}
		l.errf(n, "%v", e)
	}
}

func findScalar(n *yaml.Node, text string, depth int) *yaml.Node {
	if n == nil || depth > 100 {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return findScalar(n.Alias, text, depth+1)
	}
	if n.Kind == yaml.ScalarNode && n.Value == text {
		return n
	}
	for _, c := range n.Content {
		if f := findScalar(c, text, depth+1); f != nil {
			return f
		}
	}
	// Inline parameters (std.echo output=<% ... %>) hold the text inside a longer scalar.
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, text) {
		return n
	}
	return nil
}

// unclosed finds a string in v with a '<%' that no '%>' closes: Mistral
// keeps such text as it is, and so does Lazyflow, with a warning.
func unclosed(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if i := strings.LastIndex(x, "<%"); i >= 0 && !strings.Contains(x[i:], "%>") {
			return x, true
		}
	case *value.Map:
		for _, e := range x.All() {
			if s, ok := unclosed(e); ok {
				return s, true
			}
		}
	case []any:
		for _, e := range x {
			if s, ok := unclosed(e); ok {
				return s, true
			}
		}
	}
	return "", false
}

func (l *loader) warnUnclosed(n *yaml.Node, v any) {
	if s, ok := unclosed(v); ok {
		l.warnf(n, "%q has a '<%%' with no closing '%%>': it is kept as plain text, as Mistral keeps it", s)
	}
}

// bareExpr is a text that reads as an expression written without its
// delimiters: $.name, $, or a call of Mistral's task(), tasks(),
// execution() or env(). Mistral keeps it as text, as Lazyflow does.
var bareExpr = regexp.MustCompile(`^(\$(\.[A-Za-z_].*)?|(task|tasks|execution|env)\(.*)$`)

// warnBareExprs warns of the values of a mapping (a publish, an output)
// that read as an expression without <% %>: published or output as
// text, which is seldom meant. Other values (an action's input) may be
// such text on purpose (a JSONPath query is $.a.b), so only these are
// checked.
func (l *loader) warnBareExprs(m *yaml.Node, what string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		v := m.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || !bareExpr.MatchString(v.Value) || isExprString(v.Value) {
			continue
		}
		l.warnf(v, "%s %q is the text %q: an expression needs <%% %%> (<%% %s %%>) or {{ }}",
			what, m.Content[i].Value, v.Value, v.Value)
	}
}
