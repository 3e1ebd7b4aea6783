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
