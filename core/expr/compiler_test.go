package expr

import (
	"errors"
	"reflect"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/core/yaql"
)

// TestCompilerShares checks that a Compiler parses a repeated expression
// once, including inside interpolated strings, and that the Values sharing
// it still evaluate independently against their own data.
func TestCompilerShares(t *testing.T) {
	var c Compiler
	a, err := c.Compile("<% $.x %>")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Compile(map[string]any{"k": "<% $.x %>", "s": "<% $.x %>-1", "t": "<% $.x %>-2"})
	if err != nil {
		t.Fatal(err)
	}
	whole := a.n.(*yaqlNode)
	m := b.n.(*mapNode)
	if m.vals[0] != whole {
		t.Errorf("the same string compiled twice: %p and %p", m.vals[0], whole)
	}
	inner1 := m.vals[1].(*concatNode).parts[0].(*yaqlNode)
	inner2 := m.vals[2].(*concatNode).parts[0].(*yaqlNode)
	if inner1.e != inner2.e {
		t.Errorf("the YAQL inside an interpolation was parsed again")
	}
	if inner1.text != "<% $.x %>" {
		t.Errorf("interpolated part text = %q", inner1.text)
	}

	r1, err := a.Eval(&Context{Data: map[string]any{"x": int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.Eval(&Context{Data: map[string]any{"x": int64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if r1 != int64(1) || !reflect.DeepEqual(r2, value.MapFromPairs("k", int64(2), "s", "2-1", "t", "2-2")) {
		t.Errorf("shared expression evaluated to %v and %v", r1, r2)
	}
}

// TestCompilerSameAsCompile checks that the cache changes nothing visible:
// results, Expressions() and errors, including for a broken expression met
// twice.
func TestCompilerSameAsCompile(t *testing.T) {
	inputs := []any{
		"<% $.x %>",
		"plain",
		map[string]any{"<% $.key %>": "v", "fixed": int64(1), "l": []any{"<% $.x %>", map[string]any{"c": int64(1)}}},
		"{{ _.x }} and more",
		"<% $.x + %>",
		[]any{"<% $.x + %>", "<% ( %>", "<% $.x + %>"},
		"<% $.x %",
	}
	var c Compiler
	for pass := 0; pass < 2; pass++ {
		for _, in := range inputs {
			want, wantErr := Compile(in)
			got, gotErr := c.Compile(in)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Errorf("%v: error %v, want %v", in, gotErr, wantErr)
				continue
			}
			if wantErr != nil {
				var ce *CompileError
				if !errors.As(gotErr, &ce) || (ce.Text != "<% $.x %" && !errors.Is(gotErr, yaql.ErrSyntax)) {
					t.Errorf("%v: cached error lost its type: %#v", in, gotErr)
				}
				continue
			}
			if !reflect.DeepEqual(got.Expressions(), want.Expressions()) {
				t.Errorf("%v: Expressions %q, want %q", in, got.Expressions(), want.Expressions())
			}
			gv, gerr := got.Eval(ictx)
			wv, werr := want.Eval(ictx)
			if !reflect.DeepEqual(gv, wv) || (gerr == nil) != (werr == nil) {
				t.Errorf("%v: got %v, %v want %v, %v", in, gv, gerr, wv, werr)
			}
		}
	}
}

// TestConstantsInsideDynamicValuesAreCopied checks that constant parts of a
// dynamic list or map come out as fresh copies on every evaluation.
func TestConstantsInsideDynamicValuesAreCopied(t *testing.T) {
	v := MustCompile(map[string]any{"d": "<% $.x %>", "c": map[string]any{"a": int64(1)}, "l": []any{"<% $.x %>", []any{int64(1)}}})
	r, err := v.Eval(ictx)
	if err != nil {
		t.Fatal(err)
	}
	r.(*value.Map).Value("c").(*value.Map).Set("a", int64(99))
	r.(*value.Map).Value("l").([]any)[1].([]any)[0] = int64(99)
	r2, err := v.Eval(ictx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"d": int64(3), "c": map[string]any{"a": int64(1)}, "l": []any{int64(3), []any{int64(1)}}}
	if !reflect.DeepEqual(r2, value.Normalize(want)) {
		t.Errorf("second evaluation %v, want %v", r2, want)
	}
}
