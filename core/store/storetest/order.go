package storetest

import (
	"reflect"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// orderedData gives tk dicts whose keys are not in sorted order: a store
// keeps a dict's insertion order, as Mistral (Python's dicts) does, in the
// result, what the task published, its context and its commands' input
// (top level included).
func orderedData(tk *engine.Task) *engine.Task {
	tk.Result = value.MapFromPairs("zed", int64(1), "out", []any{int64(1), "two", value.MapFromPairs("y", nil, "x", 1.5)}, "alpha", value.NewMap(0))
	tk.HasResult = true
	tk.Published = value.MapFromPairs("p", value.MapFromPairs("b", "1", "a", "2"), "o", int64(0))
	tk.Ctx = value.MapFromPairs("zk", "v", "nested", value.MapFromPairs("m", true, "c", false), "a", int64(1))
	tk.Outbox[0].Input = value.MapFromPairs("in", value.MapFromPairs("2", int64(2), "1", int64(1)), "a", int64(0))
	return tk
}

// orderedInput is an execution input whose keys are not in sorted order: a
// store gives it back in the order the execution was given it.
func orderedInput() *value.Map { return value.MapFromPairs("n", int64(3), "a", "x") }

func checkOrderedData(t *testing.T, got, want *engine.Task) {
	t.Helper()
	if !reflect.DeepEqual(got.Published, want.Published) || !reflect.DeepEqual(got.Outbox[0].Input, want.Outbox[0].Input) {
		t.Fatalf("published %s and input %s after a round trip, want %s and %s", value.JSON(got.Published, -1, false),
			value.JSON(got.Outbox[0].Input, -1, false), value.JSON(want.Published, -1, false), value.JSON(want.Outbox[0].Input, -1, false))
	}
	if js := value.JSON(got.Result, -1, false); js != `{"zed": 1, "out": [1, "two", {"y": null, "x": 1.5}], "alpha": {}}` {
		t.Fatalf("result order after a round trip: %s", js)
	}
	if js := value.JSON(got.Ctx, -1, false); js != `{"zk": "v", "nested": {"m": true, "c": false}, "a": 1}` {
		t.Fatalf("context order after a round trip: %s", js)
	}
}

// orderedHead gives e vars and env whose keys are not in sorted order: a
// store keeps them in the order they were set, as the execution's input.
func orderedHead(e *engine.Execution) *engine.Execution {
	e.Vars = dict("zv", int64(1), "v", []any{"p", true})
	e.Env = dict("z", "1", "a", dict("y", 2.5, "b", nil))
	return e
}

func checkOrderedHead(t *testing.T, got *engine.Execution) {
	t.Helper()
	if js := value.JSON(got.Vars, -1, false) + value.JSON(got.Env, -1, false); js != `{"zv": 1, "v": ["p", true]}{"z": "1", "a": {"y": 2.5, "b": null}}` {
		t.Fatalf("vars and env order after a round trip: %s", js)
	}
}

// dict is an ordered dict of alternating keys and values.
func dict(kv ...any) *value.Map { return value.MapFromPairs(kv...) }

// goMap is a dict read back from a store, nil when v is not one.
func goMap(v any) map[string]any {
	m, _ := value.AsGoMap(v)
	return m
}
