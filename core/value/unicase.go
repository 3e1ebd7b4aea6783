package value

import (
	"strings"
	"unicode"
)

// Upper and Lower change case as Python's str.upper() and str.lower() do,
// which Mistral's YAQL and Jinja use: the full mappings of Unicode's
// SpecialCasing.txt (ß becomes SS, ﬁ becomes FI) and, in Lower, the final
// sigma (Σ at the end of a word becomes ς). Go's strings.ToUpper maps each
// rune to one rune only.

// upperSpecial are SpecialCasing.txt's unconditional upper-case mappings to
// more than one rune.
var upperSpecial = map[rune]string{
	'ß': "SS", 'ŉ': "ʼN", 'ǰ': "J̌", 'ΐ': "Ϊ́", 'ΰ': "Ϋ́", 'և': "ԵՒ", 'ẖ': "H̱", 'ẗ': "T̈",
	'ẘ': "W̊", 'ẙ': "Y̊", 'ẚ': "Aʾ", 'ﬀ': "FF", 'ﬁ': "FI", 'ﬂ': "FL", 'ﬃ': "FFI", 'ﬄ': "FFL",
	'ﬅ': "ST", 'ﬆ': "ST", 'ﬓ': "ՄՆ", 'ﬔ': "ՄԵ", 'ﬕ': "ՄԻ", 'ﬖ': "ՎՆ", 'ﬗ': "ՄԽ",
}

// Upper is Python's str.upper().
func Upper(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { _, ok := upperSpecial[r]; return ok }) {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		if m, ok := upperSpecial[r]; ok {
			b.WriteString(m)
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Lower is Python's str.lower(), final sigma and İ (i with a combining dot)
// included.
func Lower(s string) string {
	if !strings.ContainsAny(s, "Σİ") {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 'İ':
			b.WriteString("i̇")
		case r == 'Σ' && FinalSigma(rs, i):
			b.WriteRune('ς')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// FinalSigma is Unicode's Final_Sigma condition, as Python applies it: a
// cased letter before (case-ignorable runes skipped) and none after.
func FinalSigma(rs []rune, i int) bool {
	before := false
	for j := i - 1; j >= 0; j-- {
		if caseIgnorable(rs[j]) {
			continue
		}
		before = unicode.IsUpper(rs[j]) || unicode.IsLower(rs[j]) || unicode.IsTitle(rs[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(rs); j++ {
		if caseIgnorable(rs[j]) {
			continue
		}
		return !(unicode.IsUpper(rs[j]) || unicode.IsLower(rs[j]) || unicode.IsTitle(rs[j]))
	}
	return true
}

func caseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) || r == '\'' || r == '.' || r == ':' || r == '·'
}
