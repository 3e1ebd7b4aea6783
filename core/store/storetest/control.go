package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// controlTries bounds the tries of a SetState against a stream of counter
// adds: a transactional store may refuse a write to an item another
// transaction holds for a moment, but the adds never make its condition
// fail, so it lands within a few tries however long the stream is.
const controlTries = 10

// testSetState: a control operation's head write (SetState) changes the
// state alone, on a condition on the state: it succeeds while parallel
// completions add to the counters, keeps what they added and every other
// field, and the completions computed for the old state then conflict.
func testSetState(t *testing.T, s store.Store) {
	e := newExec("e1")
	e.Output, e.StartsNext = map[string]any{"kept": "yes"}, 2
	commit(t, s, engine.PutExecution{Exec: e})
	commit(t, s, engine.AddExecution{ID: "e1", Active: 5, ErrorInfo: "first error", IfState: engine.Running})

	var added atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.Commit(ctxBG, []engine.Op{engine.AddExecution{ID: "e1", Active: 1, Seq: 1, IfState: engine.Running}})
				switch {
				case err == nil:
					added.Add(1)
				case errors.Is(err, store.ErrConflict):
					if head(t, s, "e1").State != engine.Running {
						return // computed for RUNNING: recomputed, it has nothing to add
					}
				default:
					t.Errorf("counter add: %v", err)
					return
				}
			}
		}()
	}
	for added.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	set := engine.SetState{ID: "e1", State: engine.Paused, StateInfo: "paused by request", IfState: engine.Running,
		Active: -1, Updated: t0.Add(time.Hour)}
	var err error
	tries := 0
	for tries < controlTries {
		tries++
		if err = s.Commit(ctxBG, []engine.Op{set}); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("SetState against a stream of counter adds, %d tries: %v", tries, err)
	}

	got := head(t, s, "e1")
	if got.State != engine.Paused || got.StateInfo != "paused by request" || !got.Updated.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after SetState: state %s %q updated %s", got.State, got.StateInfo, got.Updated)
	}
	if n := added.Load(); got.Active != 5+n-1 || got.Seq != n {
		t.Fatalf("counters after %d adds and SetState(active -1): active %d seq %d", n, got.Active, got.Seq)
	}
	if m, _ := value.AsGoMap(got.Output); m["kept"] != "yes" || got.StartsNext != 2 || got.ErrorInfo != "first error" {
		t.Fatalf("SetState changed other fields: output %v starts_next %d error_info %q", got.Output, got.StartsNext, got.ErrorInfo)
	}
	mustConflict(t, s, "a completion computed for RUNNING", engine.AddExecution{ID: "e1", Active: -1, IfState: engine.Running})
	commit(t, s, engine.AddExecution{ID: "e1", Active: -1, IfState: engine.Paused}) // recomputed for PAUSED
	stale := *got
	mustConflict(t, s, "a put computed before SetState", engine.PutExecution{Exec: &stale, IfVersion: got.Version - 1})
	mustConflict(t, s, "SetState from a state that does not hold", set)
	mustConflict(t, s, "SetState of a missing execution", engine.SetState{ID: "e2", State: engine.Cancelled, IfState: engine.Running})

	page, err := s.ListExecutions(ctxBG, store.ListParams{State: engine.Paused})
	if err != nil || len(page.Executions) != 1 || page.Executions[0].ID != "e1" || page.Executions[0].State != engine.Paused {
		t.Fatalf("list PAUSED after SetState: %+v %v", page.Executions, err)
	}
	if page, _ := s.ListExecutions(ctxBG, store.ListParams{State: engine.Running}); len(page.Executions) != 0 {
		t.Fatalf("list RUNNING after SetState: %d executions", len(page.Executions))
	}

	// A rerun's SetState forgets the first error; a later versioned put
	// writes the state it carries.
	cur := head(t, s, "e1")
	commit(t, s, engine.SetState{ID: "e1", State: engine.Running, IfState: engine.Paused, Errors: 1, ClearErrorInfo: true})
	if h := head(t, s, "e1"); h.State != engine.Running || h.StateInfo != "" || h.ErrorInfo != "" || h.Errors != cur.Errors+1 || h.Version != cur.Version+1 {
		t.Fatalf("after SetState RUNNING: %s %q error_info %q errors %d version %d", h.State, h.StateInfo, h.ErrorInfo, h.Errors, h.Version)
	}
	next := head(t, s, "e1")
	next.State, next.StateInfo = engine.Success, "done"
	commit(t, s, engine.PutExecution{Exec: next, IfVersion: next.Version})
	if h := head(t, s, "e1"); h.State != engine.Success || h.StateInfo != "done" {
		t.Fatalf("put after SetState: %s %q", h.State, h.StateInfo)
	}
}
