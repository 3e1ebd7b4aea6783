package yaql

import (
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
)

func typeErr(op string, a, b any) error {
	return failf("cannot apply %s to %s and %s", op, value.TypeName(a), value.TypeName(b))
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case *big.Int:
		// Past float64's range this is ±Inf, which the caller's result
		// check reports as out of range (Python's OverflowError).
		f, _ := value.BigFloat(x)
		return f, true
	}
	return 0, false
}

func opAdd(ev *evaluator, a, b any) (any, error) {
	if r, ok, err := intArith(a, b, (*big.Int).Add); ok {
		return r, err
	}
	if x, ok := a.(*pySet); ok {
		if y, ok := b.(*pySet); ok {
			return ev.newSet(append(x.list(), y.list()...))
		}
	}
	a, _ = ev.eager(a)
	b, _ = ev.eager(b)
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			s := x + y
			if (s > x) != (y > 0) {
				return bigArith(x, y, (*big.Int).Add)
			}
			return s, nil
		}
	case string:
		if y, ok := b.(string); ok {
			if err := ev.checkStr(len(x)+len(y), "+"); err != nil {
				return nil, err
			}
			return x + y, nil
		}
		return nil, typeErr("+", a, b)
	case []any:
		if y, ok := b.([]any); ok {
			if err := ev.checkList(len(x)+len(y), "+"); err != nil {
				return nil, err
			}
			out := make([]any, 0, len(x)+len(y))
			return append(append(out, x...), y...), nil
		}
		return nil, typeErr("+", a, b)
	case *value.Map, map[string]any:
		if y, ok := value.AsMap(b); ok {
			xm, _ := value.AsMap(x)
			if err := ev.checkList(xm.Len()+y.Len(), "+"); err != nil {
				return nil, err
			}
			out := xm.Clone()
			out.Update(y)
			return out, nil
		}
		return nil, typeErr("+", a, b)
	}
	if r, ok, err := timeOp('+', a, b); ok {
		return r, err
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		return fa + fb, nil
	}
	return nil, typeErr("+", a, b)
}

func opSub(_ *evaluator, a, b any) (any, error) {
	if r, ok, err := intArith(a, b, (*big.Int).Sub); ok {
		return r, err
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			s := x - y
			if (s < x) != (y > 0) {
				return bigArith(x, y, (*big.Int).Sub)
			}
			return s, nil
		}
	}
	if r, ok, err := timeOp('-', a, b); ok {
		return r, err
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		return fa - fb, nil
	}
	return nil, typeErr("-", a, b)
}

func opMul(ev *evaluator, a, b any) (any, error) {
	if r, ok, err := intArith(a, b, (*big.Int).Mul); ok {
		return r, err
	}
	if x, ok := a.(int64); ok {
		switch y := b.(type) {
		case int64:
			if x != 0 && y != 0 {
				p := x * y
				if p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
					return bigArith(x, y, (*big.Int).Mul)
				}
				return p, nil
			}
			return int64(0), nil
		case string, []any:
			return repeat(ev, b, x)
		}
	}
	if y, ok := b.(int64); ok {
		switch a.(type) {
		case string, []any:
			return repeat(ev, a, y)
		}
	}
	// Python's bool is an int, so YAQL repeats a string or list by one.
	if x, ok := a.(bool); ok {
		switch b.(type) {
		case string, []any:
			return repeat(ev, b, b2i(x))
		}
	}
	if y, ok := b.(bool); ok {
		switch a.(type) {
		case string, []any:
			return repeat(ev, a, b2i(y))
		}
	}
	if r, ok, err := timeOp('*', a, b); ok {
		return r, err
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		return fa * fb, nil
	}
	return nil, typeErr("*", a, b)
}

