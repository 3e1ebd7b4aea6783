package yaql

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

// YAMLDump is Mistral's yaml_dump, for both expression languages: PyYAML's
// safe_dump(value, default_flow_style=False). That is block style with
// sorted keys, lists under a key not indented, strings quoted only when
// they would read back as something else, non-ASCII text escaped in double
// quotes, plain and single-quoted text folded past column 80, and a lone
// plain scalar followed by the "..." document end.
func YAMLDump(v any) (string, error) {
	s, _ := YAMLDumpLimit(value.Normalize(v), math.MaxInt)
	return s, nil
}

// YAMLDumpLimit is YAMLDump that gives up, returning false, once the text
// grows beyond max bytes: values that share sub-lists can stand for far
// more text than they occupy (see value.JSONLimit). v must be a JSON-like
// value of package value.
func YAMLDumpLimit(v any, max int) (string, bool) {
	e := yamlEmitter{max: max}
	switch x := goMap(v).(type) {
	case []any:
		if len(x) == 0 {
			return "[]\n", true
		}
		e.seq(x, 0)
	case map[string]any:
		if len(x) == 0 {
			return "{}\n", true
		}
		e.mapping(x, 0)
	default:
		text, plain := yamlScalar(v, 2)
		e.b.WriteString(text)
		e.b.WriteByte('\n')
		if plain {
			e.b.WriteString("...\n")
		}
	}
	if e.b.Len() > max {
		return "", false
	}
	return e.b.String(), true
}

type yamlEmitter struct {
	b   strings.Builder
	max int
}

func (e *yamlEmitter) full() bool { return e.b.Len() > e.max }

func (e *yamlEmitter) indent(n int) { e.b.WriteString(strings.Repeat(" ", n)) }

// mapping writes the pairs, the first on the current line (the caller has
// indented it), the others at indent.
func (e *yamlEmitter) mapping(m map[string]any, indent int) {
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if e.full() {
			return
		}
		if i > 0 {
			e.indent(indent)
		}
		key, _ := yamlScalar(k, indent+2)
		e.b.WriteString(key)
		e.b.WriteByte(':')
		e.value(m[k], indent)
	}
}

// seq writes the items, the first on the current line.
func (e *yamlEmitter) seq(l []any, indent int) {
	for i, x := range l {
		if e.full() {
			return
		}
		if i > 0 {
			e.indent(indent)
		}
		e.b.WriteString("- ")
		switch y := goMap(x).(type) {
		case []any:
			if len(y) > 0 {
				e.seq(y, indent+2)
				continue
			}
		case map[string]any:
			if len(y) > 0 {
				e.mapping(y, indent+2)
				continue
			}
		}
		text, _ := yamlScalar(x, indent+2)
		e.b.WriteString(text)
		e.b.WriteByte('\n')
	}
}

// value writes a mapping's value after "key:": nested collections on the
// next lines (a list at the key's own indent, as PyYAML does), scalars and
// empty collections on the same line.
func (e *yamlEmitter) value(v any, indent int) {
	switch x := goMap(v).(type) {
	case []any:
		if len(x) > 0 {
			e.b.WriteByte('\n')
			e.indent(indent)
			e.seq(x, indent)
			return
		}
	case map[string]any:
		if len(x) > 0 {
			e.b.WriteByte('\n')
			e.indent(indent + 2)
			e.mapping(x, indent+2)
			return
		}
	}
	text, _ := yamlScalar(v, indent+2)
	e.b.WriteByte(' ')
	e.b.WriteString(text)
	e.b.WriteByte('\n')
}

// yamlScalar is a scalar as PyYAML writes it, and whether it is plain;
// indent is where folded lines continue.
func yamlScalar(v any, indent int) (string, bool) {
	switch x := goMap(v).(type) {
	case nil:
		return "null", true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case int64:
		return strconv.FormatInt(x, 10), true
	case *big.Int:
		return x.String(), true
	case float64:
		return yamlFloat(x), true
	case []any:
		return "[]", false
	case map[string]any:
		return "{}", false
	case string:
		return yamlString(x, indent)
	case dateTime:
		return x.pyString(), true
	}
	return yamlString(value.String(v), indent)
}

