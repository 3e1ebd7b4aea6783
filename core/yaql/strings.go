package yaql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

// stringFuncs are yaql's string functions (standard_library/strings.py),
// with Python's str semantics where yaql delegates to it.
var stringFuncs = []fn{
	{names: []string{"str", "string"}, recv: kAny, call: bStr},
	{names: []string{"toUpper"}, recv: kString, call: bToUpper},
	{names: []string{"toLower"}, recv: kString, call: bToLower},
	{names: []string{"toCharArray"}, recv: kString, call: bToCharArray},
	{names: []string{"split"}, recv: kString, params: []param{opt(kAny, nil), optInt(-1)}, call: bSplit},
	{names: []string{"startsWith"}, recv: kString, arity: atLeast(1), call: bStartsWith},
	{names: []string{"endsWith"}, recv: kString, arity: atLeast(1), call: bEndsWith},
	{names: []string{"trim"}, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(0)},
	{names: []string{"trimLeft"}, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(-1)},
	{names: []string{"trimRight"}, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(1)},
	{names: []string{"substring"}, recv: kString, params: []param{optInt(0), optInt(-1)}, call: bSubstring},
	// replace also applies to a regex and to a list, by the receiver.
	{names: []string{"replace"}, recv: kAny, call: bReplace},
	{names: []string{"format"}, recv: kString, kw: true, call: bFormat},
	// list.join(sep) and sep.join(list) are both yaql.
	{names: []string{"join"}, recv: kAny, arity: exactly(1), params: []param{val(kAny)}, call: bJoin},
}

func bStr(c *callCtx) (any, error) {
	s, err := c.ev.str(c.recv)
	if err != nil {
		return nil, err
	}
	return s, c.ev.checkStr(len(s), "str()")
}

func bToUpper(c *callCtx) (any, error) {
	s := c.recvString()
	return value.Upper(s), c.ev.checkStr(len(s), "toUpper()")
}

func bToLower(c *callCtx) (any, error) {
	s := c.recvString()
	return value.Lower(s), c.ev.checkStr(len(s), "toLower()")
}

func stringChars(c *callCtx, s string) ([]any, error) {
	out, err := c.newList(utf8.RuneCountInString(s))
	if err != nil {
		return nil, err
	}
	for _, r := range s {
		out = append(out, string(r))
	}
	return out, nil
}

func bToCharArray(c *callCtx) (any, error) {
	return stringChars(c, c.recvString())
}

// bSplit follows Python's str.split: without a separator it splits on runs
// of whitespace; maxSplits limits the number of cuts.
func bSplit(c *callCtx) (any, error) {
	s, sepV, maxSplit := c.recvString(), c.param(0), c.paramInt(1)
	var parts []string
	if sepV == nil {
		parts = strings.Fields(s)
		if maxSplit >= 0 && int64(len(parts)) > maxSplit+1 {
			// Re-split keeping the remainder intact, as Python does.
			rest := strings.TrimLeftFunc(s, unicode.IsSpace)
			parts = parts[:0]
			for i := int64(0); i < maxSplit; i++ {
				f := strings.IndexFunc(rest, unicode.IsSpace)
				parts = append(parts, rest[:f])
				rest = strings.TrimLeftFunc(rest[f:], unicode.IsSpace)
			}
			parts = append(parts, rest)
		}
	} else {
		sep, err := asString("split", sepV)
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, failf("split() separator must not be empty")
		}
		n := -1
		if maxSplit >= 0 {
			n = int(min(maxSplit, int64(len(s)))) + 1
		}
		parts = strings.SplitN(s, sep, n)
	}
	out, err := c.newList(len(parts))
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		out = append(out, p)
	}
	return out, nil
}

// affix is startsWith and endsWith: whether the receiver has any of the
// arguments as prefix (suffix).
func affix(c *callCtx, test func(s, p string) bool) (any, error) {
	for i := range c.args {
		p, err := c.strArg(i)
		if err != nil {
			return nil, err
		}
		if test(c.recvString(), p) {
			return true, nil
		}
	}
	return false, nil
}

