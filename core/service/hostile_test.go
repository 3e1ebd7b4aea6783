package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/service/servicetest"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// drivers are the embedded store drivers the service runs over.
func drivers(t *testing.T) map[string]func() store.Store {
	return map[string]func() store.Store{
		"memory": func() store.Store { return kvstore.NewMemory() },
		"bolt": func() store.Store {
			db, err := boltstore.OpenDB(filepath.Join(t.TempDir(), "db"))
			if err != nil {
				t.Fatal(err)
			}
			st, err := boltstore.New(db, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// staleReads answers "no such execution" for its first reads of one
// execution, as a host does that read just before another host's start
// of the same id committed.
type staleReads struct {
	store.Store
	mu    sync.Mutex
	id    string
	stale int
}

func (s *staleReads) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	s.mu.Lock()
	if id == s.id && s.stale > 0 {
		s.stale--
		s.mu.Unlock()
		return nil, nil
	}
	s.mu.Unlock()
	return s.Store.Execution(ctx, id)
}

// Two starts under one idempotency key with different requests race: the
// one that loses the conditional create must not be handed the winner's
// execution.
func TestIdempotentStartRaceWithDifferentRequest(t *testing.T) {
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sr := &staleReads{Store: open()}
			s := service.New(sr, actions.New(), nil)
			s.Tasks, s.Results = &box{}, &box{}
			if _, err := s.Register(ctx, "wf.yaml", []byte("version: '2.0'\nwf:\n  input: [n]\n  tasks:\n    t:\n      action: std.noop\n")); err != nil {
				t.Fatal(err)
			}
			first, created, err := s.Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{"n": 1}), IdempotencyKey: "k"})
			if err != nil || !created {
				t.Fatalf("first start: %v created=%v", err, created)
			}
			sr.id, sr.stale = first.ID, 1
			e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{"n": 2}), IdempotencyKey: "k"})
			if !errors.Is(err, service.ErrIdempotencyMismatch) {
				t.Fatalf("a different request under the key got %v, %v; want ErrIdempotencyMismatch", e, err)
			}
			sr.stale = 1
			e, created, err = s.Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{"n": 1}), IdempotencyKey: "k"})
			if err != nil || created || e.ID != first.ID {
				t.Fatalf("the same request again: %v created=%v %v; want the first execution", e, created, err)
			}
		})
	}
}

// barrierTasks holds the first n reads of one task record until all n
// happened, so n callbacks all see the attempt running before any commits.
type barrierTasks struct {
	store.Store
	mu   sync.Mutex
	n    int
	gate chan struct{}
}

func (b *barrierTasks) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	t, err := b.Store.Task(ctx, exec, key)
	b.mu.Lock()
	wait := b.n > 0
	if wait {
		b.n--
		if b.n == 0 {
			close(b.gate)
		}
	}
	b.mu.Unlock()
	if wait {
		<-b.gate
	}
	return t, err
}

// startDelegate starts a one-task workflow whose delegate action hands its
// callback token to the returned channel, and runs it until the action is out.
func startDelegate(t *testing.T, st store.Store) (*service.Service, *engine.Execution, chan string) {
	t.Helper()
	ctx := context.Background()
	reg := actions.New()
	tokens := make(chan string, 1)
	reg.RegisterAsync("test.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
		tokens <- cb.Token
		return nil
	})
	s := service.New(st, reg, nil)
	s.CallbackKey = []byte("0123456789abcdef0123456789abcdef")
	tq, rq := &box{}, &box{}
	s.Tasks, s.Results = tq, rq
	if _, err := s.Register(ctx, "wf.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    ask:\n      action: test.delegate\n")); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, s, tq, rq)
	return s, e, tokens
}

// Callbacks racing for one delegate attempt: exactly one is accepted, the
// others are told the attempt was already completed.
func TestConcurrentCallbacksOneAccepted(t *testing.T) {
	const racers = 20
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			bt := &barrierTasks{Store: open(), gate: make(chan struct{})}
			s, e, tokens := startDelegate(t, bt)
			tok := <-tokens
			bt.n = racers
			errs := make([]error, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Callback(ctx, tok, true, i, "")
				}()
			}
			wg.Wait()
			accepted := 0
			for _, err := range errs {
				switch {
				case err == nil:
					accepted++
				case !errors.Is(err, service.ErrCallbackStale):
					t.Fatalf("callback: %v; want accepted or ErrCallbackStale", err)
				}
			}
			if accepted != 1 {
				t.Fatalf("%d of %d racing callbacks accepted; want exactly 1", accepted, racers)
			}
			if task, _ := bt.Store.Task(ctx, e.ID, "ask"); task == nil || task.State != engine.Success {
				t.Fatalf("task after the callbacks: %+v", task)
			}
		})
	}
}

