package yaql

import (
	"math"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
)

// mathFuncs are yaql's conversions, type tests and number functions
// (standard_library/math.py, common.py).
var mathFuncs = []fn{
	{names: []string{"int"}, recv: kAny, call: bInt},
	{names: []string{"float"}, recv: kAny, call: bFloat},
	{names: []string{"bool"}, recv: kAny, call: bBool},
	{names: []string{"abs"}, recv: kAny, call: bAbs},
	{names: []string{"round"}, recv: kAny, params: []param{optInt(0)}, call: bRound},
	{names: []string{"isString"}, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(string); return ok })},
	{names: []string{"isList"}, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.([]any); return ok })},
	{names: []string{"isDict"}, recv: kAny, call: typeTest(value.IsDict)},
	{names: []string{"isInteger"}, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(int64); return ok })},
	{names: []string{"isNumber"}, recv: kAny, call: typeTest(func(v any) bool { _, ok := toFloat(v); return ok })},
	{names: []string{"isBoolean"}, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(bool); return ok })},
}

func typeTest(test func(any) bool) builtin {
	return func(c *callCtx) (any, error) { return test(c.recv), nil }
}

func bInt(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case nil:
		return int64(0), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.Abs(x) >= 9.2e18 {
			return nil, failf("int() cannot convert %s", value.FormatFloat(x))
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, failf("int() cannot convert %q", x)
		}
		return n, nil
	}
	return nil, failf("int() cannot convert a %s", value.TypeName(c.recv))
}

func bFloat(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case nil:
		return 0.0, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, failf("float() cannot convert %q", x)
		}
		return f, nil
	}
	return nil, failf("float() cannot convert a %s", value.TypeName(c.recv))
}

func bBool(c *callCtx) (any, error) { return value.Truthy(c.recv), nil }

func bAbs(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, failf("integer overflow in abs()")
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, failf("abs() expects a number, not a %s", value.TypeName(c.recv))
}

// bRound is round(number[, digits]).
func bRound(c *callCtx) (any, error) {
	digits := c.paramInt(0)
	var f float64
	switch x := c.recv.(type) {
	case int64:
		if digits >= 0 {
			return x, nil
		}
		f = float64(x)
	case float64:
		f = x
	default:
		return nil, failf("round() needs a number, not %s", value.TypeName(c.recv))
	}
	// yaql's round is Python's round(n, digits): half to even on the
	// exact value (2.675 is 2.67499…, so 2.67), a float. strconv rounds
	// the exact binary value that way.
	if digits >= 0 && digits <= 20 {
		r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(digits), 64), 64)
		if err == nil {
			return r, nil
		}
	}
	p := math.Pow(10, float64(digits))
	return math.RoundToEven(f*p) / p, nil
}
