package yaql

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

// regexFuncs are yaql's regular expressions (standard_library/regex.py),
// on Go's RE2 syntax. matches, search and replaceBy take the regex and the
// string in either order: regex(p).matches(s) or s.matches(p).
var regexFuncs = []fn{
	{names: []string{"regex"}, form: functionOf, recv: kString, named: []string{"ignoreCase", "multiLine", "dotAll"}, call: bRegex},
	{names: []string{"matches"}, form: method, recv: kAny, params: []param{val(kAny)}, call: bMatches},
	{names: []string{"search"}, form: method, recv: kAny, params: []param{val(kAny), lambda}, call: bSearch},
	{names: []string{"searchAll"}, form: method, recv: kAny, params: []param{val(kAny), lambda}, call: bSearchAll},
	{names: []string{"escapeRegex"}, form: functionOf, recv: kString, call: bEscapeRegex},
	{names: []string{"isRegex"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(*regexValue); return ok })},
	// The count (argument 3) is read after the string and the regex are
	// checked, and the selector is evaluated per match.
	{names: []string{"replaceBy"}, form: method, recv: kAny, params: []param{val(kAny), lambda}, call: bReplaceBy},
}

// bRegex is regex(pattern, ignoreCase => false, multiLine => false,
// dotAll => false).
func bRegex(c *callCtx) (any, error) {
	flags := ""
	for i, f := range []string{"i", "m", "s"} {
		v, err := c.argOr(i, false)
		if err != nil {
			return nil, err
		}
		if value.Truthy(v) {
			flags += f
		}
	}
	p := c.recvString()
	if flags != "" {
		p = "(?" + flags + ")" + p
	}
	re, err := compileRegex(p)
	if err != nil {
		return nil, err
	}
	c.ev.internal = true
	return &regexValue{re: re}, nil
}

// bMatches is regex(p).matches(s) or s.matches(p): true when p occurs in s
// (Python's re.search, which YAQL uses).
func bMatches(c *callCtx) (any, error) {
	if _, ok := c.recv.(*regexValue); ok {
		return regexMatch(c.ev, c.param(0), c.recv)
	}
	return regexMatch(c.ev, c.recv, c.param(0))
}

// stringAndRegex is the string and the regex of a call that takes them in
// either order; the receiver is the string when recvIsString.
func (c *callCtx) stringAndRegex(recvIsString bool) (string, *regexp.Regexp, error) {
	s, pattern := c.param(0), c.recv
	if recvIsString {
		s, pattern = c.recv, c.param(0)
	}
	str, err := asString(c.name, s)
	if err != nil {
		return "", nil, err
	}
	re, err := asRegex(pattern)
	if err != nil {
		return "", nil, err
	}
	return str, re, nil
}

// bSearch is regex(p).search(s[, selector]): the first match, or null;
// the selector sees the match as $ ({value, start, end}) and its groups as
// $2, $3, ...
func bSearch(c *callCtx) (any, error) {
	str, re, err := c.searchArgs()
	if err != nil {
		return nil, err
	}
	loc := re.FindStringSubmatchIndex(str)
	if loc == nil {
		return nil, nil
	}
	return c.matchValue(str, loc)
}

// searchArgs is the string and the regex of search and searchAll, in
// either order, the search paid for.
func (c *callCtx) searchArgs() (string, *regexp.Regexp, error) {
	_, isString := c.recv.(string)
	str, re, err := c.stringAndRegex(isString)
	if err != nil {
		return "", nil, err
	}
	return str, re, c.ev.charge(len(str) / 16)
}