// A start with more first tasks than a page starts them a page per step;
// a page's timer delivered twice starts nothing twice, and the execution
// ends only when every page ran and every task finished.
func TestStartPagesRedelivered(t *testing.T) {
	const n = 2*engine.StartPage + 50
	var src strings.Builder
	src.WriteString("version: '2.0'\nwide:\n  tasks:\n")
	for i := range n {
		fmt.Fprintf(&src, "    t%d:\n      action: std.noop\n", i)
	}
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := service.New(open(), actions.New(), nil)
			s.InlineSteps = 0 // the test counts the actions the start sends
			tq, rq := &box{}, &box{}
			s.Tasks, s.Results = tq, rq
			if _, err := s.Register(ctx, "wf.yaml", []byte(src.String())); err != nil {
				t.Fatal(err)
			}
			e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wide"})
			if err != nil {
				t.Fatal(err)
			}
			tq.mu.Lock()
			got := len(tq.msgs)
			tq.mu.Unlock()
			if got != engine.StartPage {
				t.Fatalf("the start sent %d actions; want one page of %d", got, engine.StartPage)
			}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pages never end")
				}
				msgs := rq.take()
				if len(msgs) == 0 {
					break
				}
				for _, m := range msgs {
					for range 2 { // each page's timer arrives twice
						if err := s.HandleMessage(ctx, m); err != nil {
							t.Fatal(err)
						}
					}
				}
				if h, _ := s.Store.Execution(ctx, e.ID); h.State != engine.Running {
					t.Fatalf("execution %s before its last page started", h.State)
				}
			}
			tasks, _ := s.Store.Tasks(ctx, e.ID)
			if len(tasks) != n {
				t.Fatalf("%d tasks started; want %d", len(tasks), n)
			}
			for {
				results := runAll(t, s, tq, rq)
				if len(results) == 0 {
					break
				}
				for _, m := range results {
					if err := s.HandleMessage(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			if h, _ := s.Store.Execution(ctx, e.ID); h.State != engine.Success {
				t.Fatalf("execution %s %q; want SUCCESS", h.State, h.StateInfo)
			}
		})
	}
}

// drain runs every action and handles every result and timer until
// nothing is left to do.
func drain(t *testing.T, s *service.Service, tq, rq *box) {
	for range 10000 {
		msgs := append(runAll(t, s, tq, rq), rq.take()...)
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := s.HandleMessage(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("work never ends")
}

// A recursion that fans out stops at the cap on executions one root's tree
// may start, with an error naming it.
func TestSpawnedExecutionsCapped(t *testing.T) {
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := service.New(open(), actions.New(), nil)
			s.Engine.MaxSpawned = 20
			tq, rq := &box{}, &box{}
			s.Tasks, s.Results = tq, rq
			src := "version: '2.0'\nrecur:\n  tasks:\n    a:\n      workflow: recur\n    b:\n      workflow: recur\n"
			if _, err := s.Register(ctx, "wf.yaml", []byte(src)); err != nil {
				t.Fatal(err)
			}
			e, _, err := s.Start(ctx, service.StartRequest{Workflow: "recur"})
			if err != nil {
				t.Fatal(err)
			}
			drain(t, s, tq, rq)
			page, err := s.Store.ListExecutions(ctx, store.ListParams{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(page.Executions); n != 21 {
				t.Fatalf("%d executions; want the root and the 20 it may start", n)
			}
			root, _ := s.Store.Execution(ctx, e.ID)
			if root.State != engine.Error || root.Spawned != 20 {
				t.Fatalf("root %s %q spawned %d; want ERROR after 20", root.State, root.StateInfo, root.Spawned)
			}
			named := 0
			for _, x := range page.Executions {
				if x.State == engine.Running {
					t.Fatalf("execution %s still RUNNING", x.ID)
				}
				tasks, _ := s.Store.Tasks(ctx, x.ID)
				for _, tk := range tasks {
					if strings.Contains(tk.StateInfo, "has started 20 sub-workflow executions, the limit for one execution's tree") {
						named++
					}
				}
			}
			if named == 0 {
				t.Fatal("no task error names the limit")
			}
		})
	}
}

// Two service instances over one store, as two processes: a cancel lands
// within a bounded number of commits while the other streams completions,
// and the cancelled execution's tasks all end.
func TestCancelWinsAcrossInstances(t *testing.T) {
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) { servicetest.CancelUnderLoad(t, open(), 1000) })
	}
}

