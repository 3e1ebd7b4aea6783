package yaql

import "testing"

func BenchmarkCondition(b *testing.B) {
	e := MustCompile("$.x > 3 and $.y = 'a'")
	env := &Env{Data: map[string]any{"x": int64(4), "y": "a", "z": []any{int64(1)}}}
	b.ReportAllocs()
	for b.Loop() {
		v, err := e.Eval(env)
		if err != nil || v != true {
			b.Fatalf("got %v, %v", v, err)
		}
	}
}

func BenchmarkTaskResultLen(b *testing.B) {
	e := MustCompile("task(t1).result.items.len()")
	t1 := map[string]any{"result": map[string]any{"items": []any{int64(1), int64(2), int64(3)}}}
	env := &Env{Funcs: map[string]Func{"task": func(args []any) (any, error) {
		if len(args) != 1 || args[0] != "t1" {
			b.Fatalf("task args %v", args)
		}
		return t1, nil
	}}}
	b.ReportAllocs()
	for b.Loop() {
		v, err := e.Eval(env)
		if err != nil || v != int64(3) {
			b.Fatalf("got %v, %v", v, err)
		}
	}
}

func BenchmarkWhereSelect(b *testing.B) {
	e := MustCompile("$.where($.status = ACTIVE).select($.id).len()")
	var items []any
	for i := 0; i < 100; i++ {
		st := "ACTIVE"
		if i%3 == 0 {
			st = "ERROR"
		}
		items = append(items, map[string]any{"id": int64(i), "status": st})
	}
	env := &Env{Data: items}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("$.vm_info.where($.status = ACTIVE and $.flavor in [small, medium]).select($.id).len() > 0"); err != nil {
			b.Fatal(err)
		}
	}
}
