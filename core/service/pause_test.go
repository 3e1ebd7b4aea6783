package service_test

import (
	"context"
	"sync"
	"testing"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// hookStore disturbs the first commit that matches when: it runs before
// first (what another process does between this host's read and its
// commit), and with loseResponse answers ErrUnavailable though the write
// took effect.
type hookStore struct {
	store.Store
	mu           sync.Mutex
	when         func([]engine.Op) bool
	before       func() error
	loseResponse bool
}

func (h *hookStore) Commit(ctx context.Context, ops []engine.Op) error {
	h.mu.Lock()
	hit := h.when != nil && h.when(ops)
	if hit {
		h.when = nil
	}
	h.mu.Unlock()
	if hit && h.before != nil {
		if err := h.before(); err != nil {
			return err
		}
	}
	if err := h.Store.Commit(ctx, ops); err != nil || !hit || !h.loseResponse {
		return err
	}
	return store.ErrUnavailable
}

// setsState reports whether ops move execution id to state st.
func setsState(ops []engine.Op, id string, st engine.State) bool {
	for _, op := range ops {
		if o, ok := op.(engine.SetState); ok && o.ID == id && o.State == st {
			return true
		}
	}
	return false
}

const parentChildSrc = "version: '2.0'\nparent:\n  tasks:\n    call:\n      workflow: child\nchild:\n  tasks:\n    a:\n      action: std.noop\n"

// eachHookStore runs fn over a hookStore on each embedded driver.
func eachHookStore(t *testing.T, fn func(t *testing.T, hs *hookStore)) {
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) { fn(t, &hookStore{Store: open()}) })
	}
}

// boxHost is a service over st whose queues are boxes the test delivers
// from by hand (no action runs inline).
func boxHost(st store.Store) (*service.Service, *box, *box) {
	s := service.New(st, actions.New(), nil)
	s.InlineSteps = 0
	tq, rq := &box{}, &box{}
	s.Tasks, s.Results = tq, rq
	return s, tq, rq
}

// startParentChild starts the parent workflow on host s and returns the
// parent's and the child's ids, the child running its action.
func startParentChild(t *testing.T, s *service.Service) (string, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Register(ctx, "wf.yaml", []byte(parentChildSrc)); err != nil {
		t.Fatal(err)
	}
	p, _, err := s.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Store.ListExecutions(ctx, store.ListParams{Workflow: "child"})
	if err != nil || len(page.Executions) != 1 {
		t.Fatalf("child: %v %v", page, err)
	}
	return p.ID, page.Executions[0].ID
}

// endsInSuccess delivers everything left and checks that executions ids
// all end in SUCCESS.
func endsInSuccess(t *testing.T, s *service.Service, tq, rq *box, ids ...string) {
	t.Helper()
	drain(t, s, tq, rq)
	want := map[string]engine.State{}
	for _, id := range ids {
		want[id] = engine.Success
	}
	wantStates(t, s.Store, "at the end", want)
}

func wantStates(t *testing.T, st store.Store, when string, want map[string]engine.State) {
	t.Helper()
	for id, w := range want {
		e, err := st.Execution(context.Background(), id)
		if err != nil || e == nil {
			t.Fatalf("%s: read %s: %v", when, id, err)
		}
		if e.State != w {
			t.Fatalf("%s: execution %s is %s (%s), want %s", when, id, e.State, e.StateInfo, w)
		}
	}
}

// A parent's resume that commits between its sub-workflow's read of the
// parent (paused) and the commit of the sub-workflow's pause, from another
// process, finds the sub-workflow still running and leaves it; the pause
// must then not commit, or the sub-workflow stays paused (and pauses its
// parent again) with nothing left to resume either.
func TestPauseSpreadOvertakenByResume(t *testing.T) {
	eachHookStore(t, func(t *testing.T, hs *hookStore) {
		ctx := context.Background()
		s, tq, rq := boxHost(hs)
		other, _, _ := boxHost(hs)
		parent, child := startParentChild(t, s)
		hs.when = func(ops []engine.Op) bool { return setsState(ops, child, engine.Paused) }
		hs.before = func() error {
			_, err := other.Resume(ctx, parent)
			return err
		}
		if _, err := s.Pause(ctx, parent); err != nil {
			t.Fatal(err)
		}
		if hs.when != nil {
			t.Fatal("the pause never reached the sub-workflow")
		}
		wantStates(t, hs, "after the overtaken pause", map[string]engine.State{parent: engine.Running, child: engine.Running})
		endsInSuccess(t, s, tq, rq, parent, child)
	})
}