// bSearchAll is regex(p).searchAll(s[, selector]): every match.
func bSearchAll(c *callCtx) (any, error) {
	str, re, err := c.searchArgs()
	if err != nil {
		return nil, err
	}
	locs := re.FindAllStringSubmatchIndex(str, -1)
	out, err := c.newList(len(locs))
	if err != nil {
		return nil, err
	}
	for _, loc := range locs {
		v, err := c.matchValue(str, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// matchValue is the matched text, or the selector (argument 1) evaluated
// with $ and $1 the match and $2... its groups, as yaql publishes them.
func (c *callCtx) matchValue(str string, loc []int) (any, error) {
	if len(c.args) < 2 {
		return str[loc[0]:loc[1]], nil
	}
	recs := make([]any, 0, len(loc)/2)
	for i := 0; i+1 < len(loc); i += 2 {
		if loc[i] < 0 {
			recs = append(recs, value.MapFromPairs("value", nil, "start", int64(-1), "end", int64(-1)))
			continue
		}
		recs = append(recs, value.MapFromPairs("value", str[loc[i]:loc[i+1]], "start", int64(runeOffset(str, loc[i])), "end", int64(runeOffset(str, loc[i+1]))))
	}
	if err := c.ev.tick(); err != nil {
		return nil, err
	}
	c.child.parent = c.sc
	c.child.vars = nil
	c.child.data = recs[0]
	c.child.args = recs
	return c.args[1](c.ev, &c.child)
}

// runeOffset is Python's index of byte offset i of s.
func runeOffset(s string, i int) int {
	return utf8.RuneCountInString(s[:i])
}

// replaceRegex is regex.replace(string, repl, count => 0) or
// string.replace(regex, repl, count => 0): Python's re.sub, where a count
// of 0 replaces every match.
func replaceRegex(c *callCtx, re *regexp.Regexp, s string) (any, error) {
	repl, err := c.strArg(1)
	if err != nil {
		return nil, err
	}
	countV, err := c.option(2, int64(0), "count")
	if err != nil {
		return nil, err
	}
	count, err := asInt(c.name, countV)
	if err != nil {
		return nil, err
	}
	if err := c.ev.charge(len(s) / 16); err != nil {
		return nil, err
	}
	tmpl := pythonGroupRefs(repl)
	var out []byte
	last := 0
	for n, loc := range re.FindAllStringSubmatchIndex(s, -1) {
		if count > 0 && int64(n) >= count {
			break
		}
		out = append(out, s[last:loc[0]]...)
		out = re.ExpandString(out, tmpl, s, loc)
		last = loc[1]
		if err := c.ev.limitStr(len(out), "replace()"); err != nil {
			return nil, err
		}
	}
	out = append(out, s[last:]...)
	return string(out), c.ev.checkStr(len(out), "replace()")
}

// bEscapeRegex is Python's re.escape.
func bEscapeRegex(c *callCtx) (any, error) {
	s := c.recvString()
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String(), c.ev.checkStr(b.Len(), "escapeRegex()")
}

// bReplaceBy is yaql's string.replaceBy(regex, selector[, count]) (or
// regex.replaceBy(string, ...)): each match is replaced by the selector's
// value, evaluated with the match as $ ({value, start, end}).
func bReplaceBy(c *callCtx) (any, error) {
	_, isRegex := c.recv.(*regexValue)
	str, re, err := c.stringAndRegex(!isRegex)
	if err != nil {
		return nil, err
	}
	count, err := c.intArg(2, 0)
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		count = -1 // yaql: 0, the default, replaces every match
	}
	var out []byte
	last, n := 0, int64(0)
	for _, loc := range re.FindAllStringIndex(str, -1) {
		if count >= 0 && n >= count {
			break
		}
		r, err := c.lambda(1, value.MapFromPairs("value", str[loc[0]:loc[1]], "start", int64(loc[0]), "end", int64(loc[1])))
		if err != nil {
			return nil, err
		}
		rs, err := asString("replaceBy", r)
		if err != nil {
			return nil, err
		}
		out = append(append(out, str[last:loc[0]]...), rs...)
		last = loc[1]
		n++
		if err := c.ev.checkStr(len(out), "replaceBy()"); err != nil {
			return nil, err
		}
	}
	return string(append(out, str[last:]...)), nil
}
