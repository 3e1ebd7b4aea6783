package yaql

import (
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

// FuzzCompileEval checks that no input makes Compile or Eval panic, hang or
// escape the sandbox, and that every result is a plain JSON-like value.
// Eval turns a panic into an "internal error", so that message fails the
// fuzzer too.
func FuzzCompileEval(f *testing.F) {
	for _, c := range cases {
		f.Add(c.expr)
	}
	for _, s := range []string{
		"$.x > 3 and $.y = 'a'", "task(t1).result.items.len()", "let(a => [1, 2]) -> $a[-1]",
		"range(5).aggregate($1 + $2, 0)", "[regex(a)]", "{a => let(x => 1)}", "'\\u00e9' + `\\``",
		"$.l.orderBy($).groupBy($ mod 2)", "switch(true => 1)", "datetime(2015, 9, 29).format('%Y')", "-$.n mod 0",
		"((((((((((1))))))))))", "$[", "$.", "f(a =>", "{,}", "[,]", "1 -> 2 -> 3", "$?.a?.b",
		"def(f, f($) + 1) -> f(1)", "generate(0, $ < 3, $ + 1)", "timespan(days => 1) * 1e30", "yaml_dump($.m)",
		"regex('(a)|b').searchAll('ab', $2)", "call(call, [len, [[1]], {}], {})", "[1].mergeWith([2], $1)",
	} {
		f.Add(s)
	}
	data := map[string]any{
		"x": int64(4), "y": "a", "n": int64(-3), "s": "héllo wörld",
		"l": []any{int64(3), 1.5, int64(-2), int64(0)},
		"m": map[string]any{"k": []any{"v", nil, true}},
	}
	funcs := hostFuncs()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Compile(%q) error %v is not a SyntaxError", src, err)
			}
			return
		}
		env := &Env{Data: value.Normalize(data), Funcs: funcs, MaxSteps: 20000, MaxListLen: 5000, MaxStringLen: 1 << 16}
		v, err := e.Eval(env)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Eval(%q) panicked: %v", src, err)
			}
			if !errors.Is(err, ErrEval) {
				t.Fatalf("Eval(%q) error %v is not an EvalError", src, err)
			}
			return
		}
		if !isPlain(v, 0) {
			t.Fatalf("Eval(%q) = %#v, not a JSON-like value", src, v)
		}
		_ = value.String(v)
	})
}

func isPlain(v any, depth int) bool {
	if depth > 10000 {
		return false
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case *big.Int:
		return !x.IsInt64()
	case []any:
		for _, e := range x {
			if !isPlain(e, depth+1) {
				return false
			}
		}
		return true
	case *value.Map:
		for _, e := range x.All() {
			if !isPlain(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
