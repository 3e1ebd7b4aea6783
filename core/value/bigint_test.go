package value

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

func bigOf(t *testing.T, s string) *big.Int {
	t.Helper()
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad test integer %q", s)
	}
	return b
}

// A JSON document from outside keeps an integer beyond int64 exactly, as
// Python's json.loads does, and prints it back digit for digit.
func TestFromJSONExactKeepsBigIntegers(t *testing.T) {
	const id = "123456789012345678901234567890123456789"
	v, err := FromJSONExact([]byte(`{"id": ` + id + `, "n": -18446744073709551614, "f": 1e20, "g": 100000000000000000000}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*Map).GoMap()
	if b, ok := m["id"].(*big.Int); !ok || b.String() != id {
		t.Fatalf("id = %#v, want the integer %s", m["id"], id)
	}
	if _, ok := m["f"].(float64); !ok {
		t.Errorf("1e20 = %#v, want a float", m["f"])
	}
	if _, ok := m["g"].(*big.Int); !ok {
		t.Errorf("100000000000000000000 = %#v, want an integer (Python reads digits as int)", m["g"])
	}
	if got := JSON(v, -1, false); got != `{"id": `+id+`, "n": -18446744073709551614, "f": 1e+20, "g": 100000000000000000000}` {
		t.Errorf("JSON = %s", got)
	}
	if got := String(m["n"]); got != "-18446744073709551614" {
		t.Errorf("String = %s", got)
	}
}

func TestFromJSONRefusesIntegersBeyondTheDigitLimit(t *testing.T) {
	huge := "1" + strings.Repeat("0", MaxIntDigits)
	var re *RangeError
	if _, err := FromJSONExact([]byte(`{"a": [` + huge + `]}`)); !errors.As(err, &re) || re.At != "a[0]" || !re.Integer || !strings.Contains(err.Error(), "more than 4300 digits") {
		t.Fatalf("err = %v, want an integer RangeError at a[0]", err)
	}
	if _, err := FromJSONExact([]byte(huge[:MaxIntDigits])); err != nil {
		t.Fatalf("%d digits refused: %v", MaxIntDigits, err)
	}
}

// Stored values are written by encoding/json, which prints a float64 below
// 1e21 as plain digits; reading them back must give the float, while any
// other integer text is the integer.
func TestFromJSONReadsStoredFloatsAndIntegers(t *testing.T) {
	v, err := FromJSON([]byte(`[100000000000000000000, 18446744073709551614]`))
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if f, ok := l[0].(float64); !ok || f != 1e20 {
		t.Errorf("stored float = %#v", l[0])
	}
	if b, ok := l[1].(*big.Int); !ok || b.String() != "18446744073709551614" {
		t.Errorf("stored integer = %#v", l[1])
	}
}

func TestBigIntegersCompareAndTestLikePython(t *testing.T) {
	two64 := bigOf(t, "18446744073709551616")
	if !Equal(two64, 18446744073709551616.0) || !Equal(18446744073709551616.0, two64) {
		t.Error("2**64 == 2.0**64 is true in Python")
	}
	if Equal(bigOf(t, "18446744073709551617"), 18446744073709551616.0) {
		t.Error("2**64+1 == 2.0**64 is false in Python")
	}
	if Equal(two64, int64(0)) || !Equal(two64, bigOf(t, "18446744073709551616")) {
		t.Error("big integer equality")
	}
	for _, c := range []struct {
		a, b any
		want int
	}{
		{two64, int64(1), 1},
		{int64(1), two64, -1},
		{bigOf(t, "-18446744073709551616"), -1e300, 1},
		{two64, 1e300, -1},
		{two64, bigOf(t, "18446744073709551617"), -1},
		{nil, two64, -1},
	} {
		if got, err := Compare(c.a, c.b); err != nil || got != c.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := Compare(two64, "x"); err == nil {
		t.Error("a big integer and a string compared")
	}
	if !Truthy(two64) || TypeName(two64) != "int" {
		t.Error("Truthy/TypeName of a big integer")
	}
	if n := Normalize(big.NewInt(5)); n != int64(5) {
		t.Errorf("Normalize(big 5) = %#v, want int64", n)
	}
}

func TestIntOfDemotesAndBounds(t *testing.T) {
	if v, err := IntOf(big.NewInt(-7)); err != nil || v != int64(-7) {
		t.Fatalf("IntOf(-7) = %#v, %v", v, err)
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(MaxIntDigits), nil)
	if _, err := IntOf(limit); !errors.Is(err, ErrIntTooLarge) {
		t.Fatalf("IntOf(10**%d) err = %v", MaxIntDigits, err)
	}
	if _, err := IntOf(new(big.Int).Sub(limit, big.NewInt(1))); err != nil {
		t.Fatalf("%d nines refused: %v", MaxIntDigits, err)
	}
}
