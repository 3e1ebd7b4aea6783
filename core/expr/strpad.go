package expr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// Python's padding and stripping string methods, which gonja lacks or
// gets wrong (lstrip and rstrip required their optional argument). Widths
// count code points, and a width beyond the output limit is refused before
// anything is allocated.
var strPadMethods = map[string]exec.Method[string]{
	"center":     func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return pad(s, a, "center") },
	"ljust":      func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return pad(s, a, "ljust") },
	"rjust":      func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return pad(s, a, "rjust") },
	"zfill":      zfill,
	"expandtabs": expandTabs,
	"strip":      func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return strip(s, a, "strip", true, true) },
	"lstrip":     func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return strip(s, a, "lstrip", true, false) },
	"rstrip":     func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return strip(s, a, "rstrip", false, true) },
	"index":      func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return indexRunes(s, a, false) },
	"rindex":     func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return indexRunes(s, a, true) },
	"endswith":   func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) { return affix(s, a, "endswith") },
	"startswith": func(s string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		return affix(s, a, "startswith")
	},
}

// indexRunes is str.index and str.rindex: find, failing when absent.
func indexRunes(s string, a *exec.VarArgs, last bool) (any, error) {
	i, err := findRunes(s, a, last)
	if err == nil && i == -1 {
		return nil, errors.New("substring not found")
	}
	return i, err
}

// affix is str.startswith and str.endswith(affix[, start[, end]]): the
// affix may be a tuple (a list here) of strings.
func affix(s string, a *exec.VarArgs, name string) (any, error) {
	if len(a.Args) < 1 || len(a.Args) > 3 {
		return nil, fmt.Errorf("%s takes one to three arguments", name)
	}
	rs := []rune(s)
	start, end, err := runeRange(a.Args[1:], len(rs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sub := string(rs[start:end])
	var cands []string
	v, err := fromGonja(a.Args[0])
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		cands = []string{x}
	case []any:
		for _, c := range x {
			cs, ok := c.(string)
			if !ok {
				return nil, fmt.Errorf("tuple for %s must only contain str, not %s", name, plainType(c))
			}
			cands = append(cands, cs)
		}
	default:
		return nil, fmt.Errorf("%s first arg must be str or a tuple of str, not %s", name, plainType(v))
	}
	for _, c := range cands {
		if name == "endswith" && strings.HasSuffix(sub, c) || name == "startswith" && strings.HasPrefix(sub, c) {
			return true, nil
		}
	}
	return false, nil
}

// listMethods are Python's list.index and list.count, by ==.
var listMethods = map[string]exec.Method[[]any]{
	"count": func(l []any, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("count() takes exactly one argument")
		}
		x, err := fromGonja(a.Args[0])
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range l {
			if value.Equal(e, x) {
				n++
			}
		}
		return n, nil
	},
	"index": func(l []any, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 1 || len(a.Args) > 3 {
			return nil, errors.New("index(value[, start[, stop]]) takes one to three arguments")
		}
		x, err := fromGonja(a.Args[0])
		if err != nil {
			return nil, err
		}
		start, end, err := runeRange(a.Args[1:], len(l))
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		for i := start; i < end; i++ {
			if value.Equal(l[i], x) {
				return i, nil
			}
		}
		return nil, fmt.Errorf("%s is not in list", pyStr(x))
	},
}

// widthArg reads a method's integer width argument, refusing one beyond
// the output limit.
func widthArg(name string, v *exec.Value) (int, error) {
	n, _, isFloat, ok := pyNum(v)
	if !ok || isFloat {
		return 0, fmt.Errorf("%s: %s object cannot be interpreted as an integer", name, pyType(v))
	}
	if n > int64(DefaultLimits.MaxOutput) {
		return 0, fmt.Errorf("%w: %s width %d is larger than %d", ErrLimit, name, n, DefaultLimits.MaxOutput)
	}
	return int(n), nil
}

// pad is str.center, str.ljust and str.rjust(width[, fillchar]).
func pad(s string, a *exec.VarArgs, how string) (any, error) {
	if len(a.Args) < 1 || len(a.Args) > 2 {
		return nil, fmt.Errorf("%s(width[, fillchar]) takes one or two arguments", how)
	}
	width, err := widthArg(how, a.Args[0])
	if err != nil {
		return nil, err
	}
	fill := " "
	if len(a.Args) == 2 {
		if !a.Args[1].IsString() || utf8.RuneCountInString(a.Args[1].String()) != 1 {
			return nil, fmt.Errorf("%s: the fill character must be exactly one character long", how)
		}
		fill = a.Args[1].String()
	}
	marg := width - utf8.RuneCountInString(s)
	if marg <= 0 {
		return s, nil
	}
	left := 0
	switch how {
	case "rjust":
		left = marg
	case "center":
		// CPython's rounding: the odd spare character goes left when the width is odd.
		left = marg/2 + (marg & width & 1)
	}
	return strings.Repeat(fill, left) + s + strings.Repeat(fill, marg-left), nil
}

// zfill is str.zfill(width): zeros on the left, after a leading sign.
func zfill(s string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	if len(a.Args) != 1 {
		return nil, errors.New("zfill(width) takes one argument")
	}
	width, err := widthArg("zfill", a.Args[0])
	if err != nil {
		return nil, err
	}
	marg := width - utf8.RuneCountInString(s)
	if marg <= 0 {
		return s, nil
	}
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	return sign + strings.Repeat("0", marg) + s, nil
}

// expandTabs is str.expandtabs(tabsize=8): each tab up to the next
// multiple of tabsize, columns counted from the last line break.
func expandTabs(s string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	size := 8
	if len(a.Args) > 1 {
		return nil, errors.New("expandtabs([tabsize]) takes at most one argument")
	}
	if len(a.Args) == 1 {
		n, err := widthArg("expandtabs", a.Args[0])
		if err != nil {
			return nil, err
		}
		size = n
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			if size > 0 {
				n := size - col%size
				if b.Len()+n > DefaultLimits.MaxOutput {
					return nil, fmt.Errorf("%w: expandtabs result is longer than %d bytes", ErrLimit, DefaultLimits.MaxOutput)
				}
				b.WriteString(strings.Repeat(" ", n))
				col += n
			}
		case '\n', '\r':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String(), nil
}

// strip is str.strip, lstrip and rstrip([chars]): without chars (or with
// None) Python's whitespace goes.
func strip(s string, a *exec.VarArgs, name string, left, right bool) (any, error) {
	if len(a.Args) > 1 {
		return nil, fmt.Errorf("%s([chars]) takes at most one argument", name)
	}
	cut := func(r rune) bool { return pyIsSpace(r) }
	if len(a.Args) == 1 && !a.Args[0].IsNil() {
		if !a.Args[0].IsString() {
			return nil, fmt.Errorf("%s arg must be None or str", name)
		}
		chars := a.Args[0].String()
		cut = func(r rune) bool { return strings.ContainsRune(chars, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, cut)
	}
	if right {
		s = strings.TrimRightFunc(s, cut)
	}
	return s, nil
}

// pyIsSpace is Python's str.isspace for one character: Unicode whitespace
// plus the separators \x1c-\x1f that Go's unicode.IsSpace leaves out.
func pyIsSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
