package expr

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// Python's printf-style formatting, which Mistral's Jinja (Python) has and
// gonja does not: 'x=%s' % v, '%s-%d' % (a, b), and the format filter.
// Conversions: s r d i f F e E g G x X o c %, with flags, width and
// precision.
func pyFormat(format string, args []any) (string, error) {
	return pyFormatArgs(format, args, false)
}

// pyFormatArgs formats args; with mapping, the one argument is a mapping
// (in Python, any argument but a tuple or a string that has __getitem__: a
// dict or a list), which need not be used up ('abc' % [1] is 'abc').
func pyFormatArgs(format string, args []any, mapping bool) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		key, keyed := "", false
		if j < len(format) && format[j] == '(' {
			end := strings.IndexByte(format[j:], ')')
			if end < 0 {
				return "", errors.New("incomplete format key")
			}
			key, keyed = format[j+1:j+end], true
			j += end + 1
		}
		specStart := j
		for j < len(format) && strings.IndexByte("#0- +", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		if j >= len(format) {
			return "", errors.New("incomplete format")
		}
		spec, conv := format[specStart:j], format[j]
		i = j
		for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r < '0' || r > '9' }) {
			if n, err := strconv.Atoi(part); err != nil || n > maxFormatWidth {
				return "", fmt.Errorf("width or precision %s is over %d", part, maxFormatWidth)
			}
		}
		if conv == '%' {
			b.WriteByte('%')
			continue
		}
		a, err := formatArg(args, &next, key, keyed)
		if err != nil {
			return "", err
		}
		switch conv {
		case 's', 'r':
			s := value.String(a)
			if conv == 'r' {
				if str, ok := a.(string); ok {
					s = "'" + str + "'"
				}
			}
			fmt.Fprintf(&b, "%"+spec+"s", s)
		case 'd', 'i':
			n, err := intArg(a)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%"+spec+"d", n) // big.Int formats d with Go's flags, as for int64
		case 'f', 'F', 'e', 'E', 'g', 'G':
			f, err := toFloat(a)
			if err != nil {
				return "", err
			}
			if !strings.Contains(spec, ".") {
				spec += ".6" // Python's default precision, for g too
			}
			fmt.Fprintf(&b, "%"+spec+string(conv), f)
		case 'x', 'X', 'o':
			// Python's int has no size, so an integer past int64 formats too.
			n, err := intArg(a)
			if err != nil {
				return "", err
			}
			if strings.Contains(spec, "#") {
				// Python's alternate octal form is 0o, Go's is 0, and Go
				// counts a zero-padded width without the 0x, so the flags,
				// width and precision are applied here.
				b.WriteString(altForm(spec, conv, n))
				break
			}
			fmt.Fprintf(&b, "%"+spec+string(conv), n)
		case 'c':
			n, err := intArg(a)
			if err != nil {
				return "", err
			}
			if n.Sign() < 0 || n.Cmp(big.NewInt(unicode.MaxRune)) > 0 {
				return "", errors.New("%c arg not in range(0x110000)")
			}
			b.WriteRune(rune(n.Int64()))
		default:
			return "", fmt.Errorf("unsupported format character %q", conv)
		}
	}
	if !mapping && next >= 0 && next < len(args) {
		return "", errors.New("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// formatArg is the value a conversion formats: the next argument, or with a
// %(key) the key's value in the one dict argument (next becomes -1: a
// mapping need not be used up).
func formatArg(args []any, next *int, key string, keyed bool) (any, error) {
	if keyed {
		var m *value.Map
		ok := false
		if len(args) == 1 {
			m, ok = value.AsMap(args[0])
		}
		if !ok {
			return nil, errors.New("format requires a mapping")
		}
		v, found := m.Get(key)
		if !found {
			return nil, fmt.Errorf("KeyError: %s", value.PyQuote(key))
		}
		*next = -1
		return v, nil
	}
	if *next < 0 || *next >= len(args) {
		return nil, errors.New("not enough arguments for format string")
	}
	*next++
	return args[*next-1], nil
}

// altForm is Python's '%#o', '%#x' and '%#X': sign, then 0o/0x/0X, then the
// digits zero-padded to
// the precision; the width pads with spaces on the left, on the right for
// '-', or with zeros between 0o and the digits for '0' (even with a
// precision, unlike C).
func altForm(spec string, conv byte, n *big.Int) string {
	flags := strings.TrimRight(spec, "0123456789.")
	for len(flags) < len(spec) && spec[len(flags)] == '0' {
		flags = spec[:len(flags)+1] // a 0 right after the flags is the zero flag
	}
	width, prec := 0, 0
	if w, p, hasPrec := strings.Cut(spec[len(flags):], "."); hasPrec {
		width, _ = strconv.Atoi(w)
		prec, _ = strconv.Atoi(p)
	} else {
		width, _ = strconv.Atoi(w)
	}
	sign, mag := "", new(big.Int).Abs(n)
	switch {
	case n.Sign() < 0:
		sign = "-"
	case strings.Contains(flags, "+"):
		sign = "+"
	case strings.Contains(flags, " "):
		sign = " "
	}
	prefix, digits := "0o", mag.Text(8)
	switch conv {
	case 'x':
		prefix, digits = "0x", mag.Text(16)
	case 'X':
		prefix, digits = "0X", strings.ToUpper(mag.Text(16))
	}
	if len(digits) < prec {
		digits = strings.Repeat("0", prec-len(digits)) + digits
	}
	pad := width - len(sign) - len(prefix) - len(digits)
	switch {
	case pad <= 0:
		return sign + prefix + digits
	case strings.Contains(flags, "-"):
		return sign + prefix + digits + strings.Repeat(" ", pad)
	case strings.Contains(flags, "0"):
		return sign + prefix + strings.Repeat("0", pad) + digits
	}
	return strings.Repeat(" ", pad) + sign + prefix + digits
}

// maxFormatWidth bounds widths and precisions, which would otherwise let
// a short expression build a huge string.
const maxFormatWidth = 1000

// intArg is an integer conversion's argument as Python's unbounded int.
func intArg(a any) (*big.Int, error) {
	if z, ok := a.(*big.Int); ok {
		return z, nil
	}
	n, err := toInt(a)
	if err != nil {
		return nil, err
	}
	return big.NewInt(n), nil
}

func toInt(a any) (int64, error) {
	switch x := a.(type) {
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%%d format: a number is required, not %s", value.TypeName(a))
}

func toFloat(a any) (float64, error) {
	switch x := a.(type) {
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case *big.Int:
		if f, ok := value.BigFloat(x); ok {
			return f, nil
		}
		return 0, errIntToFloat
	}
	return 0, fmt.Errorf("float format: a number is required, not %s", value.TypeName(a))
}

// modOrFormat is Jinja's %: string formatting when the left side is a
// string (a list on the right gives several arguments), else gonja's %.
func modOrFormat(l, r *exec.Value) (*exec.Value, bool) {
	if !l.IsString() {
		return nil, false
	}
	var args []any
	mapping := false
	if t, ok := r.Interface().(pyTuple); ok {
		args = t
	} else {
		rv, err := fromGonja(r)
		if err != nil {
			return errValue(err), true
		}
		args = []any{rv}
		switch rv.(type) {
		case []any, *value.Map:
			mapping = true
		}
	}
	s, err := pyFormatArgs(l.String(), args, mapping)
	if err != nil {
		return errValue(fmt.Errorf("%% formatting: %w", err)), true
	}
	return exec.AsValue(s), true
}

// pyTuple is a tuple literal on the right of %, which formats its items
// ('%s-%s' % (1, 2)); gonja makes tuples lists, and a list is one argument
// ('%s' % [1, 2] is '[1, 2]').
type pyTuple []any

// tupleName is what such a tuple literal compiles to.
const tupleName = "__lf_tuple"

func tupleFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	t := make(pyTuple, len(params.Args))
	for i, a := range params.Args {
		v, err := fromGonja(a)
		if err != nil {
			return errValue(err)
		}
		t[i] = v
	}
	return exec.AsValue(t)
}

// formatFilter is Jinja's format filter: '%s-%s' | format(a, b).
func formatFilter(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	var args []any
	if params != nil {
		for _, p := range params.Args {
			v, err := fromGonja(p)
			if err != nil {
				return errValue(err)
			}
			args = append(args, v)
		}
		if len(params.KwArgs) > 0 {
			// Jinja2 formats with the keyword arguments as one mapping.
			if len(args) > 0 {
				return errValue(errors.New("format: can't handle positional and keyword arguments at the same time"))
			}
			m := map[string]any{}
			for k, p := range params.KwArgs {
				v, err := fromGonja(p)
				if err != nil {
					return errValue(err)
				}
				m[k] = v
			}
			args = []any{m}
		}
	}
	s, err := pyFormat(in.String(), args)
	if err != nil {
		return errValue(fmt.Errorf("format: %w", err))
	}
	return exec.AsValue(s)
}

// reverseFilter is Jinja's reverse: the list, string or dict keys backwards.
// gonja's sorted instead.
func reverseFilter(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[len(x)-1-i] = e
		}
		return exec.AsValue(out)
	case *value.Map, map[string]any:
		// A dict reverses its keys, as Python's reversed() of a dict does.
		keys, err := pyItems(in)
		if err != nil {
			return errValue(err)
		}
		slices.Reverse(keys)
		return exec.AsValue(keys)
	case string:
		r := []rune(x)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return exec.AsValue(string(r))
	}
	return errValue(fmt.Errorf("reverse needs a list or a string, not %s", value.TypeName(v)))
}

// repeatList is list * n (either order), which gonja leaves at 0.
func repeatList(l, r *exec.Value) (*exec.Value, bool) {
	// A bool counts as 0 or 1, as in Python: False * [1] is [].
	if r.IsList() && (l.IsInteger() || l.IsBool()) {
		l, r = r, l
	}
	if !l.IsList() || !(r.IsInteger() || r.IsBool()) {
		return nil, false
	}
	count, _, _, _ := pyNum(r)
	v, err := fromGonja(l)
	if err != nil {
		return errValue(err), true
	}
	list, _ := v.([]any)
	var out []any
	for i := int64(0); i < count; i++ {
		out = append(out, list...)
	}
	if out == nil {
		out = []any{}
	}
	return exec.AsValue(out), true
}