// repeat implements "ab" * 3 and [1] * 3, checking the size before building.
func repeat(ev *evaluator, v any, n int64) (any, error) {
	if n < 0 {
		n = 0
	}
	switch x := v.(type) {
	case string:
		if len(x) > 0 && n > int64(ev.maxStr/len(x)) {
			return nil, ev.checkStr(ev.maxStr+1, "*")
		}
		if err := ev.checkStr(len(x)*int(n), "*"); err != nil {
			return nil, err
		}
		return strings.Repeat(x, int(n)), nil
	case []any:
		if len(x) == 0 {
			// Nothing to copy, but the loop below would still run n times
			// unpaid: [] * 10**12 is [] at once, as in Python.
			return []any{}, nil
		}
		if n > int64(ev.maxList/len(x)) {
			return nil, ev.checkList(ev.maxList+1, "*")
		}
		if err := ev.checkList(len(x)*int(n), "*"); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(x)*int(n))
		for i := int64(0); i < n; i++ {
			out = append(out, x...)
		}
		return out, nil
	}
	return nil, failf("cannot repeat a %s", value.TypeName(v))
}

// opDiv divides; two ints give floor division as in YAQL (5 / 2 = 2).
func opDiv(_ *evaluator, a, b any) (any, error) {
	if isZeroInt(b) && isInt(a) {
		return nil, failf("division by zero")
	}
	if r, ok, err := intArith(a, b, bigFloorDiv); ok {
		return r, err
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			if x == math.MinInt64 && y == -1 {
				return bigArith(x, y, bigFloorDiv)
			}
			q := x / y
			if (x%y != 0) && ((x < 0) != (y < 0)) {
				q--
			}
			return q, nil
		}
	}
	if r, ok, err := timeOp('/', a, b); ok {
		return r, err
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		if fb == 0 {
			return nil, failf("division by zero")
		}
		return fa / fb, nil
	}
	return nil, typeErr("/", a, b)
}

// opMod follows Python: the result has the sign of the divisor.
func opMod(_ *evaluator, a, b any) (any, error) {
	if isZeroInt(b) && isInt(a) {
		return nil, failf("modulo by zero")
	}
	if r, ok, err := intArith(a, b, bigMod); ok {
		return r, err
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			if y == -1 {
				return int64(0), nil
			}
			m := x % y
			if m != 0 && (m < 0) != (y < 0) {
				m += y
			}
			return m, nil
		}
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		if fb == 0 {
			return nil, failf("modulo by zero")
		}
		_, m := value.FloatDivMod(fa, fb)
		return m, nil
	}
	return nil, typeErr("mod", a, b)
}

func opIn(ev *evaluator, a, b any) (any, error) {
	if s, ok := b.(*pySet); ok {
		return s.has(ev, a)
	}
	a, _ = ev.eager(a)
	switch x := b.(type) {
	case []any:
		if err := ev.charge(len(x)); err != nil {
			return nil, err
		}
		for _, e := range x {
			if eq, err := ev.equal(a, e); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case string:
		if s, ok := a.(string); ok {
			return strings.Contains(x, s), nil
		}
	}
	return nil, failf("cannot test whether a %s is in a %s", value.TypeName(a), value.TypeName(b))
}

// regexValue is what regex(...) returns; it only lives inside an evaluation.
type regexValue struct{ re *regexp.Regexp }

const maxPatternLen = 4096

func compileRegex(p string) (*regexp.Regexp, error) {
	if len(p) > maxPatternLen {
		return nil, &opError{msg: "regular expression longer than 4096 bytes", err: ErrLimit}
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, failf("invalid regular expression %q: %v", p, err)
	}
	return re, nil
}

func asRegex(v any) (*regexp.Regexp, error) {
	switch x := v.(type) {
	case *regexValue:
		return x.re, nil
	case string:
		return compileRegex(x)
	}
	return nil, failf("expected a regular expression, not a %s", value.TypeName(v))
}

// regexMatch implements s =~ pattern: Python's re.search, true when the
// pattern occurs anywhere in s.
func regexMatch(ev *evaluator, s, pattern any) (bool, error) {
	str, ok := s.(string)
	if !ok {
		return false, failf("cannot match a %s against a regular expression", value.TypeName(s))
	}
	re, err := asRegex(pattern)
	if err != nil {
		return false, err
	}
	if err := ev.charge(len(str) / 16); err != nil {
		return false, err
	}
	return re.MatchString(str), nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
