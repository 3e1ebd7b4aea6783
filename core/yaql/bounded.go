package yaql

import (
	"github.com/lazyflow/lazyflow/core/value"
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
	}
	return value.Equal(a, b), nil
}

// compare orders two values as YAQL's < does: numbers (not booleans) with
// numbers, strings with strings, dates with dates, timespans with
// timespans, and null before anything. Dicts and booleans have no order in
// YAQL. Lists compare element by element: YAQL orders only sets, by
// inclusion, and Lazyflow's sets are lists.
func (ev *evaluator) compare(a, b any) (int, error) {
	if x, ok := a.([]any); ok {
		if y, ok := b.([]any); ok {
			if err := ev.charge(min(len(x), len(y))); err != nil {
				return 0, err
			}
			for i := 0; i < len(x) && i < len(y); i++ {
				c, err := ev.compare(x[i], y[i])
				if err != nil || c != 0 {
					return c, err
				}
			}
			return cmpInt(len(x), len(y)), nil
		}
	}
	switch {
	case a == nil && b == nil:
		return 0, nil
	case a == nil:
		return -1, nil
	case b == nil:
		return 1, nil
	}
	switch a.(type) {
	case int64, float64:
		switch b.(type) {
		case int64, float64:
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

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
	case dateTime:
		return struct{ instant int64 }{x.t.UnixMicro()}, nil
	case timeSpan:
		return x, nil
	}
	s, err := ev.json(normalizeNumbers(v), -1, false, "distinct()")
	return struct{ j string }{s}, err
}

// normalizeNumbers makes 1 and 1.0 print alike inside containers, so their
// hash keys agree as value.Equal does.
func normalizeNumbers(v any) any {
	return value.Transform(v, func(x any) any {
		if i, ok := x.(int64); ok {
			return float64(i)
		}
		return x
	})
}
