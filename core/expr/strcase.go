package expr

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// Python's case methods with full Unicode mappings: a titlecase letter (ǅ)
// is neither upper nor lower case, ß upper-cases to SS and title-cases to
// Ss, and a word-final Σ lower-cases to ς.
var strCaseMethods = map[string]exec.Method[string]{
	"capitalize": func(s string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return pyCapitalize(s), nil },
	"title":      func(s string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return pyTitle(s), nil },
	"swapcase":   func(s string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return pySwapcase(s), nil },
	"islower":    func(s string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return pyIsLower(s), nil },
	"isupper":    func(s string, _ *exec.Value, _ *exec.VarArgs) (any, error) { return pyIsUpper(s), nil },
}

func isCased(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }

// lowerAt is Python's lower-casing of rs[i] in its string.
func lowerAt(rs []rune, i int) string {
	if rs[i] == 'Σ' {
		if value.FinalSigma(rs, i) {
			return "ς"
		}
		return "σ"
	}
	return value.Lower(string(rs[i]))
}

// titleOf is a character's full titlecase mapping: its upper-case mapping
// with all but the first character lowered (ß is Ss, ﬁ is Fi).
func titleOf(r rune) string {
	if t := unicode.ToTitle(r); t != unicode.ToUpper(r) {
		return string(t)
	}
	up := []rune(value.Upper(string(r)))
	return string(up[0]) + value.Lower(string(up[1:]))
}

// pyCapitalize is str.capitalize: the first character title-cased, the
// rest lowered.
func pyCapitalize(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := range rs {
		if i == 0 {
			b.WriteString(titleOf(rs[0]))
		} else {
			b.WriteString(lowerAt(rs, i))
		}
	}
	return b.String()
}

// pyTitle is str.title: a cased character after another is lowered, any
// other is title-cased.
func pyTitle(s string) string {
	rs := []rune(s)
	var b strings.Builder
	prevCased := false
	for i, r := range rs {
		if prevCased {
			b.WriteString(lowerAt(rs, i))
		} else {
			b.WriteString(titleOf(r))
		}
		prevCased = isCased(r)
	}
	return b.String()
}

// pySwapcase is str.swapcase: upper case lowered, lower case raised,
// titlecase and uncased characters kept.
func pySwapcase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			b.WriteString(lowerAt(rs, i))
		case unicode.IsLower(r):
			b.WriteString(value.Upper(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wordStartRe is Jinja2's _word_beginning_split_re: a word starts after
// these, so in "{'a': 1}" the word is "'a':" and its quote is what is
// upper-cased.
var wordStartRe = regexp.MustCompile(`[-\s({\[<]+`)

// titleFilter is Jinja2's title filter (not str.title): each word's first
// character upper-cased, the rest lowered.
func titleFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	s := in.String()
	var b strings.Builder
	word := func(w string) {
		if w == "" {
			return
		}
		rs := []rune(w)
		b.WriteString(value.Upper(string(rs[0])))
		b.WriteString(value.Lower(string(rs[1:])))
	}
	last := 0
	for _, m := range wordStartRe.FindAllStringIndex(s, -1) {
		word(s[last:m[0]])
		word(s[m[0]:m[1]])
		last = m[1]
	}
	word(s[last:])
	return exec.AsValue(b.String())
}

// capitalizeFilter is Jinja2's capitalize filter, str.capitalize of its
// text ('ß'|capitalize is 'Ss'; gonja's upper-cased one byte).
func capitalizeFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	return exec.AsValue(pyCapitalize(in.String()))
}
