// Package exprbench times core/expr on the expressions of cases.json, the
// same ones bench/expr/pytime.py times with Mistral's own evaluator (yaql and
// Jinja2 as Mistral 23.0.0 configures them); bench/expr/run puts the two side
// by side.
package exprbench

import (
	"os"
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

type benchCase struct {
	Name, Expr string
}

func load(tb testing.TB) (map[string]any, []benchCase) {
	raw, err := os.ReadFile("cases.json")
	if err != nil {
		tb.Fatal(err)
	}
	// FromJSONExact keeps integers as Lazyflow's workflow inputs hold them.
	v, err := value.FromJSONExact(raw)
	if err != nil {
		tb.Fatalf("cases.json: %v", err)
	}
	doc, ok := v.(*value.Map)
	if !ok {
		tb.Fatal("cases.json is not a JSON object")
	}
	var ctx map[string]any
	if m, ok := doc.Value("context").(*value.Map); ok {
		ctx = m.GoMap()
	}
	list, _ := doc.Value("cases").([]any)
	var cases []benchCase
	for i, c := range list {
		m, ok := c.(*value.Map)
		if !ok {
			tb.Fatalf("cases.json: case %d is not an object", i)
		}
		name, _ := m.Value("name").(string)
		src, _ := m.Value("expr").(string)
		if name == "" || src == "" {
			tb.Fatalf("cases.json: case %d needs a name and an expr", i)
		}
		cases = append(cases, benchCase{name, src})
	}
	return ctx, cases
}

// BenchmarkEval is one evaluation of a compiled expression, as the engine
// evaluates a value of a loaded workflow (compiled once, at load).
func BenchmarkEval(b *testing.B) {
	data, cases := load(b)
	for _, c := range cases {
		v, err := expr.Compile(c.Expr)
		if err != nil {
			b.Fatalf("%s: %v", c.Name, err)
		}
		b.Run(c.Name, func(b *testing.B) {
			ctx := &expr.Context{Data: data}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Eval(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileEval compiles the expression every time as well: the cost
// of an expression seen once.
func BenchmarkCompileEval(b *testing.B) {
	data, cases := load(b)
	for _, c := range cases {
		b.Run(c.Name, func(b *testing.B) {
			ctx := &expr.Context{Data: data}
			b.ReportAllocs()
			for b.Loop() {
				v, err := expr.Compile(c.Expr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Eval(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCasesEvaluate keeps cases.json evaluable: a benchmark of an error
// would time the wrong thing.
func TestCasesEvaluate(t *testing.T) {
	data, cases := load(t)
	for _, c := range cases {
		v, err := expr.Compile(c.Expr)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if _, err := v.Eval(&expr.Context{Data: data}); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}
