package value

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// String renders v the way Mistral interpolates an expression result into a
// larger string ("Hello <% $.name %>"). Mistral does that with Python's
// str(), so strings appear raw, null is "None", booleans are "True"/"False"
// and floats use Python's repr (1.0, 1e+16). For lists and dicts Python
// would print its repr ({'a': 1}); we print JSON instead ({"a": 1}) because
// the text usually lands in a payload that something else has to parse, and
// JSON is what a reader of a Lazyflow workflow expects.
func String(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return FormatFloat(x)
	case []any, *Map, map[string]any:
		return JSON(x, -1, false)
	}
	n := Normalize(v)
	if isCanonical(n) {
		return String(n)
	}
	return fmt.Sprintf("%v", v)
}

func isCanonical(v any) bool {
	switch v.(type) {
	case nil, bool, int64, float64, string, []any, *Map, *big.Int:
		return true
	}
	return false
}

// FormatFloat formats f as Python's repr(float) does: the shortest text that
// round-trips, always with a decimal point or exponent ("1.0", "0.1",
// "1e+16", "1.5e-05"), and "inf"/"nan" for the special values.
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // like -1.2345e+06
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := strconv.Itoa(abs(exp))
		if len(es) < 2 {
			es = "0" + es
		}
		if exp < 0 {
			return sign + m + "e-" + es
		}
		return sign + m + "e+" + es
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// JSON encodes v as Python's json.dumps does, because Mistral's json_dump and
// friends are specified by it: with indent < 0 the separators are ", " and
// ": " on one line; with indent >= 0 every element goes on its own line
// indented by that many spaces. asciiOnly escapes every non-ASCII character as
// \uXXXX (Python's default ensure_ascii=True). Dicts keep their order (a Go
// map's keys are sorted). Values that are not JSON-like are normalised
// first.
func JSON(v any, indent int, asciiOnly bool) string {
	s, _ := JSONLimit(v, indent, asciiOnly, math.MaxInt)
	return s
}

// JSONLimit is JSON that gives up, returning false, as soon as the text
// grows beyond max bytes. Values that share sub-lists can stand for far more
// text than they occupy in memory, so sandboxed callers must not encode them
// unbounded.
func JSONLimit(v any, indent int, asciiOnly bool, max int) (string, bool) {
	e := jsonEncoder{indent: indent, ascii: asciiOnly, max: max}
	e.write(v, 0)
	if e.b.Len() > max {
		return "", false
	}
	return e.b.String(), true
}

type jsonEncoder struct {
	b      strings.Builder
	indent int
	ascii  bool
	max    int
}

func (e *jsonEncoder) write(v any, level int) {
	if e.b.Len() > e.max {
		return
	}
	b, indent, ascii := &e.b, e.indent, e.ascii
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		switch {
		case math.IsInf(x, 1):
			b.WriteString("Infinity")
		case math.IsInf(x, -1):
			b.WriteString("-Infinity")
		case math.IsNaN(x):
			b.WriteString("NaN")
		default:
			b.WriteString(FormatFloat(x))
		}
	case string:
		writeJSONString(b, x, ascii)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				sep(b, indent)
			}
			newline(b, indent, level+1)
			e.write(el, level+1)
		}
		newline(b, indent, level)
		b.WriteByte(']')
	case *Map:
		if x.Len() == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				sep(b, indent)
			}
			newline(b, indent, level+1)
			writeJSONString(b, k, ascii)
			b.WriteString(": ")
			e.write(x.vals[k], level+1)
		}
		newline(b, indent, level)
		b.WriteByte('}')
	case map[string]any:
		e.write(MapOf(x), level)
	default:
		n := Normalize(v)
		if isCanonical(n) {
			e.write(n, level)
			return
		}
		writeJSONString(b, fmt.Sprintf("%v", v), ascii)
	}
}

func sep(b *strings.Builder, indent int) {
	if indent < 0 {
		b.WriteString(", ")
	} else {
		b.WriteByte(',')
	}
}

func newline(b *strings.Builder, indent, level int) {
	if indent < 0 {
		return
	}
	b.WriteByte('\n')
	for i := 0; i < indent*level; i++ {
		b.WriteByte(' ')
	}
}

func writeJSONString(b *strings.Builder, s string, ascii bool) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (ascii && r > 0x7e):
				if r > 0xffff {
					r -= 0x10000
					hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
					for _, u := range [2]rune{hi, lo} {
						b.WriteString(`\u`)
						b.WriteByte(hex[u>>12&0xf])
						b.WriteByte(hex[u>>8&0xf])
						b.WriteByte(hex[u>>4&0xf])
						b.WriteByte(hex[u&0xf])
					}
					continue
				}
				b.WriteString(`\u`)
				b.WriteByte(hex[r>>12&0xf])
				b.WriteByte(hex[r>>8&0xf])
				b.WriteByte(hex[r>>4&0xf])
				b.WriteByte(hex[r&0xf])
			case r == utf8.RuneError:
				b.WriteString(`\ufffd`)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
