// Package servicetest holds the service-level checks every store driver
// must pass, run by the drivers' tests: what holds across processes, which
// a store's own conformance suite (core/store/storetest) cannot show.
package servicetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// MaxCancelTries bounds the commits a cancel may need against a stream of
// completions: its write does not conflict with them, so only a store's
// transient refusals (a transaction holding the item) cost a try.
const MaxCancelTries = 5

// queue is an in-memory message queue.
type queue struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (q *queue) Send(_ context.Context, body []byte, _ time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, append([]byte(nil), body...))
	return nil
}

func (q *queue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs
	q.msgs = nil
	return m
}

// controlCommits counts the commits the cancelling instance tries.
type controlCommits struct {
	store.Store
	n atomic.Int64
}

func (c *controlCommits) Commit(ctx context.Context, ops []engine.Op) error {
	c.n.Add(1)
	return c.Store.Commit(ctx, ops)
}

// host is one service instance, as one process (a Lambda function) runs it.
type host struct {
	s      *service.Service
	tq, rq *queue
}

func newHost(st store.Store) *host {
	h := &host{s: service.New(st, actions.New(), slog.New(slog.NewTextHandler(io.Discard, nil))), tq: &queue{}, rq: &queue{}}
	h.s.InlineSteps = 0 // every action goes through the queues the race delivers from
	h.s.Tasks, h.s.Results = h.tq, h.rq
	return h
}

// drain delivers messages to h until its queues are empty.
func (h *host) drain(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for range 10000 {
		for _, m := range h.tq.take() {
			if err := h.s.RunTask(ctx, m); err != nil {
				t.Fatalf("run task: %v", err)
			}
		}
		msgs := h.rq.take()
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := h.s.HandleMessage(ctx, m); err != nil {
				t.Fatalf("handle: %v", err)
			}
		}
	}
	t.Fatal("messages never end")
}

// CancelUnderLoad runs an execution of n parallel tasks on st through two
// service instances, as two processes share a store: one applies the
// tasks' completions in a stream while the other cancels. The cancel must
// land within MaxCancelTries commits; the execution ends CANCELLED with
// every task ended (SUCCESS before the cancel, CANCELLED after) and no
// work counted.
func CancelUnderLoad(t *testing.T, st store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	var src strings.Builder
	src.WriteString("version: '2.0'\nwide:\n  tasks:\n")
	for i := range n {
		fmt.Fprintf(&src, "    t%04d:\n      action: std.noop\n", i)
	}
	counted := &controlCommits{Store: st}
	worker, control := newHost(st), newHost(counted)
	if _, err := worker.s.Register(ctx, "wide.yaml", []byte(src.String())); err != nil {
		t.Fatal(err)
	}
	e, _, err := worker.s.Start(ctx, service.StartRequest{Workflow: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	// Every action runs; their results are held back, to be applied in
	// a stream.
	var results [][]byte
	for range 1000 {
		for _, m := range worker.tq.take() {
			if err := worker.s.RunTask(ctx, m); err != nil {
				t.Fatalf("run task: %v", err)
			}
		}
		pending := false
		for _, m := range worker.rq.take() {
			if strings.Contains(string(m), `"kind":"start_page"`) {
				pending = true
				if err := worker.s.HandleMessage(ctx, m); err != nil {
					t.Fatalf("start page: %v", err)
				}
				continue
			}
			results = append(results, m)
		}
		if !pending {
			break
		}
	}
	if len(results) != n {
		t.Fatalf("%d results of %d tasks", len(results), n)
	}

	// The last result waits for the cancel, so the execution cannot end
	// before it.
	var applied atomic.Int64
	cancelled := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i, m := range results {
			if i == len(results)-1 {
				<-cancelled
			}
			if err := worker.s.HandleMessage(ctx, m); err != nil {
				done <- err
				return
			}
			applied.Add(1)
		}
		done <- nil
	}()
	for applied.Load() < int64(n/10) {
		runtime.Gosched()
	}
	_, err = control.s.Cancel(ctx, e.ID)
	during := applied.Load()
	close(cancelled)
	if err != nil {
		t.Fatalf("cancel against a stream of completions (%d of %d applied): %v", during, n, err)
	}
	if tries := counted.n.Load(); tries > MaxCancelTries {
		t.Fatalf("cancel took %d commits against a stream of completions, want at most %d", tries, MaxCancelTries)
	}
	if err := <-done; err != nil {
		t.Fatalf("completion: %v", err)
	}
	t.Logf("cancel landed in %d commits with %d of %d completions applied", counted.n.Load(), during, n)
	control.drain(t)
	worker.drain(t)

	head, err := st.Execution(ctx, e.ID)
	if err != nil || head == nil {
		t.Fatalf("execution after cancel: %v %v", head, err)
	}
	if head.State != engine.Cancelled || head.Active != 0 {
		t.Fatalf("execution after cancel: %s active %d", head.State, head.Active)
	}
	tasks, err := st.Tasks(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	ended := map[engine.State]int{}
	for _, tk := range tasks {
		if tk.State != engine.Success && tk.State != engine.Cancelled {
			t.Fatalf("task %s %s after cancel", tk.Key, tk.State)
		}
		ended[tk.State]++
	}
	if len(tasks) != n || ended[engine.Cancelled] == 0 {
		t.Fatalf("%d tasks of %d after cancel: %v", len(tasks), n, ended)
	}
}
