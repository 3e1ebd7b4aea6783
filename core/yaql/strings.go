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
	{names: []string{"str", "string"}, form: functionOf, recv: kAny, setRecv: true, call: bStr},
	{names: []string{"toUpper"}, form: method, recv: kString, call: bToUpper},
	{names: []string{"toLower"}, form: method, recv: kString, call: bToLower},
	{names: []string{"toCharArray"}, form: method, recv: kString, call: bToCharArray},
	{names: []string{"split"}, form: method, recv: kAny, named: []string{"separator", "maxSplits"}, kw: true, call: bSplit},
	{names: []string{"rightSplit"}, form: method, recv: kString, named: []string{"separator", "maxSplits"}, params: []param{opt(kAny, nil), optInt(-1)}, call: bRightSplit},
	{names: []string{"norm"}, recv: kAny, params: []param{opt(kAny, nil)}, call: bNorm},
	{names: []string{"hex"}, form: functionOf, recv: kAny, call: bHex},
	{names: []string{"startsWith"}, form: method, recv: kString, arity: atLeast(1), call: bStartsWith},
	{names: []string{"endsWith"}, form: method, recv: kString, arity: atLeast(1), call: bEndsWith},
	{names: []string{"trim"}, form: method, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(0)},
	{names: []string{"trimLeft"}, form: method, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(-1)},
	{names: []string{"trimRight"}, form: method, recv: kString, params: []param{opt(kString, nil)}, call: bTrim(1)},
	{names: []string{"substring"}, form: method, recv: kString, params: []param{optInt(0), optInt(-1)}, call: bSubstring},
	// replace also applies to a regex and to a list, by the receiver.
	{names: []string{"replace"}, form: method, recv: kAny, kw: true, call: bReplace},
	// list.join(sep) and sep.join(list) are both yaql.
	{names: []string{"join"}, form: method, recv: kAny, arity: between(1, 3), params: []param{val(kAny), lambda, lambda}, call: bJoin},
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
// of whitespace; maxSplits limits the number of cuts. With a regex (as the
// receiver or the separator) it is Python's re.split.
func bSplit(c *callCtx) (any, error) {
	if _, ok := c.recv.(*regexValue); ok {
		return splitRegex(c, false)
	}
	s, err := asString(c.name, c.recv)
	if err != nil {
		return nil, err
	}
	sepV, err := c.argOr(0, nil)
	if err != nil {
		return nil, err
	}
	if _, ok := sepV.(*regexValue); ok {
		return splitRegex(c, true)
	}
	maxV, err := c.argOr(1, nil)
	if err != nil {
		return nil, err
	}
	maxSplit := int64(-1)
	if maxV != nil {
		if maxSplit, err = asInt(c.name, maxV); err != nil {
			return nil, err
		}
	}
	parts, err := splitString(s, sepV, maxSplit)
	if err != nil {
		return nil, err
	}
	return c.stringList(parts)
}

// bRightSplit is Python's str.rsplit.
func bRightSplit(c *callCtx) (any, error) {
	s, sepV, maxSplit := c.recvString(), c.param(0), c.paramInt(1)
	rs := reverseString(s)
	var rsep any
	if sepV != nil {
		sep, err := asString(c.name, sepV)
		if err != nil {
			return nil, err
		}
		rsep = reverseString(sep)
	}
	parts, err := splitString(rs, rsep, maxSplit)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	for i := range parts {
		parts[i] = reverseString(parts[i])
	}
	return c.stringList(parts)
}

func reverseString(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

// splitRegex is regex.split(string, maxSplit => n) or
// string.split(regex, maxSplit => n): Python's re.split, where a maxSplit
// of 0 (the default) splits at every match.
func splitRegex(c *callCtx, recvIsString bool) (any, error) {
	var s, pattern any = c.recv, nil
	var err error
	if pattern, err = c.arg(0); err != nil {
		return nil, err
	}
	if !recvIsString {
		s, pattern = pattern, c.recv
	}
	str, err := asString(c.name, s)
	if err != nil {
		return nil, err
	}
	re := pattern.(*regexValue).re
	maxV, err := c.option(1, int64(0), "maxSplit", "maxSplits")
	if err != nil {
		return nil, err
	}
	max, err := asInt(c.name, maxV)
	if err != nil {
		return nil, err
	}
	if err := c.ev.charge(len(str) / 16); err != nil {
		return nil, err
	}
	n := -1
	if max > 0 {
		n = int(min(max, int64(len(str)))) + 1
	}
	return c.stringList(re.Split(str, n))
}

func (c *callCtx) stringList(parts []string) (any, error) {
	out, err := c.newList(len(parts))
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		out = append(out, p)
	}
	return out, nil
}

func splitString(s string, sepV any, maxSplit int64) ([]string, error) {
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
	return parts, nil
}

// bNorm is string.norm(chars => null): the string trimmed, or null when
// nothing is left.
func bNorm(c *callCtx) (any, error) {
	if c.recv == nil {
		return nil, nil
	}
	s, err := asString(c.name, c.recv)
	if err != nil {
		return nil, err
	}
	if cv := c.param(0); cv != nil {
		chars, err := asString(c.name, cv)
		if err != nil {
			return nil, err
		}
		s = strings.Trim(s, chars)
	} else {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}

// bHex is Python's hex() of an integer.
func bHex(c *callCtx) (any, error) {
	n, ok := c.recv.(int64)
	if !ok {
		return nil, failf("hex() expects an integer, not a %s", value.TypeName(c.recv))
	}
	if n < 0 {
		return "-0x" + strconv.FormatUint(uint64(-n), 16), nil
	}
	return "0x" + strconv.FormatInt(n, 16), nil
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
	case dateTime:
		return replaceDatetime(c, x)
	case *regexValue:
		s, err := c.strArg(0)
		if err != nil {
			return nil, err
		}
		return replaceRegex(c, x.re, s)
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
	if r, ok := first.(*regexValue); ok {
		return replaceRegex(c, r.re, s)
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
	if len(c.args) > 1 {
		return joinLists(c)
	}
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

// joinLists is yaql's list.join(other, predicate, selector): the selector
// ($1 from the list, $2 from other) of every pair the predicate holds for.
func joinLists(c *callCtx) (any, error) {
	if len(c.args) != 3 {
		return nil, failf("join() of two lists takes the other list, a predicate and a selector")
	}
	l, err := asList(c.name, c.recv)
	if err != nil {
		return nil, err
	}
	other, err := asList(c.name, c.param(0))
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, a := range l {
		for _, b := range other {
			ok, err := c.lambda2(1, a, b)
			if err != nil {
				return nil, err
			}
			if !value.Truthy(ok) {
				continue
			}
			v, err := c.lambda2(2, a, b)
			if err != nil {
				return nil, err
			}
			if err := c.ev.limitList(len(out)+1, "join()"); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}
