package expr

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// Python string methods that gonja v2.9.1 gets wrong: count counted the
// string in itself, replace required its optional count, split required
// its optional separator, find and rfind counted bytes, upper and lower
// mapped one rune to one rune, endswith found anything at the end of "",
// rsplit ignored maxsplit. These follow Python.
var strMethodFixes = map[string]exec.Method[string]{
	"format": strFormat,
	"upper":  func(self string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return value.Upper(self), nil },
	"lower":  func(self string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return value.Lower(self), nil },
	"find":   func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) { return findRunes(self, a, false) },
	"rfind":  func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) { return findRunes(self, a, true) },
	"rsplit": rsplit,
	"count": func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 1 || len(a.Args) > 3 || !a.Args[0].IsString() {
			return nil, errors.New("count(sub[, start[, end]]) needs a string to count")
		}
		r := []rune(self)
		start, end, err := runeRange(a.Args[1:], len(r))
		if err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		return strings.Count(string(r[start:end]), a.Args[0].String()), nil
	},
	"replace": func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 2 || len(a.Args) > 3 || !a.Args[0].IsString() || !a.Args[1].IsString() {
			return nil, errors.New("replace(old, new[, count]) needs two strings")
		}
		n := -1
		if len(a.Args) == 3 {
			if !a.Args[2].IsInteger() {
				return nil, errors.New("replace: count must be a whole number")
			}
			n = a.Args[2].Integer()
		}
		old, nw := a.Args[0].String(), a.Args[1].String()
		hits := strings.Count(self, old)
		if n >= 0 {
			hits = min(hits, n)
		}
		// Sized before it is built: a long replacement repeated would
		// otherwise allocate far more than the limit first.
		if len(self)+hits*(len(nw)-len(old)) > DefaultLimits.MaxOutput {
			return nil, fmt.Errorf("replace: the result is longer than %d bytes", DefaultLimits.MaxOutput)
		}
		return strings.Replace(self, old, nw, n), nil
	},
	"split": func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) > 2 {
			return nil, errors.New("split([sep[, maxsplit]]) takes at most two arguments")
		}
		max := -1
		if len(a.Args) == 2 {
			if !a.Args[1].IsInteger() {
				return nil, errors.New("split: maxsplit must be a whole number")
			}
			max = a.Args[1].Integer()
		}
		var parts []string
		if len(a.Args) == 0 || a.Args[0].IsNil() {
			// Python: runs of whitespace separate, none at the ends.
			parts = strings.Fields(self)
			if max >= 0 && len(parts) > max+1 {
				rest := strings.TrimLeftFunc(self, unicode.IsSpace)
				parts = parts[:0]
				for i := 0; i < max; i++ {
					f := strings.IndexFunc(rest, unicode.IsSpace)
					parts = append(parts, rest[:f])
					rest = strings.TrimLeftFunc(rest[f:], unicode.IsSpace)
				}
				parts = append(parts, rest)
			}
		} else {
			if !a.Args[0].IsString() || a.Args[0].String() == "" {
				return nil, errors.New("split: the separator must be a non-empty string")
			}
			n := -1
			if max >= 0 {
				n = max + 1
			}
			parts = strings.SplitN(self, a.Args[0].String(), n)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	},
}

// findRunes is str.find and str.rfind: the index in code points, -1 when
// absent.
func findRunes(self string, a *exec.VarArgs, last bool) (any, error) {
	if len(a.Args) < 1 || len(a.Args) > 3 || !a.Args[0].IsString() {
		return nil, errors.New("find(sub[, start[, end]]) needs a string to find")
	}
	r := []rune(self)
	start, end, err := runeRange(a.Args[1:], len(r))
	if err != nil {
		return nil, fmt.Errorf("find: %w", err)
	}
	in := string(r[start:end])
	i := strings.Index(in, a.Args[0].String())
	if last {
		i = strings.LastIndex(in, a.Args[0].String())
	}
	if i < 0 {
		return -1, nil
	}
	return start + utf8.RuneCountInString(in[:i]), nil
}

