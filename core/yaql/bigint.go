package yaql

import (
	"math/big"

	"github.com/lazyflow/lazyflow/core/value"
)

// Python's integers have no width: an int64 result that overflows is
// computed again on *big.Int, and a *big.Int operand takes that path too.
// value.IntOf keeps the result an int64 when it fits and bounds its digits.

// bigPair returns two integer operands as *big.Int when at least one is
// already one; ok is false when either is not an integer or both are int64.
func bigPair(a, b any) (x, y *big.Int, ok bool) {
	_, aBig := a.(*big.Int)
	_, bBig := b.(*big.Int)
	if !aBig && !bBig {
		return nil, nil, false
	}
	x, ok1 := value.BigInt(a)
	y, ok2 := value.BigInt(b)
	return x, y, ok1 && ok2
}

// bigArith is op on two int64 operands done without overflow.
func bigArith(x, y int64, op func(z, x, y *big.Int) *big.Int) (any, error) {
	return intResult(op(new(big.Int), big.NewInt(x), big.NewInt(y)))
}

// intResult is z as a YAQL integer, or a limit error past value.MaxIntDigits.
func intResult(z *big.Int) (any, error) {
	v, err := value.IntOf(z)
	if err != nil {
		return nil, &opError{msg: err.Error(), err: ErrLimit}
	}
	return v, nil
}

// bigFloorDiv is Python's // on integers: the quotient rounded toward
// negative infinity (big.Int.Div rounds toward it only for a positive divisor).
func bigFloorDiv(z, x, y *big.Int) *big.Int {
	q, m := new(big.Int).QuoRem(x, y, new(big.Int))
	if m.Sign() != 0 && (m.Sign() < 0) != (y.Sign() < 0) {
		q.Sub(q, big.NewInt(1))
	}
	return z.Set(q)
}

// bigMod is Python's %: the result has the sign of the divisor.
func bigMod(z, x, y *big.Int) *big.Int {
	m := new(big.Int).Rem(x, y)
	if m.Sign() != 0 && (m.Sign() < 0) != (y.Sign() < 0) {
		m.Add(m, y)
	}
	return z.Set(m)
}

// intArith applies op to integer operands of which one is a *big.Int;
// handled is false when they are not both integers. Callers that divide
// check for a zero divisor first.
func intArith(a, b any, op func(z, x, y *big.Int) *big.Int) (r any, handled bool, err error) {
	x, y, ok := bigPair(a, b)
	if !ok {
		return nil, false, nil
	}
	r, err = intResult(op(new(big.Int), x, y))
	return r, true, err
}

// isInt reports whether v is an integer (not a bool).
func isInt(v any) bool {
	switch v.(type) {
	case int64, *big.Int:
		return true
	}
	return false
}

func isZeroInt(v any) bool {
	n, ok := v.(int64)
	return ok && n == 0
}
