package yaql

import (
	"regexp"

	"github.com/lazyflow/lazyflow/core/value"
)

// regexFuncs are yaql's regular expressions (standard_library/regex.py),
// on Go's RE2 syntax. matches, search and replaceBy take the regex and the
// string in either order: regex(p).matches(s) or s.matches(p).
var regexFuncs = []fn{
	{names: []string{"regex"}, recv: kString, call: bRegex},
	{names: []string{"matches"}, recv: kAny, params: []param{val(kAny)}, call: bMatches},
	{names: []string{"search"}, recv: kAny, params: []param{val(kAny)}, call: bSearch},
	// The count (argument 3) is read after the string and the regex are
	// checked, and the selector is evaluated per match.
	{names: []string{"replaceBy"}, recv: kAny, params: []param{val(kAny), lambda}, call: bReplaceBy},
}

func bRegex(c *callCtx) (any, error) {
	re, err := compileRegex(c.recvString())
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

// bSearch is regex(p).search(s): the first match, or null.
func bSearch(c *callCtx) (any, error) {
	_, isString := c.recv.(string)
	str, re, err := c.stringAndRegex(isString)
	if err != nil {
		return nil, err
	}
	loc := re.FindStringIndex(str)
	if loc == nil {
		return nil, nil
	}
	return str[loc[0]:loc[1]], nil
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
