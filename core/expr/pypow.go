package expr

import (
	"math"
	"math/big"
)

// Python's float ** is C's pow, which glibc rounds correctly; Go's
// math.Pow can be an ulp off (2 ** 2.5, 8 ** (1/3)). pyPow computes x**y
// as exp(y·ln x) with powPrec bits and rounds once to a float64.

const powPrec = 96

// pyPow is a ** b for the finite cases floatOp lets through: a > 0, or
// a < 0 with an integer b.
func pyPow(a, b float64) float64 {
	r := math.Pow(a, b)
	switch {
	case b == 0 || b == 1 || b == 2 || b == -1 || b == 0.5:
		// Exact, or a single correctly rounded operation in Go too.
		return r
	case a == 0 || a == 1 || math.IsInf(a, 0) || math.IsNaN(a) || math.IsInf(b, 0) || math.IsNaN(b):
		return r
	case r == 0 || math.IsInf(r, 0) || math.Abs(r) < 0x1p-1022:
		// Underflow, overflow and subnormals keep Go's answer.
		return r
	}
	neg := a < 0
	if neg {
		a = -a
	}
	z := bigExp(new(big.Float).SetPrec(powPrec).Mul(bigFloat(b), bigLog(a)))
	f, _ := z.Float64()
	if neg && math.Mod(b, 2) != 0 {
		f = -f
	}
	return f
}

func bigFloat(x float64) *big.Float { return new(big.Float).SetPrec(powPrec).SetFloat64(x) }

// bigLn2 is ln 2 to powPrec bits.
var bigLn2 = func() *big.Float {
	l := atanhSeries(new(big.Float).SetPrec(powPrec).Quo(bigFloat(1), bigFloat(3)))
	return l.Add(l, l)
}()

// atanhSeries is atanh(t) = t + t³/3 + t⁵/5 + … for |t| ≤ 1/3.
func atanhSeries(t *big.Float) *big.Float {
	sum := new(big.Float).SetPrec(powPrec).Set(t)
	t2 := new(big.Float).SetPrec(powPrec).Mul(t, t)
	term := new(big.Float).SetPrec(powPrec).Set(t)
	for k := 3; k < 400; k += 2 {
		term.Mul(term, t2)
		next := new(big.Float).SetPrec(powPrec).Quo(term, bigFloat(float64(k)))
		if next.Sign() == 0 || next.MantExp(nil)-sum.MantExp(nil) < -powPrec {
			break
		}
		sum.Add(sum, next)
	}
	return sum
}

// bigLog is ln x for x > 0: x = m·2^e with m in [0.5, 1), ln m = 2·atanh((m-1)/(m+1)).
func bigLog(x float64) *big.Float {
	m, e := math.Frexp(x)
	bm := bigFloat(m)
	t := new(big.Float).SetPrec(powPrec).Quo(
		new(big.Float).SetPrec(powPrec).Sub(bm, bigFloat(1)),
		new(big.Float).SetPrec(powPrec).Add(bm, bigFloat(1)))
	ln := atanhSeries(t)
	ln.Add(ln, ln)
	return ln.Add(ln, new(big.Float).SetPrec(powPrec).Mul(bigFloat(float64(e)), bigLn2))
}

// bigExp is e^z: z = k·ln 2 + r, e^r by its Taylor series on r/2^8, squared
// back 8 times.
func bigExp(z *big.Float) *big.Float {
	kf, _ := new(big.Float).SetPrec(powPrec).Quo(z, bigLn2).Float64()
	k := math.Round(kf)
	r := new(big.Float).SetPrec(powPrec).Sub(z, new(big.Float).SetPrec(powPrec).Mul(bigFloat(k), bigLn2))
	const halvings = 8
	r.SetMantExp(r, -halvings)
	sum := bigFloat(1)
	term := bigFloat(1)
	for n := 1; n < 200; n++ {
		term.Mul(term, r)
		term.Quo(term, bigFloat(float64(n)))
		if term.Sign() == 0 || term.MantExp(nil) < -powPrec-4 {
			break
		}
		sum.Add(sum, term)
	}
	for i := 0; i < halvings; i++ {
		sum.Mul(sum, sum)
	}
	return sum.SetMantExp(sum, int(k))
}
