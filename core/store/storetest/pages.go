package storetest

import (
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// testTasksAfter: TasksAfter reads an execution's task records in key
// order from the first key after the one given, at most limit of them,
// and nothing else of the execution or of another one.
func testTasksAfter(t *testing.T, s store.Store) {
	keys := []string{"a", "b", "b#1f", "c", "d"}
	for _, k := range keys {
		commit(t, s, engine.PutTask{Task: newTask("e1", k)})
	}
	commit(t, s, engine.PutTask{Task: newTask("e2", "a2")})
	commit(t, s, engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "b", Index: 0, State: engine.Running, Attempt: 1}})
	commit(t, s, arrive("e1", "c", "a", nil)...)
	commit(t, s, engine.PutLeaf{Leaf: &engine.Leaf{Exec: "e1", Seq: 1, Task: "a"}})
	page := func(after string, limit int) string {
		t.Helper()
		ts, err := s.TasksAfter(ctxBG, "e1", after, limit)
		if err != nil {
			t.Fatalf("TasksAfter(%q, %d): %v", after, limit, err)
		}
		var got []string
		for _, tk := range ts {
			if tk.Exec != "e1" || tk.Attempt != 1 || tk.Version < 1 {
				t.Fatalf("TasksAfter(%q, %d) read %+v", after, limit, tk)
			}
			got = append(got, tk.Key)
		}
		return strings.Join(got, " ")
	}
	for _, c := range []struct {
		after string
		limit int
		want  string
	}{
		{"", 2, "a b"},
		{"b", 2, "b#1f c"},
		{"c", 10, "d"},
		{"", 10, "a b b#1f c d"},
		{"b#", 1, "b#1f"}, // a key that is no task's is a place in the order
		{"d", 10, ""},
		{"", 0, ""},
	} {
		if got := page(c.after, c.limit); got != c.want {
			t.Errorf("TasksAfter(%q, %d) = %q, want %q", c.after, c.limit, got, c.want)
		}
	}
}
