package yaql

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
)

// mathFuncs are yaql's conversions, type tests and number functions
// (standard_library/math.py, common.py).
var mathFuncs = []fn{
	{names: []string{"int"}, form: functionOf, recv: kAny, call: bInt},
	{names: []string{"float"}, form: functionOf, recv: kAny, call: bFloat},
	{names: []string{"bool"}, form: functionOf, recv: kAny, call: bBool},
	{names: []string{"abs"}, form: functionOf, recv: kAny, call: bAbs},
	{names: []string{"round"}, form: functionOf, recv: kAny, params: []param{optInt(0)}, call: bRound},
	{names: []string{"isString"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(string); return ok })},
	{names: []string{"isList"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.([]any); return ok })},
	{names: []string{"isDict"}, form: functionOf, recv: kAny, call: typeTest(value.IsDict)},
	{names: []string{"isInteger"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(int64); return ok })},
	{names: []string{"isNumber"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := toFloat(v); return ok })},
	{names: []string{"isBoolean"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(bool); return ok })},
	{names: []string{"bitwiseAnd"}, form: function, arity: exactly(2), call: bitwise(func(a, b int64) int64 { return a & b })},
	{names: []string{"bitwiseOr"}, form: function, arity: exactly(2), call: bitwise(func(a, b int64) int64 { return a | b })},
	{names: []string{"bitwiseXor"}, form: function, arity: exactly(2), call: bitwise(func(a, b int64) int64 { return a ^ b })},
	{names: []string{"bitwiseNot"}, form: function, arity: exactly(1), call: bitwise(func(a, _ int64) int64 { return ^a })},
	{names: []string{"shiftBitsLeft"}, form: function, arity: exactly(2), call: bShift(true)},
	{names: []string{"shiftBitsRight"}, form: function, arity: exactly(2), call: bShift(false)},
	{names: []string{"pow"}, form: function, arity: between(2, 3), call: bPow},
	{names: []string{"sign"}, form: functionOf, recv: kAny, call: bSign},
}

// strictInt is an argument YAQL declares int: an integer or a boolean
// (Python's bool is an int), never a float.
func (c *callCtx) strictInt(i int) (int64, error) {
	v, err := c.arg(i)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		return b2i(x), nil
	}
	return 0, failf("%s() expects an integer, not a %s", c.name, value.TypeName(v))
}

func bitwise(op func(a, b int64) int64) builtin {
	return func(c *callCtx) (any, error) {
		a, err := c.strictInt(0)
		if err != nil {
			return nil, err
		}
		var b int64
		if len(c.args) > 1 {
			if b, err = c.strictInt(1); err != nil {
				return nil, err
			}
		}
		return op(a, b), nil
	}
}

// bShift is shiftBitsLeft and shiftBitsRight. Python's integers have no
// width, so a left shift past 64 bits fails rather than wrap.
func bShift(left bool) builtin {
	return func(c *callCtx) (any, error) {
		a, err := c.strictInt(0)
		if err != nil {
			return nil, err
		}
		n, err := c.strictInt(1)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, failf("%s(): negative shift count", c.name)
		}
		if !left {
			if n > 63 {
				n = 63
			}
			return a >> uint(n), nil
		}
		if a == 0 {
			return int64(0), nil
		}
		if n > 62 || a<<uint(n)>>uint(n) != a {
			return nil, failf("integer overflow in %s(%d, %d): the result does not fit in 64 bits", c.name, a, n)
		}
		return a << uint(n), nil
	}
}

// bPow is Python's pow(a, b[, modulo]): an integer for integers and a
// non-negative exponent, a float otherwise.
func bPow(c *callCtx) (any, error) {
	var nums [3]any
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if _, ok := toFloat(v); !ok && !(i == 2 && v == nil) {
			return nil, failf("pow() expects numbers, not a %s", value.TypeName(v))
		}
		nums[i] = v
	}
	a, aInt := nums[0].(int64)
	b, bInt := nums[1].(int64)
	if nums[2] != nil {
		m, mInt := nums[2].(int64)
		if !aInt || !bInt || !mInt {
			return nil, failf("pow() with a modulo needs integers")
		}
		if m == 0 {
			return nil, failf("pow() modulo must not be zero")
		}
		if b < 0 {
			return nil, failf("pow() with a modulo needs a non-negative exponent")
		}
		return powMod(a, b, m), nil
	}
	if aInt && bInt && b >= 0 {
		return intPow(a, b)
	}
	fa, _ := toFloat(nums[0])
	fb, _ := toFloat(nums[1])
	if fa == 0 && fb < 0 {
		return nil, failf("pow(): zero cannot be raised to a negative power")
	}
	r := math.Pow(fa, fb)
	if math.IsNaN(r) {
		return nil, failf("pow(): a negative number cannot be raised to a fractional power")
	}
	if math.IsInf(r, 0) {
		return nil, failf("pow(): result too large")
	}
	return r, nil
}

// intPow fails rather than wrap: Python's integers have no width.
func intPow(a, b int64) (any, error) {
	r := int64(1)
	for b > 0 {
		if b&1 == 1 {
			p := r * a
			if a != 0 && (p/a != r || (a == -1 && r == math.MinInt64)) {
				return nil, failf("integer overflow in pow(): the result does not fit in 64 bits")
			}
			r = p
		}
		b >>= 1
		if b > 0 {
			sq := a * a
			if a != 0 && sq/a != a {
				return nil, failf("integer overflow in pow(): the result does not fit in 64 bits")
			}
			a = sq
		}
	}
	return r, nil
}

// powMod has the sign of the modulo, as Python's.
func powMod(a, b, m int64) int64 {
	mod := new(big.Int).Exp(big.NewInt(a), big.NewInt(b), new(big.Int).Abs(big.NewInt(m)))
	r := mod.Int64()
	if r < 0 {
		r -= m
		if m < 0 {
			r += 2 * m
		}
	}
	if m < 0 && r > 0 {
		r += m
	}
	return r
}

func bSign(c *callCtx) (any, error) {
	f, ok := toFloat(c.recv)
	if !ok {
		return nil, failf("sign() expects a number, not a %s", value.TypeName(c.recv))
	}
	switch {
	case f > 0:
		return int64(1), nil
	case f < 0:
		return int64(-1), nil
	}
	return int64(0), nil
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
