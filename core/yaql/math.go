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
	{names: []string{"isInteger"}, form: functionOf, recv: kAny, call: typeTest(isInt)},
	{names: []string{"isNumber"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := toFloat(v); return ok })},
	{names: []string{"isBoolean"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.(bool); return ok })},
	{names: []string{"bitwiseAnd"}, form: function, arity: exactly(2), call: bitwise((*big.Int).And)},
	{names: []string{"bitwiseOr"}, form: function, arity: exactly(2), call: bitwise((*big.Int).Or)},
	{names: []string{"bitwiseXor"}, form: function, arity: exactly(2), call: bitwise((*big.Int).Xor)},
	{names: []string{"bitwiseNot"}, form: function, arity: exactly(1), call: bitwise(func(z, a, _ *big.Int) *big.Int { return z.Not(a) })},
	{names: []string{"shiftBitsLeft"}, form: function, arity: exactly(2), call: bShift(true)},
	{names: []string{"shiftBitsRight"}, form: function, arity: exactly(2), call: bShift(false)},
	{names: []string{"pow"}, form: function, arity: between(2, 3), call: bPow},
	{names: []string{"sign"}, form: functionOf, recv: kAny, call: bSign},
}

// strictInt is an argument YAQL declares int: an integer or a boolean
// (Python's bool is an int), never a float.
func (c *callCtx) strictInt(i int) (*big.Int, error) {
	v, err := c.arg(i)
	if err != nil {
		return nil, err
	}
	if b, ok := v.(bool); ok {
		return big.NewInt(b2i(b)), nil
	}
	if n, ok := value.BigInt(v); ok {
		return n, nil
	}
	return nil, failf("%s() expects an integer, not a %s", c.name, value.TypeName(v))
}

func bitwise(op func(z, a, b *big.Int) *big.Int) builtin {
	return func(c *callCtx) (any, error) {
		a, err := c.strictInt(0)
		if err != nil {
			return nil, err
		}
		b := new(big.Int)
		if len(c.args) > 1 {
			if b, err = c.strictInt(1); err != nil {
				return nil, err
			}
		}
		return intResult(op(new(big.Int), a, b))
	}
}

// maxIntBits is a bound on the bits of an integer of value.MaxIntDigits
// digits, checked before a shift or power builds something far larger.
const maxIntBits = value.MaxIntDigits*10/3 + 64

// bShift is shiftBitsLeft and shiftBitsRight on Python's unbounded
// integers (a right shift of a negative number rounds down).
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
		if n.Sign() < 0 {
			return nil, failf("%s(): negative shift count", c.name)
		}
		if !left {
			if !n.IsInt64() || n.Int64() > int64(a.BitLen()) {
				return intResult(new(big.Int).Rsh(a, uint(a.BitLen()+1)))
			}
			return intResult(new(big.Int).Rsh(a, uint(n.Int64())))
		}
		if a.Sign() == 0 {
			return int64(0), nil
		}
		if !n.IsInt64() || int64(a.BitLen())+n.Int64() > maxIntBits {
			return nil, &opError{msg: value.ErrIntTooLarge.Error(), err: ErrLimit}
		}
		return intResult(new(big.Int).Lsh(a, uint(n.Int64())))
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
	a, aInt := value.BigInt(nums[0])
	b, bInt := value.BigInt(nums[1])
	if nums[2] != nil {
		m, mInt := value.BigInt(nums[2])
		if !aInt || !bInt || !mInt {
			return nil, failf("pow() with a modulo needs integers")
		}
		if m.Sign() == 0 {
			return nil, failf("pow() modulo must not be zero")
		}
		if b.Sign() < 0 {
			return nil, failf("pow() with a modulo needs a non-negative exponent")
		}
		return powMod(a, b, m)
	}
	if aInt && bInt && b.Sign() >= 0 {
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

// intPow refuses, before computing it, a power with more digits than
// value.MaxIntDigits.
func intPow(a, b *big.Int) (any, error) {
	if a.CmpAbs(big.NewInt(1)) <= 0 {
		if a.Sign() < 0 && b.Bit(0) == 0 {
			return int64(1), nil
		}
		if a.Sign() == 0 && b.Sign() == 0 {
			return int64(1), nil
		}
		return intResult(a)
	}
	if !b.IsInt64() || b.Int64() > maxIntBits || int64(a.BitLen()-1)*b.Int64() > maxIntBits {
		return nil, &opError{msg: value.ErrIntTooLarge.Error(), err: ErrLimit}
	}
	return intResult(new(big.Int).Exp(a, b, nil))
}

// powMod has the sign of the modulo, as Python's.
func powMod(a, b, m *big.Int) (any, error) {
	r := new(big.Int).Exp(a, b, new(big.Int).Abs(m))
	if r.Sign() != 0 && m.Sign() < 0 {
		r.Add(r, m)
	}
	return intResult(r)
}

func bSign(c *callCtx) (any, error) {
	if b, ok := c.recv.(*big.Int); ok {
		return int64(b.Sign()), nil
	}
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
	case int64, *big.Int:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, failf("int() cannot convert %s", value.FormatFloat(x))
		}
		if math.Abs(x) < 9.2e18 {
			return int64(x), nil
		}
		b, _ := big.NewFloat(x).Int(nil)
		return intResult(b)
	case string:
		t := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, nil
		}
		if len(t) > value.MaxIntDigits+1 {
			return nil, failf("int() cannot convert a string of more than %d digits", value.MaxIntDigits)
		}
		b, ok := new(big.Int).SetString(t, 10)
		if !ok {
			return nil, failf("int() cannot convert %q", x)
		}
		return intResult(b)
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
	case *big.Int:
		f, ok := value.BigFloat(x)
		if !ok {
			return nil, failf("float(): integer too large to convert to float")
		}
		return f, nil
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
	case *big.Int:
		return intResult(new(big.Int).Abs(x))
	case int64:
		if x == math.MinInt64 {
			return intResult(new(big.Int).Neg(big.NewInt(x)))
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
	case *big.Int:
		if digits >= 0 {
			return x, nil
		}
		f, _ = value.BigFloat(x)
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