// A cancel's page of live tasks lost between commit and send is sent again
// by the sweep, so no task stays RUNNING in the cancelled execution.
func TestSweepResendsLostCancelPage(t *testing.T) {
	ctx := context.Background()
	s := service.New(kvstore.NewMemory(), actions.New(), nil)
	s.InlineSteps = 0 // the test delivers the actions itself
	tq, rq := &box{}, &box{}
	s.Tasks, s.Results = tq, rq
	src := "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n    b:\n      action: std.noop\n"
	if _, err := s.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	tq.take()
	rq.fail = 1 // the page's timer is lost
	_, _ = s.Cancel(ctx, e.ID)
	if h, _ := s.Store.Execution(ctx, e.ID); h.State != engine.Cancelled {
		t.Fatalf("after cancel: %s", h.State)
	}
	drain(t, s, tq, rq)
	if tasks, _ := s.Store.Tasks(ctx, e.ID); tasks[0].State != engine.Running {
		t.Fatalf("the lost page ended task %s: %s", tasks[0].Key, tasks[0].State)
	}
	if _, err := s.Sweep(ctx, 0, 100); err != nil {
		t.Fatal(err)
	}
	drain(t, s, tq, rq)
	tasks, _ := s.Store.Tasks(ctx, e.ID)
	for _, tk := range tasks {
		if tk.State != engine.Cancelled {
			t.Fatalf("task %s %s after the sweep", tk.Key, tk.State)
		}
	}
	if h, _ := s.Store.Execution(ctx, e.ID); h.Active != 0 {
		t.Fatalf("active %d after the sweep", h.Active)
	}
}

// A pause spreading from a parent that a resume has since overtaken does
// not pause the sub-workflow: it would stay paused, and pause its parent
// again, with nothing left to resume them.
func TestStalePauseFromParentIgnored(t *testing.T) {
	ctx := context.Background()
	s, _, _ := boxHost(kvstore.NewMemory())
	parent, child := startParentChild(t, s)
	if _, err := s.Pause(ctx, parent); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume(ctx, parent); err != nil {
		t.Fatal(err)
	}
	// The pause's command to the child arrives after the resume's.
	if _, err := s.Engine.PauseWith(ctx, s.Store, child, parent); !errors.Is(err, engine.ErrInvalidState) {
		t.Fatalf("stale pause from the parent: %v, want ErrInvalidState", err)
	}
	if c, _ := s.Store.Execution(ctx, child); c.State != engine.Running {
		t.Fatalf("child %s after a stale pause", c.State)
	}
}

// purgedAfterStatus hides an execution as soon as a read shows it running
// with no work left: as if another host's step finalised it right then
// and a sweep with a very short retention purged it, before this host's
// own check for the end loads it.
type purgedAfterStatus struct {
	store.Store
	mu   sync.Mutex
	gone map[string]bool
}

func (p *purgedAfterStatus) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone[id] {
		return nil, nil
	}
	e, err := p.Store.Execution(ctx, id)
	if err == nil && e != nil && e.State == engine.Running && e.Active == 0 {
		p.gone[id] = true
	}
	return e, err
}

// A callback whose result ends the execution is accepted when the
// execution is finalised and purged elsewhere between the callback's
// commit and its own check for the end: the result was applied, so its
// sender must not be told the work is gone.
func TestCallbackAcceptedWhenPurgedMeanwhile(t *testing.T) {
	for name, open := range drivers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := &purgedAfterStatus{Store: open(), gone: map[string]bool{}}
			s, e, tokens := startDelegate(t, st)
			if err := s.Callback(ctx, <-tokens, true, 1, ""); err != nil {
				t.Fatalf("callback that ended the execution: %v; want accepted", err)
			}
			if task, err := st.Task(ctx, e.ID, "ask"); err != nil || task == nil || task.State != engine.Success {
				t.Fatalf("task after the callback: %+v, %v; want SUCCESS", task, err)
			}
		})
	}
}
