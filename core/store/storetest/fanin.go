package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// FanInSource is a workflow "fan" whose task start fans out to n branches
// b0..b<n-1>, each publishing v<i> from its result, all joined by the task
// join (join: all).
func FanInSource(n int) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nfan:\n  tasks:\n    start:\n      action: std.noop\n      on-success:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "        - b%d\n", i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    b%d:\n      action: std.noop\n      publish:\n        v%d: <%% task().result %%>\n      on-success: join\n", i, i)
	}
	b.WriteString("    join:\n      join: all\n      action: std.noop\n")
	return b.String()
}

// ChainSource is a workflow "chain" of n tasks c0 -> c1 -> ... each
// publishing its result as last.
func ChainSource(n int) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nchain:\n  tasks:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    c%d:\n      action: std.noop\n      publish:\n        last: <%% task().result %%>\n", i)
		if i+1 < n {
			fmt.Fprintf(&b, "      on-success: c%d\n", i+1)
		}
	}
	return b.String()
}

// Recorder is a service.Sender that keeps what is sent instead of queueing
// it: the tests deliver results themselves, so they decide order and
// duplication.
type Recorder struct {
	mu   sync.Mutex
	cmds []engine.Command
	msgs [][]byte
}

// Send implements service.Sender.
func (r *Recorder) Send(ctx context.Context, body []byte, delay time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, append([]byte(nil), body...))
	var c engine.Command
	if json.Unmarshal(body, &c) == nil && c.Kind != "" {
		r.cmds = append(r.cmds, c)
	}
	return nil
}

