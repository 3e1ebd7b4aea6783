package storetest

import (
	"errors"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// testChecks verifies that the store makes the checks of store.Open's
// portable layer: a driver reached any other way would not.
func testChecks(t *testing.T, s store.Store) {
	for _, id := range []string{"", "~def", "~exec"} {
		bad := []engine.Op{
			engine.PutExecution{Exec: newExec(id)},
			engine.PutTask{Task: newTask(id, "a")},
			engine.CountArrival{Exec: id, Key: "j", Name: "j"},
		}
		for _, op := range bad {
			if err := s.Commit(ctxBG, []engine.Op{op}); !errors.Is(err, engine.ErrInvalidInput) {
				t.Errorf("commit %T to execution %q: %v, want ErrInvalidInput", op, id, err)
			}
		}
		if e, err := s.Execution(ctxBG, id); e != nil || err != nil {
			t.Errorf("execution %q: %+v, %v; want nil, nil", id, e, err)
		}
		if ts, err := s.Tasks(ctxBG, id); len(ts) != 0 || err != nil {
			t.Errorf("tasks of %q: %v, %v; want none", id, ts, err)
		}
	}
	if err := s.Commit(ctxBG, nil); err != nil {
		t.Errorf("empty commit: %v", err)
	}
	if _, err := s.ListExecutions(ctxBG, store.ListParams{Cursor: "not a cursor"}); !errors.Is(err, engine.ErrInvalidInput) {
		t.Errorf("list with a bad cursor: %v, want ErrInvalidInput", err)
	}
	if _, err := s.Definition(ctxBG, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("absent definition: %v, want ErrNotFound", err)
	}
}
