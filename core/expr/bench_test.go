package expr

import "testing"

func BenchmarkJinjaCondition(b *testing.B) {
	v := MustCompile("{{ _.x > 3 and _.y == 'a' }}")
	ctx := &Context{Data: plainData}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Eval(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkYAQLCondition(b *testing.B) {
	v := MustCompile("<% $.x > 3 and $.y = 'a' %>")
	ctx := &Context{Data: plainData}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Condition(v, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInterpolation(b *testing.B) {
	v := MustCompile(map[string]any{"msg": "x is <% $.x %> and y is <% $.y %>", "n": "<% $.x %>"})
	ctx := &Context{Data: plainData}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Eval(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