func bStartsWith(c *callCtx) (any, error) { return affix(c, strings.HasPrefix) }
func bEndsWith(c *callCtx) (any, error)   { return affix(c, strings.HasSuffix) }

func bTrim(side int) builtin {
	return func(c *callCtx) (any, error) {
		s := c.recvString()
		cut := func(r rune) bool { return unicode.IsSpace(r) }
		if len(c.args) > 0 {
			chars := c.paramString(0)
			cut = func(r rune) bool { return strings.ContainsRune(chars, r) }
		}
		switch side {
		case -1:
			return strings.TrimLeftFunc(s, cut), nil
		case 1:
			return strings.TrimRightFunc(s, cut), nil
		}
		return strings.TrimFunc(s, cut), nil
	}
}

func bSubstring(c *callCtx) (any, error) {
	rs := []rune(c.recvString())
	start, length := c.paramInt(0), c.paramInt(1)
	if start < 0 {
		start += int64(len(rs))
	}
	st := clampRange(start, len(rs))
	end := int64(len(rs))
	if length >= 0 {
		end = int64(st) + length
	} else if len(c.args) > 1 {
		end = int64(len(rs)) + length + 1
	}
	e := clampRange(end, len(rs))
	if e < st {
		return "", nil
	}
	return string(rs[st:e]), nil
}

// bReplace covers string.replace(old, new[, count]),
// string.replace({old => new}[, count]), regex.replace(string, new) and
// list.replace(position, value[, count]).
func bReplace(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case string:
		return replaceString(c, x)
	case *regexValue:
		s, err := c.strArg(0)
		if err != nil {
			return nil, err
		}
		repl, err := c.strArg(1)
		if err != nil {
			return nil, err
		}
		out := x.re.ReplaceAllString(s, pythonGroupRefs(repl))
		return out, c.ev.checkStr(len(out), "replace()")
	case []any:
		pos, err := c.intArg(0, 0)
		if err != nil {
			return nil, err
		}
		nv, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		count, err := c.intArg(2, 1)
		if err != nil {
			return nil, err
		}
		start, end := span(pos, count, len(x))
		out := make([]any, 0, len(x))
		out = append(append(append(out, x[:start]...), nv), x[end:]...)
		return out, c.ev.charge(len(x))
	}
	return nil, failf("replace() expects a string or list, not a %s", value.TypeName(c.recv))
}

// pythonGroupRefs turns \1 in a Python replacement into Go's ${1}.
func pythonGroupRefs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
			continue
		}
		if s[i] == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// replaceCount is strings.Replace's n for a yaql count: negative for
// every occurrence, else at most one more than s has positions.
func replaceCount(count int64, s string) int {
	if count < 0 {
		return -1
	}
	return int(min(count, int64(len(s)+1)))
}