// Runs returns the RunAction commands sent for exec (all executions if "").
func (r *Recorder) Runs(exec string) []engine.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.Command
	for _, c := range r.cmds {
		if c.Kind == engine.RunAction && (exec == "" || c.Exec == exec) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns everything sent.
func (r *Recorder) Messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

// NewService returns a service over st whose queues are Recorders.
func NewService(st store.Store) (*service.Service, *Recorder, *Recorder) {
	svc := service.New(st, actions.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The suites deliver every action's result by hand: none runs inline.
	svc.InlineSteps = 0
	tasks, results := &Recorder{}, &Recorder{}
	svc.Tasks, svc.Results = tasks, results
	return svc, tasks, results
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// testFanIn: opt.Executions executions of an opt.Branches-wide fan-out
// joined by one task run at once; every branch result is delivered twice,
// shuffled, by opt.Workers goroutines through the service. The join must run
// exactly once per execution with every branch's published value.
func testFanIn(t *testing.T, st store.Store, opt Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	svc, tasks, _ := NewService(st)
	if _, err := svc.Register(ctx, "fan.yaml", []byte(FanInSource(opt.Branches))); err != nil {
		t.Fatalf("register: %v", err)
	}
	var ids []string
	for i := 0; i < opt.Executions; i++ {
		e, _, err := svc.Start(ctx, service.StartRequest{Workflow: "fan"})
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		ids = append(ids, e.ID)
		if err := svc.TaskComplete(ctx, engine.Result{Exec: e.ID, Task: "start", Slot: -1, Attempt: 1, OK: true}); err != nil {
			t.Fatalf("result of start: %v", err)
		}
	}
	var results []engine.Result
	for _, id := range ids {
		if n := len(tasks.Runs(id)); n != opt.Branches+1 {
			t.Fatalf("execution %s sent %d actions after start, want %d", id, n, opt.Branches+1)
		}
		for i := 0; i < opt.Branches; i++ {
			r := engine.Result{Exec: id, Task: fmt.Sprintf("b%d", i), Slot: -1, Attempt: 1, OK: true, Output: int64(i)}
			results = append(results, r, r)
		}
	}
	rand.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	work := make(chan engine.Result)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if err := svc.TaskComplete(ctx, r); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("result of %s/%s: %w", r.Exec, r.Task, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range results {
		work <- r
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d results failed; first: %v", len(errs), errs[0])
	}
	for _, id := range ids {
		var joins []engine.Command
		for _, c := range tasks.Runs(id) {
			if c.Task == "join" {
				joins = append(joins, c)
			}
		}
		// A redelivered result of the branch that fired the join sends the
		// join's action again (crash repair); what must hold is that it is
		// one attempt, which runners can claim once.
		claims := 0
		for _, c := range joins {
			if c.Attempt != 1 {
				t.Fatalf("execution %s: the join was dispatched at attempt %d, want only attempt 1", id, c.Attempt)
			}
			if err := st.ClaimAttempt(ctx, store.ClaimParams{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt}); err == nil {
				claims++
			}
		}
		if len(joins) == 0 || len(joins) > 2 || claims != 1 {
			t.Fatalf("execution %s: the join's action was sent %d times and claimed %d times; want one claimable attempt, sent once (twice at most, when the firing result was redelivered)", id, len(joins), claims)
		}
		j := task(t, st, id, "join")
		if j == nil || !j.Fired || j.State != engine.Running || j.Arrived != int64(opt.Branches) {
			t.Fatalf("execution %s: join record %+v", id, j)
		}
		for i := 0; i < opt.Branches; i++ {
			v, ok := asFloat(j.Ctx.Value(fmt.Sprintf("v%d", i)))
			if !ok || v != float64(i) {
				t.Fatalf("execution %s: the join's context has v%d = %v, want %d", id, i, j.Ctx.Value(fmt.Sprintf("v%d", i)), i)
			}
		}
		if err := svc.TaskComplete(ctx, engine.Result{Exec: id, Task: "join", Slot: -1, Attempt: 1, OK: true}); err != nil {
			t.Fatalf("result of join: %v", err)
		}
		h := head(t, st, id)
		if h.State != engine.Success || h.Active != 0 || h.Errors != 0 {
			t.Fatalf("execution %s ended %s (%s) active %d errors %d, want SUCCESS", id, h.State, h.StateInfo, h.Active, h.Errors)
		}
		if n := len(tasks.Runs(id)) - len(joins); n != opt.Branches+1 {
			t.Fatalf("execution %s sent %d actions besides the join's, want %d (each once)", id, n, opt.Branches+1)
		}
	}
}

// joinRoundsSource forks a and b from init, joins them in j, and loops back
// to a and b until j has run three times.
const joinRoundsSource = `version: '2.0'
rounds:
  output:
    rounds: <% $.i %>
  tasks:
    init:
      action: std.noop
      publish: {i: 0}
      on-success: [a, b]
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
      publish: {i: <% $.i + 1 %>}
      on-success:
        - a: <% $.i < 3 %>
        - b: <% $.i < 3 %>
`

// testJoinRounds: a join inside a cycle runs once per round, each round
// counting its own arrivals, with every result delivered twice (the second
// as a redelivery would be), through the service on this driver.
func testJoinRounds(t *testing.T, st store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, tasks, _ := NewService(st)
	if _, err := svc.Register(ctx, "rounds.yaml", []byte(joinRoundsSource)); err != nil {
		t.Fatalf("register: %v", err)
	}
	e, _, err := svc.Start(ctx, service.StartRequest{Workflow: "rounds"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	delivered := map[string]bool{}
	joins := 0
	for step := 0; step < 50; step++ {
		var pending []engine.Command
		for _, c := range tasks.Runs(e.ID) {
			k := fmt.Sprintf("%s/%d", c.Task, c.Attempt)
			if !delivered[k] {
				delivered[k] = true
				pending = append(pending, c)
				if strings.HasPrefix(c.Task, "j") {
					joins++
				}
			}
		}
		if len(pending) == 0 {
			break
		}
		for _, c := range pending {
			r := engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: true}
			for i := 0; i < 2; i++ {
				if err := svc.TaskComplete(ctx, r); err != nil {
					t.Fatalf("result of %s (delivery %d): %v", c.Task, i+1, err)
				}
			}
		}
	}
	h := head(t, st, e.ID)
	if h.State != engine.Success {
		t.Fatalf("execution %s %q, want SUCCESS", h.State, h.StateInfo)
	}
	out, _ := value.AsGoMap(h.Output)
	if n, _ := asFloat(out["rounds"]); n != 3 || joins != 3 {
		t.Fatalf("output %v after %d runs of the join, want 3 rounds", h.Output, joins)
	}
}

// arrive is the pair of ops the engine commits for one branch reaching join key.
func arrive(exec, key, from string, ctx *value.Map) []engine.Op {
	return []engine.Op{engine.PutArrival{Exec: exec, Join: key, From: from, Ctx: ctx},
		engine.CountArrival{Exec: exec, Key: key, Name: key}}
}

func arrivals(t *testing.T, s store.Store, exec, key string) map[string]*value.Map {
	t.Helper()
	a, err := s.Arrivals(ctxBG, exec, key)
	if err != nil {
		t.Fatalf("arrivals of %s: %v", key, err)
	}
	return a
}
