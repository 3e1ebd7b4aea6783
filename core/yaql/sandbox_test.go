package yaql

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSyntaxErrorsNamePositionAndExpectation(t *testing.T) {
	cases := []struct{ src, want string }{
		{"(1 + 2", `yaql: at column 7: expected ")" but found end of expression`},
		{"$.x >", "yaql: at column 6: expected an expression but found end of expression"},
		{"1 2", `yaql: at column 3: expected an operator or end of expression but found "2"`},
		{"f(1 2)", `yaql: at column 5: expected "," or ")" but found "2"`},
		{"'abc", "yaql: at column 1: unterminated string"},
		{"$.a # b", `yaql: at column 5: unexpected character '#'`},
		{"", "yaql: at column 1: expected an expression but found end of expression"},
		{"[1 => 2]", `yaql: at column 4: "=>" is not allowed in a list; use {key => value} for a dict`},
		{"{a}", "yaql: at column 2: expected key => value in a dict"},
		{"ёж + (", "yaql: at column 7: expected an expression but found end of expression"},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		if err == nil || err.Error() != c.want {
			t.Errorf("Compile(%q) error = %v, want %q", c.src, err, c.want)
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Compile(%q): error is not ErrSyntax", c.src)
		}
	}
}

func TestEvalErrorsWrapCauses(t *testing.T) {
	_, err := Eval("$.x > 3", &Env{Data: map[string]any{"x": "a"}})
	if err == nil || err.Error() != `yaql: cannot compare string with int in "$.x > 3"` {
		t.Fatalf("error = %v", err)
	}
	if !errors.Is(err, ErrEval) || errors.Is(err, ErrLimit) {
		t.Fatalf("error kinds wrong: %v", err)
	}
	hostErr := errors.New("db down")
	_, err = Eval("task(t1)", &Env{Funcs: map[string]Func{"task": func([]any) (any, error) { return nil, hostErr }}})
	if !errors.Is(err, hostErr) || !strings.Contains(err.Error(), "task(): db down") {
		t.Fatalf("host error not wrapped: %v", err)
	}
}

func TestLimitsFailFast(t *testing.T) {
	cases := []struct {
		src string
		env Env
	}{
		{"range(1000000000000)", Env{}},
		{"range(0, 9223372036854775807, 1)", Env{}},
		{"range(100000).select(range(100000))", Env{}},
		{"'x' * 9000000000", Env{}},
		{"[1] * 9000000000", Env{}},
		{"range(2000).select($ * 2).where($ > 1)", Env{MaxSteps: 1000}},
		{"range(20).aggregate($1 + $1, 'ab')", Env{}},
		{"range(600).aggregate($1 + $1, [1])", Env{}},
		{"range(11).select($ + 1)", Env{MaxListLen: 10}},
		{"range(30).aggregate($1 + $1, abc)", Env{MaxStringLen: 1 << 10}},
		{"range(1000).select(range(1000)).flatten().len()", Env{}},
		// Shared sub-lists: tiny to build, huge to walk.
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> json_dump(range(1000).select($b))", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> range(100).select($b) = range(100).select($b)", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> range(100).select($b).distinct()", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> str(range(100).select($b))", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> yaml_dump(range(1000).select($b))", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> range(1000).select($b)", Env{}},
		{"let(a => list(range(1000))) -> let(b => range(1000).select($a)) -> range(100).select($b).toSet()", Env{}},
	}
	for _, c := range cases {
		env := c.env
		start := time.Now()
		_, err := Eval(c.src, &env)
		if !errors.Is(err, ErrLimit) {
			t.Errorf("%s: error = %v, want a sandbox limit", c.src, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v before failing", c.src, d)
		}
	}
	// Within the limits the same shapes work.
	if v, err := Eval("range(1000).select(range(10)).flatten().len()", nil); err != nil || v != int64(10000) {
		t.Fatalf("got %v, %v", v, err)
	}
}

// Repeating nothing builds nothing, however large the count: it must not
// loop the count's times outside the step budget.
func TestRepeatEmptyListIsEmpty(t *testing.T) {
	v, err := Eval("[] * 9223372036854775807", &Env{MaxSteps: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := v.([]any); !ok || len(l) != 0 {
		t.Fatalf("[] * big = %#v, want []", v)
	}
}

func TestDeepNestingIsRejectedNotOverflowed(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		strings.Repeat("-", 5000) + "1",
		strings.Repeat("not ", 5000) + "1",
		strings.Repeat("f(", 5000) + strings.Repeat(")", 5000),
	} {
		_, err := Compile(src)
		if err == nil {
			t.Errorf("Compile(%.20q...) accepted %d bytes of nesting", src, len(src))
			continue
		}
		if !strings.Contains(err.Error(), "nested more than 200 levels") && !strings.Contains(err.Error(), "longer than") {
			t.Errorf("Compile(%.20q...) = %v", src, err)
		}
	}
	// 190 levels is fine.
	src := strings.Repeat("(", 190) + "1" + strings.Repeat(")", 190)
	if v, err := Eval(src, nil); err != nil || v != int64(1) {
		t.Fatalf("190 levels: %v, %v", v, err)
	}
	// A long flat chain is not nesting: it compiles and evaluates.
	chain := "$" + strings.Repeat(".a", 2000)
	var data any = int64(7)
	for i := 0; i < 2000; i++ {
		data = map[string]any{"a": data}
	}
	if v, err := Eval(chain, &Env{Data: data}); err != nil || v != int64(7) {
		t.Fatalf("long chain: %v, %v", v, err)
	}
}

func TestNullOnMissingKey(t *testing.T) {
	env := &Env{Data: map[string]any{"a": 1}, NullOnMissingKey: true}
	for _, src := range []string{"$.b", "$[b]"} {
		if v, err := Eval(src, env); err != nil || v != nil {
			t.Errorf("%s = %v, %v; want null", src, v, err)
		}
	}
}

func TestHostFuncsOverrideBuiltinsAndReceiveMethodReceiver(t *testing.T) {
	var got []any
	env := &Env{Data: "x", Funcs: map[string]Func{
		"len":  func([]any) (any, error) { return "host", nil },
		"echo": func(a []any) (any, error) { got = append([]any(nil), a...); return len(a), nil },
	}}
	if v, _ := Eval("len($)", env); v != "host" {
		t.Fatalf("builtin not overridden: %v", v)
	}
	v, err := Eval("$.echo(1, t2)", env)
	if err != nil || v != int64(2+1) || got[0] != "x" || got[1] != int64(1) || got[2] != "t2" {
		t.Fatalf("method call to host: %v %v %v", v, err, got)
	}
	if _, err := Eval("echo(a => 1)", env); err == nil {
		t.Fatal("keyword arguments to a host func accepted")
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile("$.where($ mod 2 = 0).select($ * 2).sum()")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			data := []any{int64(g), int64(g + 1), int64(g + 2), int64(g + 3)}
			want := int64(0)
			for _, x := range data {
				if x.(int64)%2 == 0 {
					want += 2 * x.(int64)
				}
			}
			for i := 0; i < 200; i++ {
				v, err := e.Eval(&Env{Data: data})
				if err != nil || v != want {
					t.Errorf("goroutine %d: got %v, %v want %d", g, v, err, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestSourceAndNilEnv(t *testing.T) {
	e := MustCompile(" 1 + $ ")
	if e.Source() != " 1 + $ " {
		t.Fatalf("Source() = %q", e.Source())
	}
	if _, err := e.Eval(nil); err == nil {
		t.Fatal("1 + null evaluated without error")
	}
}
