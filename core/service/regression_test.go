package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

type box struct {
	mu   sync.Mutex
	msgs [][]byte
	fail int
}

func (b *box) Send(ctx context.Context, body []byte, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail > 0 {
		b.fail--
		return errors.New("injected send failure")
	}
	b.msgs = append(b.msgs, append([]byte(nil), body...))
	return nil
}
func (b *box) take() [][]byte { b.mu.Lock(); defer b.mu.Unlock(); m := b.msgs; b.msgs = nil; return m }

type flakyStore struct {
	store.Store
	failIf func([]engine.Op) bool
}

func (f *flakyStore) Commit(ctx context.Context, ops []engine.Op) error {
	if f.failIf != nil && f.failIf(ops) {
		f.failIf = nil
		return store.ErrUnavailable
	}
	return f.Store.Commit(ctx, ops)
}

func setup(t *testing.T, src string) (*service.Service, *flakyStore, *box, *box) {
	fs := &flakyStore{Store: kvstore.NewMemory()}
	s := service.New(fs, actions.New(), nil)
	// These tests deliver every message by hand: no action runs inline.
	s.InlineSteps = 0
	tq, rq := &box{}, &box{}
	s.Tasks, s.Results = tq, rq
	if _, err := s.Register(context.Background(), "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	return s, fs, tq, rq
}

func runAll(t *testing.T, s *service.Service, tq, rq *box) [][]byte {
	ctx := context.Background()
	for _, m := range tq.take() {
		if err := s.RunTask(ctx, m); err != nil {
			t.Fatalf("runtask: %v", err)
		}
	}
	return rq.take()
}

func state(t *testing.T, s *service.Service, id string) {
	ctx := context.Background()
	e, _ := s.Store.Execution(ctx, id)
	t.Logf("exec %s %s active=%d %q", id, e.State, e.Active, e.StateInfo)
	ts, _ := s.Store.Tasks(ctx, id)
	for _, x := range ts {
		t.Logf("  %s %s attempt=%d claimed=%d outbox=%d", x.Key, x.State, x.Attempt, x.Claimed, len(x.Outbox))
	}
}

// S1: the join fires (committed), the send of its action fails; the
// redelivered result finds the join fired and sends nothing.
func TestRegressionJoinLostAfterSendFailure(t *testing.T) {
	s, _, tq, rq := setup(t, `
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: j
    b:
      action: std.noop
      on-success: j
    j:
      join: all
      action: std.noop
`)
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	res := runAll(t, s, tq, rq)
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	if err := s.HandleMessage(ctx, res[0]); err != nil {
		t.Fatal(err)
	}
	tq.fail = 1
	if err := s.HandleMessage(ctx, res[1]); err == nil {
		t.Fatal("expected the injected failure")
	}
	// The queue redelivers the message.
	if err := s.HandleMessage(ctx, res[1]); err != nil {
		t.Fatal(err)
	}
	state(t, s, e.ID)
	if n := len(tq.take()); n == 0 {
		t.Errorf("S1 reproduced: join j RUNNING, its action never re-sent (tasks queue empty)")
	}
}

// S2: the child finalises (committed); applying its result to the parent
// fails once (store throttled); redelivery never reports to the parent.
func TestRegressionReportParentLost(t *testing.T) {
	s, fs, tq, rq := setup(t, `
version: '2.0'
parent:
  tasks:
    p1:
      workflow: child
child:
  tasks:
    c1:
      action: std.noop
`)
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	res := runAll(t, s, tq, rq)
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	fs.failIf = func(ops []engine.Op) bool {
		for _, o := range ops {
			if pt, ok := o.(engine.PutTask); ok && pt.Task.Exec == e.ID {
				return true
			}
		}
		return false
	}
	if err := s.HandleMessage(ctx, res[0]); err == nil {
		t.Fatal("expected the injected failure")
	}
	if err := s.HandleMessage(ctx, res[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	for len(tq.msgs) > 0 || len(rq.msgs) > 0 {
		for _, m := range runAll(t, s, tq, rq) {
			_ = s.HandleMessage(ctx, m)
		}
	}
	state(t, s, e.ID)
	if p, _ := s.Store.Execution(ctx, e.ID); p.State == engine.Running {
		t.Errorf("S2 reproduced: parent RUNNING forever; the child ended and nothing will report it (even Recover)")
	}
}

// S3: a rerun task's outbox is empty, so when its action message is
// dropped (pause) Resume/Recover cannot send it again.
func TestRegressionRerunLostOnPause(t *testing.T) {
	s, _, tq, rq := setup(t, `
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=<% env().get(x, 1) %>
      fail-on: <% task().result = 1 %>
`)
	ctx := context.Background()
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range runAll(t, s, tq, rq) {
		if err := s.HandleMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if x, _ := s.Store.Execution(ctx, e.ID); x.State != engine.Error {
		t.Fatalf("want ERROR, got %s", x.State)
	}
	if _, err := s.Rerun(ctx, e.ID, "t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pause(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	// The runner sees a paused execution and drops the message ("Resume sends it again").
	if r := runAll(t, s, tq, rq); len(r) != 0 {
		t.Fatalf("ran while paused")
	}
	if _, err := s.Resume(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	state(t, s, e.ID)
	msgs := tq.take()
	if len(msgs) == 0 {
		t.Errorf("S3 reproduced: after Resume nothing re-sends the rerun attempt; t1 RUNNING forever")
	}
	for _, m := range msgs {
		var c engine.Command
		_ = json.Unmarshal(m, &c)
		t.Logf("sent %s %s attempt %d", c.Kind, c.Task, c.Attempt)
	}
	_ = strings.TrimSpace
}

// S4: the child commits but sending its first action fails once; the host
// treats that as "the child cannot start" and fails the parent's task while
// the child exists (and is itself stuck: its action was never sent).
func TestRegressionChildSendFailureFailsParentTask(t *testing.T) {
	s, _, tq, _ := setup(t, `
version: '2.0'
parent:
  tasks:
    p1:
      workflow: child
child:
  tasks:
    c1:
      action: std.noop
`)
	ctx := context.Background()
	tq.fail = 1
	e, _, err := s.Start(ctx, service.StartRequest{Workflow: "parent"})
	t.Logf("start err: %v", err)
	state(t, s, e.ID)
	var c *engine.Execution
	page, err := s.Store.ListExecutions(ctx, store.ListParams{Workflow: "child"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range page.Executions {
		if x.Parent == e.ID {
			c = x
			state(t, s, c.ID)
		}
	}
	p, _ := s.Store.Execution(ctx, e.ID)
	if p.State == engine.Error && c != nil && c.State == engine.Running {
		t.Errorf("S4 reproduced: parent %s (%q) while its child %s is %s", p.State, p.StateInfo, c.ID, c.State)
	}
}
