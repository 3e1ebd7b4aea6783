package value

import (
	"math"
	"testing"
)

// Each case is Python's divmod(a, b) of two floats.
func TestFloatDivMod(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, c := range []struct{ a, b, div, mod float64 }{
		{4.0, -2, -2, negZero},
		{-4.0, 2, -2, 0},
		{5.5, -2, -3, -0.5},
		{0.0, -5, negZero, negZero},
		{-0.5, 2, -1, 1.5},
		{7.5, 2, 3, 1.5},
		{7, 0.1, 69, 0.09999999999999962},
	} {
		div, mod := FloatDivMod(c.a, c.b)
		if div != c.div || math.Signbit(div) != math.Signbit(c.div) || mod != c.mod || math.Signbit(mod) != math.Signbit(c.mod) {
			t.Errorf("divmod(%v, %v) = (%v, %v), want (%v, %v)", c.a, c.b, div, mod, c.div, c.mod)
		}
	}
}
