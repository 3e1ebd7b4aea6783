package expr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

var ictx = &Context{Data: map[string]any{
	"name": "Ann", "x": int64(3), "l": []any{int64(1), int64(2)}, "m": map[string]any{"a": int64(1)}, "key": "dyn",
}}

// TestInterpolation covers how strings with and without expressions evaluate:
// one whole expression keeps its type, text around expressions makes a string.
func TestInterpolation(t *testing.T) {
	cases := []struct {
		in   any
		want any
	}{
		{"plain text", "plain text"},
		{"<% $.x %>", int64(3)},
		{"<% $.l %>", []any{int64(1), int64(2)}},
		{"Hello <% $.name %>!", "Hello Ann!"},
		{"<% $.x %><% $.x %>", "33"},
		{"x=<% $.x %>, l=<% $.l %>", "x=3, l=[1, 2]"},
		// Mistral interpolates with Python's str(): yaql 3.2.0 gives m: {'a': 1}.
		{"m: <% $.m %>", `m: {'a': 1}`},
		{"s: <% [$.name, null, 1.0] %>", `s: ['Ann', None, 1.0]`},
		{"none: <% null %>", "none: None"},
		{"bool: <% true %>", "bool: True"},
		{"{{ _.x }}", int64(3)},
		{"Hello {{ _.name }}!", "Hello Ann!"},
		{" <% $.x %>", " 3"}, // Mistral: only an exact whole-string match keeps the type
		{[]any{"<% $.x %>", "a", int64(5)}, []any{int64(3), "a", int64(5)}},
		{map[string]any{"a": "<% $.x %>", "b": map[string]any{"c": "{{ _.name }}"}}, map[string]any{"a": int64(3), "b": map[string]any{"c": "Ann"}}},
		{map[string]any{"<% $.key %>": "v", "fixed": int64(1)}, map[string]any{"dyn": "v", "fixed": int64(1)}},
		{map[string]any{"k{{ _.x }}": "<% $.x + 1 %>"}, map[string]any{"k3": int64(4)}},
		{int64(7), int64(7)},
		{nil, nil},
		{"50% <% $.x %>%", "50% 3%"},
		{"<% 'a%' %>", "a%"},
	}
	for _, c := range cases {
		v, err := Compile(c.in)
		if err != nil {
			t.Errorf("%v: %v", c.in, err)
			continue
		}
		got, err := v.Eval(ictx)
		if err != nil {
			t.Errorf("%v: %v", c.in, err)
			continue
		}
		if !value.Equal(got, c.want) || value.TypeName(got) != value.TypeName(c.want) {
			t.Errorf("%v: got %#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestConstAndExpressions(t *testing.T) {
	v := MustCompile(map[string]any{"a": []any{"x", int64(1)}, "b": "text"})
	if !v.IsConst() || len(v.Expressions()) != 0 {
		t.Fatalf("plain data: IsConst=%v Expressions=%v", v.IsConst(), v.Expressions())
	}
	got, _ := v.Eval(nil)
	got.(*value.Map).Set("b", "changed") // callers may modify what they get
	again, _ := v.Eval(nil)
	if again.(*value.Map).Value("b") != "text" {
		t.Fatal("Eval handed out the compiled constant itself")
	}

	v = MustCompile(map[string]any{"a": "<% $.x %>", "b": []any{"{{ _.y }}", "z"}, "<% $.k %>": int64(1)})
	if v.IsConst() {
		t.Fatal("expressions compiled as constant")
	}
	want := []string{"<% $.k %>", "<% $.x %>", "{{ _.y }}"}
	if strings.Join(v.Expressions(), "|") != strings.Join(want, "|") {
		t.Fatalf("Expressions() = %q, want %q", v.Expressions(), want)
	}
	var nilV *Value
	if r, err := nilV.Eval(ictx); r != nil || err != nil || !nilV.IsConst() {
		t.Fatal("nil *Value must evaluate to nil")
	}
}

func TestCompileErrors(t *testing.T) {
	// A '<%' never closed is plain text, as Mistral's pattern finds no
	// expression in it.
	if v, err := Compile("text <% $.x"); err != nil || !v.IsConst() {
		t.Errorf("unclosed <%%: %v, %v; want plain text", v, err)
	}
	for _, s := range []string{"<% $.x + %>", "<% (1 %>", "{{ 1 + }}", "a {% for %} b"} {
		_, err := Compile(map[string]any{"k": []any{s}})
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Text != s {
			t.Errorf("%q: want CompileError naming the text, got %v", s, err)
		}
	}
	// Several broken strings are all reported.
	_, err := Compile(map[string]any{"a": "<% ( %>", "b": "{{ ( }}"})
	if err == nil || !strings.Contains(err.Error(), "<% ( %>") || !strings.Contains(err.Error(), "{{ ( }}") {
		t.Errorf("want both errors, got %v", err)
	}
}

func TestEvalErrorNamesText(t *testing.T) {
	v := MustCompile("a <% $.x.nope() %> b")
	_, err := v.Eval(ictx)
	var ee *EvalError
	if !errors.As(err, &ee) || !strings.Contains(ee.Text, "$.x.nope()") {
		t.Fatalf("want EvalError naming the expression, got %v", err)
	}
}

func TestCondition(t *testing.T) {
	cases := map[string]bool{
		"<% $.x > 2 %>": true, "<% $.x > 5 %>": false, "<% $.l %>": true, "<% [] %>": false,
		"<% '' %>": false, "<% null %>": false, "{{ _.x == 3 }}": true, "{{ _.name }}": true, "<% 0 %>": false,
	}
	for s, want := range cases {
		got, err := Condition(MustCompile(s), ictx)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", s, got, err, want)
		}
	}
	if ok, err := Condition(nil, ictx); !ok || err != nil {
		t.Error("a missing condition must be true")
	}
	if _, err := Condition(MustCompile("<% $.x.nope() %>"), ictx); err == nil {
		t.Error("a failing condition must return its error")
	}
}

func TestHostFuncsReachBothLanguages(t *testing.T) {
	ctx := &Context{Data: map[string]any{}, Funcs: map[string]Func{
		"task": func(args []any) (any, error) {
			return map[string]any{"result": map[string]any{"items": []any{int64(1), int64(2)}}}, nil
		},
	}}
	for _, s := range []string{"<% task(t1).result.items.len() %>", "{{ task('t1').result['items']|length }}"} {
		got, err := MustCompile(s).Eval(ctx)
		if err != nil || !value.Equal(got, int64(2)) {
			t.Errorf("%s: got %v, %v", s, got, err)
		}
	}
}

// TestListSplicesAQueryHoweverItArrives pins yaql's list(), checked with
// Mistral 23.0.0: a query's result is an iterator, which list() splices
// whether it is written as list()'s argument or reaches it through a
// variable, switch(), coalesce() or or; a list stays one item.
func TestListSplicesAQueryHoweverItArrives(t *testing.T) {
	data := map[string]any{"xs": []any{int64(1), int64(2)}}
	for _, c := range []struct{ src, want string }{
		{"<% let(a => $.xs.select($)) -> list($a) %>", `[1,2]`},
		{"<% list(switch(true => $.xs.select($))) %>", `[1,2]`},
		{"<% list(coalesce(null, $.xs.select($))) %>", `[1,2]`},
		{"<% list($.xs.select($) or []) %>", `[1,2]`},
		{"<% let(a => $.xs) -> list($a) %>", `[[1,2]]`},
		{"<% list(coalesce(null, $.xs)) %>", `[[1,2]]`},
	} {
		v, err := MustCompile(c.src).Eval(&Context{Data: data})
		if err != nil {
			t.Errorf("%s: %v, want %s", c.src, err, c.want)
			continue
		}
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s = %s, want %s (Mistral 23.0.0)", c.src, got, c.want)
		}
	}
}

// TestQueryResultIsAPlainListOutside checks that the iterator mark of a
// query result never reaches a workflow value, a host function or Jinja:
// each sees a plain list wherever the result ends up.
func TestQueryResultIsAPlainListOutside(t *testing.T) {
	var seen []any
	funcs := map[string]Func{
		"keep": func(args []any) (any, error) { seen = append(seen, args...); return args[0], nil },
	}
	data := map[string]any{"xs": []any{int64(1), int64(2)}}
	for _, src := range []string{
		"<% $.xs.select($) %>",
		"<% let(a => $.xs.where(true)) -> $a %>",
		"<% switch(true => $.xs.select($)) %>",
		"<% coalesce(null, $.xs.select($)) %>",
		"<% $.xs.select($) or [] %>",
		"<% dict(a => $.xs.select($)) %>",
		"<% {a => $.xs.select($)} %>",
		"<% [$.xs.select($)] %>",
		"<% keep($.xs.select($)) %>",
		"<% $.xs.select($).keep() %>",
		"{{ _.xs | list }}",
	} {
		seen = nil
		v, err := MustCompile(src).Eval(&Context{Data: data, Funcs: funcs})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		for _, x := range append(seen, v) {
			if !plainJSON(x) {
				t.Errorf("%s: %#v is not a plain JSON-like value", src, x)
			}
		}
	}
	// Compared and tested for truth, a query result is its list, as it
	// was before it carried the mark.
	for src, want := range map[string]any{
		"<% $.xs.select($) = [1, 2] %>": true,
		"<% not [].select($) %>":        true,
		"<% [].select($) or 5 %>":       int64(5),
	} {
		got, err := MustCompile(src).Eval(&Context{Data: data})
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
}

func plainJSON(v any) bool {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case []any:
		for _, e := range x {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	case *value.Map:
		for _, e := range x.All() {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}