func replaceString(c *callCtx, s string) (any, error) {
	first, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	if m, ok := value.AsMap(first); ok {
		count, err := c.intArg(1, -1)
		if err != nil {
			return nil, err
		}
		for k, e := range m.All() {
			n := replaceCount(count, s)
			nw, err := c.ev.str(e)
			if err != nil {
				return nil, err
			}
			s = strings.Replace(s, k, nw, n)
			if err := c.ev.checkStr(len(s), "replace()"); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	old, err := asString("replace", first)
	if err != nil {
		return nil, err
	}
	nw, err := c.strArg(1)
	if err != nil {
		return nil, err
	}
	count, err := c.intArg(2, -1)
	if err != nil {
		return nil, err
	}
	n := replaceCount(count, s)
	hits := strings.Count(s, old)
	if n >= 0 && hits > n {
		hits = n
	}
	if err := c.ev.checkStr(len(s)+hits*(len(nw)-len(old)), "replace()"); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, nw, n), nil
}

// bJoin accepts both spellings YAQL allows: list.join(sep) and
// sep.join(list).
func bJoin(c *callCtx) (any, error) {
	list, sep := c.recv, c.param(0)
	if _, ok := list.(string); ok {
		list, sep = sep, list
	}
	l, err := asList("join", list)
	if err != nil {
		return nil, err
	}
	s, err := asString("join", sep)
	if err != nil {
		return nil, err
	}
	n := len(s) * len(l)
	parts := make([]string, len(l))
	for i, e := range l {
		if parts[i], err = c.ev.str(e); err != nil {
			return nil, err
		}
		n += len(parts[i])
		if err := c.ev.limitStr(n, "join()"); err != nil {
			return nil, err
		}
	}
	return strings.Join(parts, s), c.ev.charge(n / 64)
}

// bFormat implements Python's str.format for the forms workflows use:
// {} {0} {name}, {{ and }}, and the specs .Nf, d, s and widths.
func bFormat(c *callCtx) (any, error) {
	f := c.recvString()
	pos := make([]any, len(c.args))
	var err error
	for i := range c.args {
		if pos[i], err = c.arg(i); err != nil {
			return nil, err
		}
	}
	named := map[string]any{}
	for _, kw := range c.kw {
		if kw.name == "" {
			return nil, failf("format() keyword names must be words")
		}
		if named[kw.name], err = kw.val(c.ev, c.sc); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		ch := f[i]
		if ch == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if ch != '{' {
			b.WriteByte(ch)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, failf("format() string has an unclosed {")
		}
		field := f[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		v, err := formatField(name, pos, named, &auto)
		if err != nil {
			return nil, err
		}
		s, err := formatSpec(c.ev, v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
		if err := c.ev.limitStr(b.Len(), "format()"); err != nil {
			return nil, err
		}
	}
	return b.String(), c.ev.charge(b.Len() / 64)
}

// formatField is the value a {name} field refers to: the next positional
// argument for {}, argument N for {N}, else the named argument.
func formatField(name string, pos []any, named map[string]any, auto *int) (any, error) {
	switch {
	case name == "":
		if *auto >= len(pos) {
			return nil, failf("format() has more {} than arguments")
		}
		*auto++
		return pos[*auto-1], nil
	case name[0] >= '0' && name[0] <= '9':
		k, err := strconv.Atoi(name)
		if err != nil || k >= len(pos) {
			return nil, failf("format() has no argument %s", name)
		}
		return pos[k], nil
	}
	v, ok := named[name]
	if !ok {
		return nil, failf("format() has no argument named %s", name)
	}
	return v, nil
}

func formatSpec(ev *evaluator, v any, spec string) (string, error) {
	if spec == "" {
		return ev.display(v)
	}
	align := byte(0)
	if len(spec) > 0 && (spec[0] == '<' || spec[0] == '>' || spec[0] == '^') {
		align, spec = spec[0], spec[1:]
	}
	zero := strings.HasPrefix(spec, "0")
	i := 0
	for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
		i++
	}
	width, _ := strconv.Atoi(spec[:i])
	if width > 1000 {
		return "", failf("format() width %d is too large", width)
	}
	rest := spec[i:]
	var s string
	switch {
	case rest == "" || rest == "s" || rest == "d":
		if rest == "d" {
			if _, ok := v.(int64); !ok {
				return "", failf("format() spec d needs an integer, not a %s", value.TypeName(v))
			}
		}
		var err error
		if s, err = ev.display(v); err != nil {
			return "", err
		}
	case strings.HasPrefix(rest, ".") && strings.HasSuffix(rest, "f"):
		prec, err := strconv.Atoi(rest[1 : len(rest)-1])
		f, ok := toFloat(v)
		if err != nil || !ok || prec > 100 {
			return "", failf("format() cannot apply spec %q to a %s", spec, value.TypeName(v))
		}
		s = strconv.FormatFloat(f, 'f', prec, 64)
	default:
		return "", failf("format() spec %q is not supported", spec)
	}
	pad := width - utf8.RuneCountInString(s)
	if pad <= 0 {
		return s, nil
	}
	_, isNum := toFloat(v)
	switch {
	case zero && isNum && align == 0:
		if strings.HasPrefix(s, "-") {
			return "-" + strings.Repeat("0", pad) + s[1:], nil
		}
		return strings.Repeat("0", pad) + s, nil
	case align == '>' || (align == 0 && isNum):
		return strings.Repeat(" ", pad) + s, nil
	case align == '^':
		return strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2), nil
	}
	return s + strings.Repeat(" ", pad), nil
}
