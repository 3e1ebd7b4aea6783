package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// A result bigger than the store accepts fails its task with a clear error
// instead of being retried forever.
func TestTooLargeResultFailsTask(t *testing.T) {
	st := kvstore.NewMemory()
	st.SetMaxValue(64 << 10)
	reg := actions.New()
	reg.Register("test.big", func(ctx context.Context, in map[string]any) (any, error) {
		return strings.Repeat("x", 100<<10), nil
	})
	h := embedded.New(embedded.Options{Store: st, Actions: reg})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
wf:
  tasks:
    big:
      action: test.big
`
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapOf(map[string]any{})})
	if err != nil {
		t.Fatal(err)
	}
	e, err = h.Wait(ctx, e.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != engine.Error || !strings.Contains(e.StateInfo, "too large") {
		t.Fatalf("state %s %q; want ERROR naming the size problem", e.State, e.StateInfo)
	}
	if h.DeadLetters != 0 {
		t.Fatalf("%d messages were given up on; the result should have been applied as an error", h.DeadLetters)
	}
}

// A workbook's workflows start by their Mistral name (wb.wf) or short name.
func TestWorkbookNames(t *testing.T) {
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := `version: '2.0'
name: wb
workflows:
  wf:
    output:
      r: <% $.r %>
    tasks:
      t:
        action: std.echo output=1
        publish:
          r: <% task().result %>
`
	names, err := h.Register(ctx, "wb.yaml", []byte(src))
	if err != nil || len(names) != 2 {
		t.Fatalf("register: %v %v", names, err)
	}
	for _, n := range []string{"wb.wf", "wf"} {
		e, _, err := h.Start(ctx, service.StartRequest{Workflow: n})
		if err != nil {
			t.Fatalf("start %s: %v", n, err)
		}
		if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != engine.Success {
			t.Fatalf("%s: %v %v", n, e, err)
		}
	}
}

// A task whose action message was lost is sent again by Sweep once it is
// older than the sweep's age, and the execution finishes.
func TestSweepResendsLostAction(t *testing.T) {
	st := kvstore.NewMemory()
	h := embedded.New(embedded.Options{Store: st})
	h.InlineSteps = 0 // the action must go through the task queue to be lost
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := h.Register(ctx, "wf.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n")); err != nil {
		t.Fatal(err)
	}
	// Start with the task queue dropping everything: the action is lost.
	real := h.Tasks
	h.Tasks = dropAll{}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	h.Tasks = real
	h.Run(ctx)
	defer h.Close()
	time.Sleep(300 * time.Millisecond)
	if cur, _ := st.Execution(ctx, e.ID); cur.State != engine.Running {
		t.Fatalf("state %s before the sweep; the lost action should have left it RUNNING", cur.State)
	}
	// Too young for a sweep with a long age: nothing is sent.
	if n, err := h.Sweep(ctx, time.Hour, 100); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	time.Sleep(200 * time.Millisecond)
	if cur, _ := st.Execution(ctx, e.ID); cur.State != engine.Running {
		t.Fatalf("a sweep with a one-hour age resent a young task")
	}
	if _, err := h.Sweep(ctx, 0, 100); err != nil {
		t.Fatal(err)
	}
	if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != engine.Success {
		t.Fatalf("after the sweep: %v %v", e, err)
	}
}

// A delayed task whose timer was lost between commit and send is not left
// delayed for ever: once its delay should have ended before the sweep's
// cutoff, Sweep sends the timer again and the execution finishes.
func TestSweepResendsLostTimer(t *testing.T) {
	st := kvstore.NewMemory()
	h := embedded.New(embedded.Options{Store: st})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	src := "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n      wait-before: 1\n"
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	// Start with the result queue (timers go there) dropping everything.
	real := h.Results
	h.Results = dropAll{}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	h.Results = real
	h.Run(ctx)
	defer h.Close()
	time.Sleep(1500 * time.Millisecond)
	if tk, _ := st.Task(ctx, e.ID, "t1"); tk == nil || tk.State != engine.RunningDelayed {
		t.Fatalf("task before the sweep: %+v; the lost timer should have left it RUNNING_DELAYED", tk)
	}
	// The delay ended a moment ago, not an hour ago: nothing is sent yet.
	if _, err := h.Sweep(ctx, time.Hour, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if tk, _ := st.Task(ctx, e.ID, "t1"); tk.State != engine.RunningDelayed {
		t.Fatalf("a sweep with a one-hour age resent the timer of a task delayed one second ago: %s", tk.State)
	}
	if _, err := h.Sweep(ctx, 0, 100); err != nil {
		t.Fatal(err)
	}
	if e, err = h.Wait(ctx, e.ID, false); err != nil || e.State != engine.Success {
		t.Fatalf("after the sweep: %v %v", e, err)
	}
}

type dropAll struct{}

func (dropAll) Send(context.Context, []byte, time.Duration) error { return nil }

// A dead-lettered result that names no task of its execution is a message
// nothing can apply: the execution fails naming the dead-letter queue rather
// than waiting on. One for an attempt that has ended changes nothing.
func TestDeadLetteredResultForUnknownTaskFailsExecution(t *testing.T) {
	st := kvstore.NewMemory()
	h := embedded.New(embedded.Options{Store: st})
	h.CallbackKey, h.CallbackURL = []byte(strings.Repeat("k", 32)), "http://127.0.0.1:1/callbacks/"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Run(ctx)
	defer h.Close()
	src := "version: '2.0'\nwf:\n  tasks:\n    wait:\n      action: std.async_noop\n"
	if _, err := h.Register(ctx, "wf.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	for tk, _ := st.Task(ctx, e.ID, "wait"); tk == nil || tk.State != engine.Running || tk.Claimed < 1; tk, _ = st.Task(ctx, e.ID, "wait") {
		if ctx.Err() != nil {
			t.Fatal("task wait never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stale := `{"result":{"exec":"` + e.ID + `","task":"wait","slot":-1,"attempt":7,"ok":true}}`
	if err := h.DeadLetter(ctx, []byte(stale)); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.Execution(ctx, e.ID); cur.State != engine.Running {
		t.Fatalf("a dead-lettered result for an attempt that is not the running one changed the execution: %s", cur.State)
	}
	poison := `{"result":{"exec":"` + e.ID + `","task":"no-such-task","slot":-1,"attempt":1,"ok":true}}`
	if err := h.DeadLetter(ctx, []byte(poison)); err != nil {
		t.Fatal(err)
	}
	got, err := h.Wait(ctx, e.ID, false)
	if err != nil || got.State != engine.Error || !strings.Contains(got.StateInfo, "dead-letter") {
		t.Fatalf("want ERROR naming the dead-letter queue, got %v %q %v", got.State, got.StateInfo, err)
	}
}
