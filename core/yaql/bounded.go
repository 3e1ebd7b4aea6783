package yaql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
	"math/big"
)

// Values built by an expression can share sub-lists
// (let(a => range(1000)) -> range(1000).select($a)), so their logical size
// can be far larger than the steps it took to build them. Every operation
// that walks a whole value therefore pays per element it visits.

func (ev *evaluator) equal(a, b any) (bool, error) {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		if err := ev.charge(len(x)); err != nil {
			return false, err
		}
		for i := range x {
			if eq, err := ev.equal(x[i], y[i]); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case *value.Map, map[string]any:
		xm, _ := value.AsMap(x)
		y, ok := value.AsMap(b)
		if !ok || xm.Len() != y.Len() {
			return false, nil
		}
		if err := ev.charge(xm.Len()); err != nil {
			return false, err
		}
		for k, xv := range xm.All() {
			yv, ok := y.Get(k)
			if !ok {
				return false, nil
			}
			if eq, err := ev.equal(xv, yv); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case dateTime, timeSpan:
		c, ok := compareTime(a, b)
		return ok && c == 0, nil
	case *pySet:
		y, ok := b.(*pySet)
		return ok && x.used == y.used && x.subset(y), nil
	}
	return value.Equal(a, b), nil
}

// compare orders two values as YAQL's < does: numbers (not booleans) with
// numbers, strings with strings, dates with dates, timespans with
// timespans, and null before anything. Dicts, lists and booleans have no
// order in YAQL (its operators order sets, by inclusion: setOrder).
func (ev *evaluator) compare(a, b any) (int, error) {
	switch {
	case a == nil && b == nil:
		return 0, nil
	case a == nil:
		return -1, nil
	case b == nil:
		return 1, nil
	}
	switch a.(type) {
	case int64, float64, *big.Int:
		switch b.(type) {
		case int64, float64, *big.Int:
			return value.Compare(a, b)
		}
	case string:
		if _, ok := b.(string); ok {
			return value.Compare(a, b)
		}
	}
	if c, ok := compareTime(a, b); ok {
		return c, nil
	}
	return 0, failf("cannot compare %s with %s", value.TypeName(a), value.TypeName(b))
}

// json encodes v within the string limit and pays for the text.
func (ev *evaluator) json(v any, indent int, ascii bool, op string) (string, error) {
	s, ok := value.JSONLimit(v, indent, ascii, ev.maxStr)
	if !ok {
		return "", ev.limitStr(ev.maxStr+1, op)
	}
	return s, ev.charge(len(s) / 16)
}

// str is YAQL's str() within the sandbox limits: containers print as
// Python's repr, lists as the tuples yaql holds them as ((1, 2)).
func (ev *evaluator) str(v any) (string, error) {
	if set, ok := v.(*pySet); ok {
		// yaql's sets are frozensets: frozenset({1, 2}), frozenset().
		if set.used == 0 {
			return "frozenset()", nil
		}
		l, err := ev.str(set.list())
		if err != nil {
			return "", err
		}
		return "frozenset({" + strings.TrimSuffix(l[1:len(l)-1], ",") + "})", nil
	}
	switch v.(type) {
	case []any, *value.Map, map[string]any:
		s, ok := value.PyReprLimit(v, true, ev.maxStr)
		if !ok {
			return "", ev.limitStr(ev.maxStr+1, "str()")
		}
		return s, ev.charge(len(s) / 16)
	}
	return yaqlStr(v), nil
}

// hashKey maps values that are equal (by value.Equal) to equal map keys, for
// distinct() and groupBy().
func (ev *evaluator) hashKey(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		if x > -(1<<53) && x < 1<<53 {
			return float64(x), nil
		}
		return x, nil
	case bool:
		// Python's False == 0 and True == 1, so they hash alike.
		return float64(b2i(x)), nil
	case nil, string, float64:
		return v, nil
	case *big.Int:
		// Equal to a float only when the float holds it exactly.
		if f, ok := value.BigFloat(x); ok && value.Equal(x, f) {
			return f, nil
		}
		return struct{ digits string }{x.String()}, nil
	case dateTime:
		return struct{ instant int64 }{x.t.UnixMicro()}, nil
	case timeSpan:
		return x, nil
	case *pySet:
		// Equal sets hold equal elements in any order: the key is their
		// keys, sorted.
		keys := make([]string, 0, x.used)
		for _, e := range x.list() {
			k, err := ev.hashKey(e)
			if err != nil {
				return nil, err
			}
			keys = append(keys, fmt.Sprintf("%#v", k))
		}
		slices.Sort(keys)
		return struct{ set string }{strings.Join(keys, "\x00")}, nil
	}
	s, err := ev.json(normalizeNumbers(v), -1, false, "distinct()")
	return struct{ j string }{s}, err
}

// normalizeNumbers makes 1 and 1.0 print alike inside containers, so their
// hash keys agree as value.Equal does.
func normalizeNumbers(v any) any {
	return value.Transform(v, func(x any) any {
		switch n := x.(type) {
		case int64:
			return float64(n)
		case *big.Int:
			if f, ok := value.BigFloat(n); ok && value.Equal(n, f) {
				return f
			}
		}
		return x
	})
}