// yamlFloat is PyYAML's represent_float: Python's repr, lower case, with
// ".0" before an exponent that has no point.
func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strings.ToLower(value.FormatFloat(f))
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

// yamlImplicit matches the plain scalars PyYAML's resolver reads as
// something other than a string (bool, int, float, null, timestamp, merge,
// value), which must therefore be quoted.
var yamlImplicit = regexp.MustCompile(`^(?:` +
	`yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|~|null|Null|NULL` +
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?` +
	`|<<|=)$`)

// yamlString chooses PyYAML's style for a string: plain when it reads back
// as itself, single-quoted when it has printable text only, else double-
// quoted.
func yamlString(s string, indent int) (string, bool) {
	special, breaks, plain := yamlAnalyze(s)
	switch {
	case special:
		return yamlDouble(s), false
	case plain && !breaks && !yamlImplicit.MatchString(s):
		return yamlFold(s, indent, false), true
	}
	return yamlFold(s, indent, true), false
}

// yamlAnalyze is PyYAML's analyze_scalar for block context: whether s has
// characters that need double quotes (control or, without allow_unicode,
// non-ASCII), line breaks, and whether it may be plain.
func yamlAnalyze(s string) (special, breaks, plain bool) {
	if s == "" {
		return false, false, false
	}
	plain = true
	if strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.HasSuffix(s, "\n") || strings.HasPrefix(s, "\n") {
		plain = false
	}
	prevSpace := false
	for i, r := range s {
		next := byte(0)
		if j := i + utf8.RuneLen(r); j < len(s) {
			next = s[j]
		}
		followedBySpace := next == 0 || next == ' ' || next == '\n'
		switch {
		case r == '\n':
			breaks = true
		case r < 0x20 || r > 0x7e:
			special = true
		}
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", r) || (strings.ContainsRune("?:-", r) && followedBySpace) {
				plain = false
			}
		} else if (r == ':' && followedBySpace) || (r == '#' && prevSpace) {
			plain = false
		}
		prevSpace = r == ' '
	}
	if strings.Contains(s, " \n") || strings.Contains(s, "\n ") {
		// A space next to a break cannot be kept in single quotes either.
		special = true
	}
	return special, breaks, plain
}

// yamlFold writes plain or single-quoted text, breaking at a single space
// once past column 80 as PyYAML's best width does, with line breaks in
// single quotes doubled.
func yamlFold(s string, indent int, quoted bool) string {
	var b strings.Builder
	col := 0
	if quoted {
		b.WriteByte('\'')
		col = 1
	}
	words := strings.Split(s, " ")
	for i, w := range words {
		if i > 0 {
			if col > 80 && w != "" && words[i-1] != "" {
				b.WriteByte('\n')
				b.WriteString(strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		if quoted {
			w = strings.ReplaceAll(w, "'", "''")
			if strings.Contains(w, "\n") {
				lines := strings.Split(w, "\n")
				w = strings.Join(lines, "\n\n"+strings.Repeat(" ", indent))
				col = indent + len(lines[len(lines)-1])
				b.WriteString(w)
				continue
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	if quoted {
		b.WriteByte('\'')
	}
	return b.String()
}

// yamlDouble is PyYAML's double-quoted style without allow_unicode.
func yamlDouble(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1b:
			b.WriteString(`\e`)
		case 0x85:
			b.WriteString(`\N`)
		case 0xa0:
			b.WriteString(`\_`)
		case 0x2028:
			b.WriteString(`\L`)
		case 0x2029:
			b.WriteString(`\P`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// goMap is a dict as a Go map, one level: safe_dump sorts keys, so the
// order of a *value.Map does not show.
func goMap(v any) any {
	if m, ok := v.(*value.Map); ok {
		return m.GoMap()
	}
	return v
}