// A parent's resume whose spread to its paused sub-workflow is lost (here
// the write took effect but its response did not arrive, so nothing was
// carried out; a client's retry is refused, the parent runs) is repaired
// by the sweep: the parent's re-sent start of the sub-workflow resumes it.
func TestLostResumeSpreadRepairedBySweep(t *testing.T) {
	eachHookStore(t, func(t *testing.T, hs *hookStore) {
		ctx := context.Background()
		s, tq, rq := boxHost(hs)
		parent, child := startParentChild(t, s)
		if _, err := s.Pause(ctx, parent); err != nil {
			t.Fatal(err)
		}
		wantStates(t, hs, "after pause", map[string]engine.State{parent: engine.Paused, child: engine.Paused})
		hs.when = func(ops []engine.Op) bool { return setsState(ops, parent, engine.Running) }
		hs.loseResponse = true
		if _, err := s.Resume(ctx, parent); err == nil {
			t.Fatal("resume with its write response lost: no error")
		}
		wantStates(t, hs, "after the resume", map[string]engine.State{parent: engine.Running, child: engine.Paused})
		if _, err := s.Sweep(ctx, 0, 100); err != nil {
			t.Fatal(err)
		}
		wantStates(t, hs, "after the sweep", map[string]engine.State{parent: engine.Running, child: engine.Running})
		endsInSuccess(t, s, tq, rq, parent, child)
	})
}

// A resume begins the tasks held while paused in one step. When one of
// them ends at once (a with-items task over no items) and arrives at a
// join that fired while paused, and so is held too, the step both counts
// the arrival on the join's record and starts the join: two writes of one
// record, which conflicted with each other on every try (DynamoDB refuses
// them outright), so the resume never landed.
func TestResumeStartsJoinItsHeldTaskArrivesAt(t *testing.T) {
	eachHookStore(t, func(t *testing.T, hs *hookStore) {
		ctx := context.Background()
		s, tq, rq := boxHost(hs)
		other, _, _ := boxHost(hs)
		other.Tasks, other.Results = tq, rq
		s.MaxConflicts = 3 // a resume that cannot land fails soon
		src := `version: '2.0'
wf:
  tasks:
    start:
      action: std.noop
      on-success: [a, c]
    a:
      action: std.noop
      on-success: join
    c:
      action: std.noop
      on-success: b
    b:
      with-items: x in <% [] %>
      action: std.noop
      on-success: join
    join:
      join: one
      action: std.noop
`
		if _, err := s.Register(ctx, "wf.yaml", []byte(src)); err != nil {
			t.Fatal(err)
		}
		e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
		if err != nil {
			t.Fatal(err)
		}
		deliver := func(msgs [][]byte) {
			t.Helper()
			for _, m := range msgs {
				if err := s.HandleMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
		}
		deliver(runAll(t, s, tq, rq)) // start: a and c run
		results := runAll(t, s, tq, rq)
		if len(results) != 2 {
			t.Fatalf("results of a and c: %d", len(results))
		}
		// Between a's arrival at the join and the join's firing, the
		// execution pauses and c's result holds b: the join fires held,
		// after b.
		hs.when = func(ops []engine.Op) bool {
			for _, op := range ops {
				if o, ok := op.(engine.PutTask); ok && o.Task.Key == "join" && o.Task.Fired {
					return true
				}
			}
			return false
		}
		hs.before = func() error {
			if _, err := other.Pause(ctx, e.ID); err != nil {
				return err
			}
			return other.HandleMessage(ctx, results[1])
		}
		deliver(results[:1])
		if hs.when != nil {
			t.Fatal("the join never fired")
		}
		tasks, err := hs.Tasks(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		held := 0
		for _, tk := range tasks {
			if tk.State == engine.Idle {
				held++
			}
		}
		if held != 2 {
			state(t, s, e.ID)
			t.Fatalf("%d tasks held while paused, want 2 (b and join)", held)
		}
		if _, err := s.Resume(ctx, e.ID); err != nil {
			t.Fatalf("resume: %v", err)
		}
		endsInSuccess(t, s, tq, rq, e.ID)
		join, err := hs.Task(ctx, e.ID, "join")
		if err != nil || join == nil || join.State != engine.Success || join.Arrived != 2 {
			t.Fatalf("join after the end: %+v %v (want SUCCESS, 2 arrivals)", join, err)
		}
	})
}

// A sub-workflow paused on its own pauses its parent; when the
// sub-workflow's resume reaches the store but its message to the parent is
// lost (here the write's response), the sweep resumes the parent, none of
// whose sub-workflows is paused any more.
func TestParentLeftPausedBySubWorkflowResumedBySweep(t *testing.T) {
	eachHookStore(t, func(t *testing.T, hs *hookStore) {
		ctx := context.Background()
		s, tq, rq := boxHost(hs)
		parent, child := startParentChild(t, s)
		if _, err := s.Pause(ctx, child); err != nil {
			t.Fatal(err)
		}
		wantStates(t, hs, "after the sub-workflow's pause", map[string]engine.State{parent: engine.Paused, child: engine.Paused})
		hs.when = func(ops []engine.Op) bool { return setsState(ops, child, engine.Running) }
		hs.loseResponse = true
		if _, err := s.Resume(ctx, child); err == nil {
			t.Fatal("resume with its write response lost: no error")
		}
		wantStates(t, hs, "after the resume", map[string]engine.State{parent: engine.Paused, child: engine.Running})
		if _, err := s.Sweep(ctx, 0, 100); err != nil {
			t.Fatal(err)
		}
		wantStates(t, hs, "after the sweep", map[string]engine.State{parent: engine.Running, child: engine.Running})
		endsInSuccess(t, s, tq, rq, parent, child)
	})
}
