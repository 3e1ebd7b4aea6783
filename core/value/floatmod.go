package value

import "math"

// FloatDivMod is Python's divmod of two floats (float_divmod in CPython):
// the remainder has the divisor's sign, a zero remainder too (4.0 % -2 is
// -0.0), and the quotient is floored. b must not be zero.
func FloatDivMod(a, b float64) (div, mod float64) {
	mod = math.Mod(a, b)
	div = (a - mod) / b
	if mod != 0 {
		if (b < 0) != (mod < 0) {
			mod += b
			div--
		}
	} else {
		mod = math.Copysign(0, b)
	}
	if div != 0 {
		floor := math.Floor(div)
		if div-floor > 0.5 {
			floor++
		}
		return floor, mod
	}
	return math.Copysign(0, a/b), mod
}
