package expr

// Python's formatting, split and yaql's round/replaceBy, from a review.

import (
	"testing"
)

func reviewEval(t *testing.T, src string, data map[string]any) (any, error) {
	t.Helper()
	v, err := Compile(src)
	if err != nil {
		t.Fatalf("compile %s: %v", src, err)
	}
	return v.Eval(&Context{Data: data})
}

// Python results in comments (CPython 3.x, as Mistral's Jinja runs them).
func TestPythonFormatting(t *testing.T) {
	cases := []struct{ expr, want string }{
		{`{{ '{:6}|'.format('ab') }}`, "ab    |"},  // str.format: strings align left by default
		{`{{ '{:6s}|'.format('ab') }}`, "ab    |"}, // same with the s type
		{`{{ '{:.2}'.format(3.14159) }}`, "3.1"},   // no type + precision on a float is 'g'-like, not truncation
		{`{{ '%g' % 3.14159265 }}`, "3.14159"},     // %g's default precision is 6
		{`{{ '{:g}'.format(0.1234567891) }}`, "0.123457"},
		{`{{ '%#o' % 8 }}`, "0o10"},
		{`{{ '%#10o' % 8 }}`, "      0o10"}, // the width counts the 0o prefix
		{`{{ '%-#10o' % 8 }}`, "0o10      "},
		{`{{ '%#010o' % 8 }}`, "0o00000010"}, // zeros go between 0o and the digits
		{`{{ '%#10o' % -8 }}`, "     -0o10"}, // the sign goes before 0o
		{`{{ '%#+o' % 8 }}`, "+0o10"},
		{`{{ '%#10.5o' % 8 }}`, "   0o00010"},
		{`{{ '%#010.5o' % -8 }}`, "-0o0000010"},
		{`{{ '%#10x' % 8 }}`, "       0x8"},
		{`{{ '%#010x' % 8 }}`, "0x00000008"},
		{`{{ '%#-10X' % -255 }}`, "-0XFF     "},
		{`{{ '%#x' % 0 }}`, "0x0"},
	}
	for _, c := range cases {
		got, err := reviewEval(t, c.expr, map[string]any{})
		if err != nil || got != c.want {
			t.Errorf("%s = %#v, %v; Python gives %q", c.expr, got, err, c.want)
		}
	}
}

// split(None, n) on text whose whitespace is not ASCII: strings.Fields
// splits on U+00A0 / U+2003, the maxsplit loop only looks for ASCII
// whitespace, finds none, and slices rest[:-1].
func TestSplitMaxsplitUnicodeSpace(t *testing.T) {
	got, err := reviewEval(t, "{{ _.s.split(none, 1) }}", map[string]any{"s": "a\u00a0b\u00a0c"})
	t.Logf("got %#v err %v", got, err)
	// Python: 'a\xa0b\xa0c'.split(None, 1) == ['a', 'b\xa0c']
	l, ok := got.([]any)
	if err != nil || !ok || len(l) != 2 || l[0] != "a" || l[1] != "b\u00a0c" {
		t.Fatalf("got %#v, %v; want [a b\\u00a0c]", got, err)
	}
}

// yaql's round is Python's round(number, ndigits=0): banker's rounding,
// and a float for a float ("Returns a floating number"); replaceBy's count
// defaults to 0, which means every match (re.sub), so an explicit 0 too.
func TestYAQLRoundReplaceBy(t *testing.T) {
	cases := []struct {
		expr string
		want any
	}{
		{`<% round(2.5) %>`, 2.0},       // Python: round(2.5, 0) == 2.0
		{`<% round(0.5) %>`, 0.0},       // round(0.5, 0) == 0.0
		{`<% round(2.675, 2) %>`, 2.67}, // binary float: Python gives 2.67
		{`<% 'aXbXc'.replaceBy(regex('X'), '-', 0) %>`, "a-b-c"},
	}
	for _, c := range cases {
		got, err := reviewEval(t, c.expr, map[string]any{})
		if err != nil || got != c.want {
			t.Errorf("%s = %#v, %v; yaql gives %#v", c.expr, got, err, c.want)
		}
	}
}
