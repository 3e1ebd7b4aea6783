package value

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"int", 3, int64(3)},
		{"uint8", uint8(7), int64(7)},
		{"huge uint64", uint64(math.MaxUint64), float64(math.MaxUint64)},
		{"float32", float32(1.5), 1.5},
		{"json.Number int", json.Number("42"), int64(42)},
		{"json.Number float", json.Number("4.5"), 4.5},
		{"[]string", []string{"a"}, []any{"a"}},
		{"[]int", []int{1, 2}, []any{int64(1), int64(2)}},
		{"map[string]int", map[string]int{"b": 1, "a": 2}, MapFromPairs("a", int64(2), "b", int64(1))},
		{"nested", map[string]any{"l": []map[string]int{{"n": 1}}}, MapFromPairs("l", []any{MapFromPairs("n", int64(1))})},
		{"struct via JSON", point{X: 2}, MapFromPairs("x", int64(2))},
		{"ordered", MapFromPairs("z", 1, "a", 2), MapFromPairs("z", int64(1), "a", int64(2))},
		{"nil pointer", (*point)(nil), nil},
	}
	for _, c := range cases {
		if got := Normalize(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Normalize(%#v) = %#v, want %#v", c.name, c.in, got, c.want)
		}
	}
}

func TestFromJSON(t *testing.T) {
	got, err := FromJSON([]byte(`{"c": 1e3, "a": 1, "b": [2.5, 3, null, true, "x", {"y": 1, "x": 2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := MapFromPairs("c", 1000.0, "a", int64(1), "b", []any{2.5, int64(3), nil, true, "x", MapFromPairs("y", int64(1), "x", int64(2))})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v want %#v", got, want)
	}
	var re *RangeError
	if _, err := FromJSON([]byte(`{"a": {"b": [1, 1e400]}}`)); !errors.As(err, &re) || re.At != "a.b[1]" || re.Number != "1e400" {
		t.Fatalf("out-of-range number: %v, want a RangeError at a.b[1]", err)
	}
	if _, err := FromJSON([]byte(`{"a":`)); err == nil {
		t.Fatal("truncated JSON decoded without error")
	}
	if _, err := FromJSON([]byte(`1 2`)); err == nil {
		t.Fatal("trailing data accepted")
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{int64(1), 1.0, true},
		{1.0, int64(1), true},
		{int64(1), 1.5, false},
		// yaql 3.2.0 and Jinja2 answer 1 = true and 0 = false with true (Python's bool is an int).
		{true, int64(1), true},
		{int64(0), false, true},
		{true, 1.0, true},
		{false, int64(2), false},
		{true, "1", false},
		{nil, nil, true},
		{nil, false, false},
		{"a", "a", true},
		{[]any{int64(1), "x"}, []any{1.0, "x"}, true},
		{[]any{int64(1)}, []any{int64(1), int64(2)}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": 1.0}, true},
		{map[string]any{"a": nil}, map[string]any{"b": nil}, false},
		{int64(1 << 62), float64(1 << 62), true},
		{int64(1<<53 + 1), float64(1 << 53), false},
		{3, int64(3), true}, // non-canonical input still compares by value
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b any
		want int
	}{
		{int64(1), int64(2), -1},
		{2.5, int64(2), 1},
		{int64(2), 2.0, 0},
		{"a", "b", -1},
		{false, true, -1},
		{nil, int64(0), -1},
		{"a", nil, 1},
		{nil, nil, 0},
		{[]any{int64(1), int64(2)}, []any{int64(1), int64(3)}, -1},
		{[]any{int64(1)}, []any{int64(1), int64(0)}, -1},
		{int64(math.MaxInt64), float64(math.MaxInt64), -1}, // the float rounds up to 2^63
	}
	for _, c := range cases {
		got, err := Compare(c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("Compare(%#v, %#v) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	_, err := Compare("a", int64(1))
	var ie *IncomparableError
	if !errors.As(err, &ie) || err.Error() != "cannot compare string with int" {
		t.Fatalf("Compare(string, int) error = %v", err)
	}
	if _, err := Compare(map[string]any{}, map[string]any{}); err == nil {
		t.Fatal("dicts compared without error")
	}
}

func TestTruthy(t *testing.T) {
	falsy := []any{nil, false, int64(0), 0.0, "", []any{}, map[string]any{}}
	for _, v := range falsy {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true", v)
		}
	}
	truthy := []any{true, int64(-1), 0.5, "0", "False", []any{nil}, map[string]any{"a": nil}}
	for _, v := range truthy {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false", v)
		}
	}
}

func TestString(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{"raw 'text'", "raw 'text'"},
		{int64(-28), "-28"},
		{1.0, "1.0"},
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{1.5e-5, "1.5e-05"},
		{123456.789, "123456.789"},
		{0.0001, "0.0001"},
		{math.Inf(-1), "-inf"},
		{[]any{int64(1), "a", nil}, `[1, "a", null]`},
		{map[string]any{"b": 2.0, "a": []any{}}, `{"a": [], "b": 2.0}`},
		{7, "7"},
	}
	for _, c := range cases {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Vectors from mistral/tests/unit/expressions/test_yaql_expression.py
// (test_function_json_dump), which compares with Python's json.dumps(indent=4).
func TestJSONMatchesPython(t *testing.T) {
	cases := []struct {
		in     any
		indent int
		ascii  bool
		want   string
	}{
		{"3", 4, true, `"3"`},
		{int64(3), 4, true, `3`},
		{[]any{int64(1), int64(2)}, 4, true, "[\n    1,\n    2\n]"},
		{map[string]any{"a": "b"}, 4, true, "{\n    \"a\": \"b\"\n}"},
		{"Mistral\nis\nawesome", 4, true, `"Mistral\nis\nawesome"`},
		{map[string]any{"a": []any{}, "b": map[string]any{"c": nil}}, 2, true, "{\n  \"a\": [],\n  \"b\": {\n    \"c\": null\n  }\n}"},
		{"é😀", -1, true, `"\u00e9\ud83d\ude00"`},
		{"é", -1, false, `"é"`},
		{"\x01", -1, false, `"\u0001"`},
	}
	for _, c := range cases {
		if got := JSON(c.in, c.indent, c.ascii); got != c.want {
			t.Errorf("JSON(%#v, %d) = %q, want %q", c.in, c.indent, got, c.want)
		}
	}
}

func TestTypeName(t *testing.T) {
	for v, want := range map[any]string{nil: "null", true: "bool", int64(1): "int", 1.5: "float", "s": "string"} {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%#v) = %q, want %q", v, got, want)
		}
	}
	if TypeName([]any{}) != "list" || TypeName(map[string]any{}) != "dict" {
		t.Error("container type names")
	}
}

// Python's str.upper() and str.lower(), as yaql and Jinja2 call them.
func TestUpperLowerAsPython(t *testing.T) {
	for _, c := range []struct{ in, upper, lower string }{
		{"straße", "STRASSE", "straße"},
		{"ﬁne", "FINE", "ﬁne"},
		{"ΣΑΣ", "ΣΑΣ", "σας"},
		{"ΣΑΣ ΟΔΟΣ.", "ΣΑΣ ΟΔΟΣ.", "σας οδος."},
		{"Σ", "Σ", "σ"},
		{"héllo", "HÉLLO", "héllo"},
	} {
		if got := Upper(c.in); got != c.upper {
			t.Errorf("Upper(%q) = %q, want %q", c.in, got, c.upper)
		}
		if got := Lower(c.in); got != c.lower {
			t.Errorf("Lower(%q) = %q, want %q", c.in, got, c.lower)
		}
	}
}

func TestMapKeepsInsertionOrder(t *testing.T) {
	m := MapFromPairs("b", 1, "a", 2, "c", 3)
	m.Set("a", 20) // an update keeps the key's place
	m.Set("d", 4)  // a new key goes last
	m.Delete("b")
	if got := m.Keys(); !reflect.DeepEqual(got, []string{"a", "c", "d"}) {
		t.Fatalf("keys = %v", got)
	}
	if got := JSON(m, -1, false); got != `{"a": 20, "c": 3, "d": 4}` {
		t.Fatalf("JSON = %s", got)
	}
	raw, err := json.Marshal(map[string]any{"m": m})
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"m":{"a":20,"c":3,"d":4}}` {
		t.Fatalf("MarshalJSON = %s", raw)
	}
	var back struct{ M *Map }
	if err := json.Unmarshal([]byte(`{"M": {"z": 1, "y": {"q": 2, "p": 3}}}`), &back); err != nil {
		t.Fatal(err)
	}
	if got := JSON(back.M, -1, false); got != `{"z": 1, "y": {"q": 2, "p": 3}}` {
		t.Fatalf("UnmarshalJSON = %s", got)
	}
	if !Equal(MapFromPairs("a", 1, "b", 2), map[string]any{"b": int64(2), "a": 1.0}) {
		t.Fatal("dicts with the same items in another order are not equal")
	}
}

func TestTransformKeepsOrderAndCopies(t *testing.T) {
	in := MapFromPairs("b", []any{int64(1)}, "a", "s")
	out := Transform(in, func(v any) any {
		if s, ok := v.(string); ok {
			return s + "!"
		}
		return v
	}).(*Map)
	if got := JSON(out, -1, false); got != `{"b": [1], "a": "s!"}` {
		t.Fatalf("Transform = %s", got)
	}
	out.Value("b").([]any)[0] = int64(9)
	if in.Value("b").([]any)[0] != int64(1) {
		t.Fatal("Transform shares lists with its input")
	}
}

func TestFromJSONOrderEdgeCases(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": "{\"z\": [", "a\"q": {"y": [{}, {"d": 1, "c": 2}], "x": "]}"}, "\u00e9": null}`: `{"b": "{\"z\": [", "a\"q": {"y": [{}, {"d": 1, "c": 2}], "x": "]}"}, "é": null}`,
		// A repeated key keeps its first place and its last value, as in Python.
		`{"k": 1, "j": {"y": 1, "x": 2}, "k": {"b": 2, "a": 1}}`: `{"k": {"b": 2, "a": 1}, "j": {"y": 1, "x": 2}}`,
		` [ {"z": 1e3, "a": -0} ] `:                              `[{"z": 1000.0, "a": 0}]`,
	} {
		v, err := FromJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := JSON(v, -1, false); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}