// rsplit is str.rsplit(sep=None, maxsplit=-1): splits from the right.
func rsplit(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	if len(a.Args) > 2 {
		return nil, errors.New("rsplit([sep[, maxsplit]]) takes at most two arguments")
	}
	max := -1
	if len(a.Args) == 2 {
		if !a.Args[1].IsInteger() {
			return nil, errors.New("rsplit: maxsplit must be a whole number")
		}
		max = a.Args[1].Integer()
	}
	var parts []string
	if len(a.Args) == 0 || a.Args[0].IsNil() {
		rest := strings.TrimRightFunc(self, unicode.IsSpace)
		for rest != "" && (max < 0 || len(parts) < max) {
			i := strings.LastIndexFunc(rest, unicode.IsSpace)
			if i < 0 {
				break
			}
			_, w := utf8.DecodeRuneInString(rest[i:])
			parts = append(parts, rest[i+w:])
			rest = strings.TrimRightFunc(rest[:i], unicode.IsSpace)
		}
		if rest != "" {
			parts = append(parts, rest)
		}
	} else {
		sep := a.Args[0].String()
		if !a.Args[0].IsString() || sep == "" {
			return nil, errors.New("rsplit: the separator must be a non-empty string")
		}
		rest := self
		for max < 0 || len(parts) < max {
			i := strings.LastIndex(rest, sep)
			if i < 0 {
				break
			}
			parts = append(parts, rest[i+len(sep):])
			rest = rest[:i]
		}
		parts = append(parts, rest)
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[len(parts)-1-i] = p
	}
	return out, nil
}

// runeRange reads Python's optional start and end (negative from the end).
func runeRange(args []*exec.Value, n int) (int, int, error) {
	start, end := 0, n
	for i, a := range args {
		if a.IsNil() {
			continue
		}
		if !a.IsInteger() {
			return 0, 0, errors.New("start and end must be whole numbers")
		}
		v := a.Integer()
		if v < 0 {
			v += n
		}
		v = min(max(v, 0), n)
		if i == 0 {
			start = v
		} else {
			end = v
		}
	}
	if end < start {
		end = start
	}
	return start, end, nil
}

// strFormat is Python's str.format: {} (next argument), {0}, {name}, {{
// and }}, with a format spec of [align][width][.precision][type]
// (types s d f e g x o %); attribute and index lookups are not supported.
func strFormat(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(self); i++ {
		c := self[i]
		if c == '}' {
			if i+1 < len(self) && self[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return nil, errors.New("format: single '}' in the string")
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(self) && self[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(self[i:], '}')
		if end < 0 {
			return nil, errors.New("format: single '{' in the string")
		}
		field := self[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		var arg *exec.Value
		switch {
		case name == "":
			if auto >= len(a.Args) {
				return nil, fmt.Errorf("format: no argument for field %d", auto)
			}
			arg = a.Args[auto]
			auto++
		case name[0] >= '0' && name[0] <= '9':
			var n int
			if _, err := fmt.Sscanf(name, "%d", &n); err != nil || n >= len(a.Args) || fmt.Sprint(n) != name {
				return nil, fmt.Errorf("format: no argument %s", name)
			}
			arg = a.Args[n]
		default:
			v, ok := a.KwArgs[name]
			if !ok {
				return nil, fmt.Errorf("format: no argument named %s", name)
			}
			arg = v
		}
		v, err := fromGonja(arg)
		if err != nil {
			return nil, err
		}
		s, err := formatSpec(v, spec)
		if err != nil {
			return nil, fmt.Errorf("format: %w", err)
		}
		b.WriteString(s)
		if b.Len() > DefaultLimits.MaxOutput {
			return nil, fmt.Errorf("format: the result is longer than %d bytes", DefaultLimits.MaxOutput)
		}
	}
	return b.String(), nil
}

// formatSpec applies a Python format spec through pyFormat.
func formatSpec(v any, spec string) (string, error) {
	if spec == "" {
		return pyFormat("%s", []any{v})
	}
	align, explicitRight := "", false
	switch spec[0] {
	case '<':
		align, spec = "-", spec[1:]
	case '>':
		explicitRight, spec = true, spec[1:]
	}
	conv := byte(0)
	if n := len(spec); n > 0 && strings.IndexByte("sdfeEgGxXo%", spec[n-1]) >= 0 {
		conv, spec = spec[n-1], spec[:n-1]
	}
	_, isStr := v.(string)
	if conv == 0 {
		conv = 's'
		if !isStr && strings.Contains(spec, ".") {
			conv = 'g' // Python: a precision without a type is general format
		}
	}
	if isStr && conv == 's' && align == "" && !explicitRight {
		align = "-" // Python left-aligns strings unless told otherwise
	}
	for _, r := range spec {
		if (r < '0' || r > '9') && r != '.' {
			return "", fmt.Errorf("format spec %q is not supported", spec)
		}
	}
	if conv == '%' {
		f, err := toFloat(v)
		if err != nil {
			return "", err
		}
		s, err := pyFormat("%"+align+spec+"f", []any{f * 100})
		return s + "%", err
	}
	return pyFormat("%"+align+spec+string(conv), []any{v})
}

// caseFilter is Jinja2's upper or lower filter: the value as text (Python's
// str()), case changed as Python does.
func caseFilter(change func(string) string) exec.FilterFunction {
	return func(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return in
		}
		s, err := pyText(in)
		if err != nil {
			return errValue(err)
		}
		return exec.AsValue(change(s))
	}
}
