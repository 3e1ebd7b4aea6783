package value

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// PyRepr is Python's repr() of a JSON-like value, which is what str() of a
// list or dict gives in Mistral's expressions: None, True, 'text', {'k': v}.
// With tuples, lists print as Python tuples ((1, 2), (1,), ()), as yaql
// holds them. Dicts keep their order (a Go map's keys come sorted).
func PyRepr(v any, tuples bool) string {
	s, _ := PyReprLimit(v, tuples, math.MaxInt)
	return s
}

// PyReprLimit is PyRepr that gives up, returning false, as soon as the text
// grows beyond max bytes (see JSONLimit).
func PyReprLimit(v any, tuples bool, max int) (string, bool) {
	r := reprWriter{tuples: tuples, max: max}
	r.write(v)
	if r.b.Len() > max {
		return "", false
	}
	return r.b.String(), true
}

// PyReprer is a value that writes its own Python repr: core/expr's
// Jinja2 Markup and Undefined inside a value being made text, which are no
// JSON-like value and never leave that text.
type PyReprer interface{ PyRepr() string }

type reprWriter struct {
	b      strings.Builder
	tuples bool
	max    int
}

func (r *reprWriter) write(v any) {
	if r.b.Len() > r.max {
		return
	}
	b := &r.b
	switch x := v.(type) {
	case string:
		b.WriteString(PyQuote(x))
	case []any:
		open, end := "[", "]"
		if r.tuples {
			open, end = "(", ")"
		}
		b.WriteString(open)
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			r.write(e)
		}
		if r.tuples && len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteString(end)
	case map[string]any:
		r.write(MapOf(x))
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(PyQuote(k))
			b.WriteString(": ")
			r.write(x.vals[k])
		}
		b.WriteByte('}')
	case PyReprer:
		b.WriteString(x.PyRepr())
	default:
		b.WriteString(String(x))
	}
}

// PyQuote is Python's repr of a str: single quotes unless the text holds a
// single quote and no double quote; control characters escaped.
func PyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + leftPad(strconv.FormatInt(int64(r), 16), 2))
		case !unicode.IsPrint(r) && r != ' ':
			if r <= 0xffff {
				b.WriteString(`\u` + leftPad(strconv.FormatInt(int64(r), 16), 4))
			} else {
				b.WriteString(`\U` + leftPad(strconv.FormatInt(int64(r), 16), 8))
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func leftPad(s string, n int) string {
	return strings.Repeat("0", max(n-len(s), 0)) + s
}
