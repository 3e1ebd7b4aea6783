package expr

import (
	"reflect"
	"testing"
)

// Markup never leaves an evaluation: Mistral stores what tojson or escape
// gives as a plain str, and so must a workflow value here.
func TestJinjaMarkupStaysInside(t *testing.T) {
	for src, want := range map[string]any{
		"{{ _.x|tojson }}":             `{"a": 1}`,
		"{{ [_.x|tojson, '<'|e] }}":    []any{`{"a": 1}`, "&lt;"},
		"{{ {'k': 'v'|safe} }}":        nil, // checked by type below
		"{{ ('a'|e) ~ 'b' }}":          "ab",
		"{{ ('a'|e) + 'b' }}":          "ab",
		"{{ (_.x|tojson)|upper }}":     `{"A": 1}`,
		"{{ ('<'|e) if true else 1 }}": "&lt;",
	} {
		v, err := MustCompile(src).Eval(&Context{Data: map[string]any{"x": map[string]any{"a": int64(1)}}})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		assertPlain(t, src, reflect.ValueOf(v))
		if want != nil && !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %#v, want %#v", src, v, want)
		}
	}
}

func assertPlain(t *testing.T, src string, v reflect.Value) {
	t.Helper()
	if !v.IsValid() {
		return
	}
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Type() == markupType {
		t.Errorf("%s: a Markup left the evaluation", src)
	}
	if v.Kind() == reflect.Slice {
		for i := 0; i < v.Len(); i++ {
			assertPlain(t, src, v.Index(i))
		}
	}
}

// TestUserTextIsNeverTakenForMarkup checks that Markup and Undefined are told
// by type when a list or dict is made text: a user's string that looks like
// the old internal marks stays as it is (Jinja2 gives the same), while a
// real Markup or Undefined item, value or key, still shows as one.
func TestUserTextIsNeverTakenForMarkup(t *testing.T) {
	data := map[string]any{"s": "__lf_markup__hi", "u": "__lf_undefined__"}
	for src, want := range map[string]string{
		"x {{ [_.s] }}":    "x ['__lf_markup__hi']",
		"x {{ {_.s: 1} }}": "x {'__lf_markup__hi': 1}",
		"x {{ [_.u] }}":    "x ['__lf_undefined__']",
		"x {{ [_.s|e] }}":  "x [Markup('__lf_markup__hi')]",
		"x {{ {('k'|e): 1, 'k': 2, 'j': 'v'|e} }}": "x {Markup('k'): 2, 'j': Markup('v')}",
	} {
		got, err := MustCompile(src).Eval(&Context{Data: data})
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %q (Jinja2 3.1.6)", src, got, err, want)
		}
	}
}
