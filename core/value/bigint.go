package value

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Python's integers have no width, and Mistral's expressions hand users
// results such as 9223372036854775807 + 1 or a 39-digit id read from JSON.
// An integer that int64 holds is always an int64; one beyond it is a
// *big.Int, which nothing mutates once made. IntOf keeps that rule.

// MaxIntDigits bounds the integers Lazyflow keeps, as Python bounds the
// integers it converts to and from text (sys.int_info.default_max_str_digits),
// so that 10 ** 1000000000 is a clear error instead of gigabytes of digits.
const MaxIntDigits = 4300

// ErrIntTooLarge is an integer result with more than MaxIntDigits digits.
var ErrIntTooLarge = errors.New("integer result has more than " + strconv.Itoa(MaxIntDigits) + " digits")

// intLimit is 10^MaxIntDigits, the first integer with one digit too many.
var intLimit = new(big.Int).Exp(big.NewInt(10), big.NewInt(MaxIntDigits), nil)

// IntOf returns b as an int64 when it fits and as b itself otherwise, or
// ErrIntTooLarge when it has more than MaxIntDigits digits.
func IntOf(b *big.Int) (any, error) {
	if b.IsInt64() {
		return b.Int64(), nil
	}
	if b.BitLen() >= intLimit.BitLen() && new(big.Int).Abs(b).Cmp(intLimit) >= 0 {
		return nil, ErrIntTooLarge
	}
	return b, nil
}

// BigInt returns an integer value (int64 or *big.Int) as a *big.Int; false
// for anything else. The result may be v itself, so callers must not
// modify it.
func BigInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// BigFloat converts a big integer to the nearest float64, false when it is
// beyond float64's range (Python's "int too large to convert to float").
func BigFloat(b *big.Int) (float64, bool) {
	f, _ := new(big.Float).SetInt(b).Float64()
	return f, !math.IsInf(f, 0)
}

// cmpBig compares a big integer with an int64, float64 or *big.Int; ok is
// false for any other type and for NaN.
func cmpBig(x *big.Int, b any) (c int, ok bool) {
	switch y := b.(type) {
	case int64:
		return x.Cmp(big.NewInt(y)), true
	case *big.Int:
		return x.Cmp(y), true
	case float64:
		if math.IsNaN(y) {
			return -1, true // as cmpIntFloat: NaN is equal to nothing
		}
		if math.IsInf(y, 0) {
			if y > 0 {
				return -1, true
			}
			return 1, true
		}
		yf := new(big.Float).SetFloat64(y)
		return new(big.Float).SetInt(x).Cmp(yf), true
	case bool:
		return x.Cmp(big.NewInt(int64(b2i(y)))), true
	}
	return 0, false
}

// intFromDigits reads JSON integer text no int64 holds. A float64 in
// [2^63, 1e21) is written by encoding/json as plain digits, the shortest
// that read back to it followed by zeros; stored values (exact false) read
// those digits back as that float, so a float survives a durable store.
// Anything else is an integer, as Python reads it.
func intFromDigits(s string, exact bool) (any, bool) {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, false
	}
	if !exact && len(strings.TrimLeft(s, "-")) <= 21 {
		if f, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == s {
			return f, true
		}
	}
	v, err := IntOf(b)
	if err != nil {
		return nil, false
	}
	return v, true
}

// clipDigits shortens a long number for an error message.
func clipDigits(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:20] + "…" + s[len(s)-10:] + " (" + strconv.Itoa(len(s)) + " characters)"
}
