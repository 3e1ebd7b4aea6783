package storetest

import (
	"math/big"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// testNumbers checks that numbers come back as the kind they went in:
// integers beyond int64 exactly (Python's integers have no width), and
// floats as floats even where JSON prints them as plain digits.
func testNumbers(t *testing.T, s store.Store) {
	id, _ := new(big.Int).SetString("-123456789012345678901234567890123456789", 10)
	nums := map[string]any{"id": id, "max": int64(9223372036854775807), "f": 1e20, "half": 0.5, "neg": -18446744073709551616.0}
	tk := newTask("e1", "n")
	tk.Result, tk.HasResult = map[string]any{"nums": nums}, true
	tk.Published = dict("id", id)
	e := newExec("e1")
	e.Vars = value.MapOf(nums)
	commit(t, s, engine.PutExecution{Exec: e}, engine.PutTask{Task: tk})
	got := task(t, s, "e1", "n")
	if m := goMap(got.Result); m == nil || !sameNumbers(m["nums"], nums) || !sameNumbers(got.Published.Value("id"), id) {
		t.Fatalf("result %#v, published %#v: numbers did not come back as they went in", got.Result, got.Published)
	}
	if h := head(t, s, "e1"); !sameNumbers(h.Vars, nums) {
		t.Fatalf("vars %#v, want %#v", h.Vars, nums)
	}
}

// sameNumbers is value.Equal that also requires the same kind of number.
func sameNumbers(a, b any) bool {
	if !value.Equal(a, b) {
		return false
	}
	if x, ok := value.AsGoMap(a); ok {
		y, _ := value.AsGoMap(b)
		for k, v := range x {
			if !sameNumbers(v, y[k]) {
				return false
			}
		}
		return true
	}
	return value.TypeName(a) == value.TypeName(b)
}
