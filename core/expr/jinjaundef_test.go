package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// rawJinjaValue is the value gonja makes for the single {{ }} of src, before
// Lazyflow turns a failure into an EvalError.
func rawJinjaValue(t *testing.T, src string) *exec.Value {
	t.Helper()
	n, err := compileJinjaUncached(src)
	if err != nil || n.output == nil {
		t.Fatalf("%s: compile: %v", src, err)
	}
	dctx, _ := n.dataContext(&Context{Data: map[string]any{"n": []any{int64(1)}, "d": map[string]any{"k": int64(1)}}})
	return n.evaluator(dctx).Eval(unwrapStr(n.output.Expression))
}

// TestUndefinedErrorTextsPinned: jinjaundef.go tells Jinja2's Undefined
// from a raised failure by the text of gonja's error. Each text it matches
// is made here through gonja itself, so that a gonja upgrade that rewords
// one fails this test, which names the text, rather than silently turning
// an Undefined into a failure or the reverse.
func TestUndefinedErrorTextsPinned(t *testing.T) {
	cases := []struct {
		text    string // the text or pattern of jinjaundef.go
		matches func(string) bool
		exprs   []string // each fails with a text the pattern matches
	}{
		{"undefinedItemPrefix " + undefinedItemPrefix, func(s string) bool { return strings.HasPrefix(s, undefinedItemPrefix) },
			[]string{"{{ _.n[5] }}", "{{ _.d['zz'] }}", "{{ _.d.k[0] }}"}},
		{"undefinedAttrTargetPrefix " + undefinedAttrTargetPrefix, func(s string) bool { return strings.HasPrefix(s, undefinedAttrTargetPrefix) },
			[]string{"{{ (1 // 0).x }}", "{{ _.zz.x }}"}},
		{"undefinedSlicePrefix " + undefinedSlicePrefix, func(s string) bool { return strings.HasPrefix(s, undefinedSlicePrefix) },
			[]string{"{{ None[1:] }}", "{{ 1[1:] }}"}},
		{"undefinedFilterText " + undefinedFilterText.String(), undefinedFilterText.MatchString,
			[]string{"{{ []|first }}", "{{ []|last }}", "{{ []|min }}", "{{ []|max }}", "{{ _.d|attr('zz') }}"}},
	}
	for _, c := range cases {
		for _, src := range c.exprs {
			v := rawJinjaValue(t, src)
			if !v.IsError() {
				t.Errorf("%s: want a failure, got %s", src, v.String())
				continue
			}
			if !c.matches(v.Error()) {
				t.Errorf("gonja's text for %s no longer matches %s: %q", src, c.text, v.Error())
			}
		}
	}
	// A missing attribute is Undefined: its text must not look like its
	// target's failure.
	if v := rawJinjaValue(t, "{{ _.d.zz }}"); !v.IsError() || failed(v, undefAttr) {
		t.Errorf("{{ _.d.zz }}: want an Undefined attribute, got %q, which starts with %q", v.String(), undefinedAttrTargetPrefix)
	}
}

// TestJinjaErrorsReadable: what a user reads of a failed Jinja expression
// names what went wrong, not gonja's nodes printed as Go values
// (&{<Token[Name] Val='first' Pos=7 …> first [] map[]}) nor the functions
// Lazyflow compiles operators to (__lf_div).
func TestJinjaErrorsReadable(t *testing.T) {
	for src, want := range map[string]string{
		"{{ _.n | summ }}":                        "filter 'summ' not found",
		"{{ 7 | first }}":                         "invalid call to filter 'first': 'int' object is not iterable",
		"{{ _.n | join(1/0) }}":                   "division by zero",
		"{{ [_.n.a.b] }}":                         "Unable to evaluate _.n.a: attribute 'a' not found",
		"{{ 1 / 0 }}":                             "division by zero",
		"{{ None + 1 }}":                          "unsupported operand types for +: NoneType and int",
		"{{ _.n[5] + 1 }}":                        "list object has no element 5",
		"{{ None[2] + 1 }}":                       "'NoneType' object is not subscriptable",
		"{{ 'ab'['x'] + 1 }}":                     "string indices must be integers",
		"x {% for i in 1/0 %}{{ i }}{% endfor %}": "division by zero",
	} {
		_, err := MustCompile(src).Eval(&Context{Data: map[string]any{"n": []any{int64(1)}}})
		var ee *EvalError
		if !errors.As(err, &ee) {
			t.Errorf("%s: want an EvalError, got %v", src, err)
			continue
		}
		if got := ee.Err.Error(); got != want {
			t.Errorf("%s: message %q, want %q", src, got, want)
		}
	}
}
