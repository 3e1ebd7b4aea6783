package expr

import (
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// markup is Jinja2's Markup (markupsafe): the str that tojson, safe, escape
// and forceescape give. It is a str everywhere but in three places users
// meet: Python's repr of it, inside a list or dict made text, is
// Markup('…'); a plain str added to it with + is HTML-escaped first (so
// {{ '"' + (x|tojson) }} has &#34;); escape leaves it as it is. The filters
// that keep it (upper, center, trim, string…) keep it here too. It never
// leaves an evaluation: plain() makes it a string, as Mistral stores a str.
type markup string

// markupText is a Markup inside a value being made text, where plain()
// gives no Markup; it is a type, not a mark in the text, so that a user's
// string can never pass for one.
type markupText string

// PyRepr is Markup's repr, as a list or dict made text shows it.
func (m markupText) PyRepr() string { return "Markup(" + value.PyQuote(string(m)) + ")" }

// markupKeyDict is a dict with a Markup key inside a value being made text:
// a Map's keys are plain strings, so marked names those that are Markups.
type markupKeyDict struct {
	m      *value.Map
	marked map[string]bool
}

// PyRepr is Python's repr of the dict, its Markup keys as Markup('…').
func (d markupKeyDict) PyRepr() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range d.m.Keys() {
		if i > 0 {
			b.WriteString(", ")
		}
		if d.marked[k] {
			b.WriteString(markupText(k).PyRepr())
		} else {
			b.WriteString(value.PyQuote(k))
		}
		b.WriteString(": ")
		b.WriteString(value.PyRepr(d.m.Value(k), false))
	}
	b.WriteByte('}')
	return b.String()
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;")

// isMarkup reports a Markup value.
func isMarkup(v *exec.Value) bool {
	if v == nil {
		return false
	}
	_, ok := v.Interface().(markup)
	return ok
}

// escapeFilter is markupsafe's escape: a Markup as it is, anything else
// its str() escaped.
func escapeFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	return markupOf(in, params, htmlEscaper.Replace)
}

// forceescapeFilter escapes even a Markup.
func forceescapeFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if isMarkup(in) {
		in = exec.AsValue(in.String())
	}
	return markupOf(in, params, htmlEscaper.Replace)
}

// safeFilter marks its input's str() as Markup, unescaped.
func safeFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	return markupOf(in, params, nil)
}

// markupOf is f of in's str() as Markup; a Markup in is kept as it is (f
// nil is safe, which escapes nothing).
func markupOf(in *exec.Value, params *exec.VarArgs, f func(string) string) *exec.Value {
	if in.IsError() {
		return in
	}
	if params != nil {
		if err := params.Take(); err != nil {
			return errValue(exec.ErrInvalidCall(err))
		}
	}
	if isMarkup(in) {
		return in
	}
	s, err := pyText(in)
	if err != nil {
		return errValue(err)
	}
	if f != nil {
		s = f(s)
	}
	return exec.AsValue(markup(s))
}

// markupFilters puts Markup into the filter set: the filters that make it,
// and those that keep it (markupsafe wraps these str methods).
func markupFilters(filters *exec.FilterSet) {
	for name, f := range map[string]exec.FilterFunction{
		"escape": escapeFilter, "e": escapeFilter, "forceescape": forceescapeFilter, "safe": safeFilter,
	} {
		_ = filters.Replace(name, guardFilter(f, false))
	}
	// Not title, wordwrap, replace, format: Jinja2 builds their result as a str.
	for _, name := range []string{"upper", "lower", "capitalize", "center", "trim", "string", "reverse", "indent", "truncate"} {
		if f, ok := filters.Get(name); ok {
			_ = filters.Replace(name, keepMarkup(f))
		}
	}
}

// keepMarkup makes f's string result Markup when its input was, as
// markupsafe's str methods (upper, center, strip…) do.
func keepMarkup(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		out := f(e, in, params)
		if isMarkup(in) && !out.IsError() && out.IsString() {
			return exec.AsValue(markup(out.String()))
		}
		return out
	}
}

// markupAdd is + with a Markup on a side and a str on the other: the plain
// side is escaped (Markup.__add__ and __radd__).
func markupAdd(l, r *exec.Value) (*exec.Value, bool) {
	lm, rm := isMarkup(l), isMarkup(r)
	if !(lm || rm) || !l.IsString() || !r.IsString() {
		return nil, false
	}
	ls, rs := l.String(), r.String()
	if !lm {
		ls = htmlEscaper.Replace(ls)
	}
	if !rm {
		rs = htmlEscaper.Replace(rs)
	}
	return exec.AsValue(markup(ls + rs)), true
}
