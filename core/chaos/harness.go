package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// TB is what the harness reports failures to: *testing.T or *rapid.T.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Outcome is what one run of a case ended with.
type Outcome struct {
	// Executions has one line per execution (workflow, parent task, state,
	// output) followed by its tasks' states and published values, sorted.
	Executions []string
	// Runs counts each action's invocations by action key and value, as
	// the actions themselves saw them.
	Runs map[string]int
	// Cancelled is set when the fault schedule cancelled the direct execution.
	Cancelled bool
	// Recovered counts executions that only Recover, not Sweep, could finish.
	Recovered int
}

// RacingOutput stands for the output of a direct execution whose join of
// one or 2 makes it depend on which branches arrived first.
const RacingOutput = "(depends on which branches the join saw first)"

// maxDeliveries bounds one run; a case needs a few hundred at most.
const maxDeliveries = 20000

type callbackMsg struct {
	token  string
	output any
}

// run holds one run of a case.
type run struct {
	t        TB
	faults   *Schedule
	raw      store.Store
	net      *Network
	engines  []*service.Service
	runner   *service.Service
	mu       sync.Mutex
	runs     map[string]int
	calls    []callbackMsg
	paused   bool
	cancel   bool
	cancelOK bool
	ids      []string
}

// Run runs case c on st (an empty store) under faults and checks what must
// hold of any single run: no panic, no poison message, every execution
// ended, no task left running, no work left counted. Comparing it with
// the fault-free run is the caller's (Check).
func Run(t TB, c Case, st store.Store, faults *Schedule) Outcome {
	t.Helper()
	ctx := context.Background()
	r := &run{t: t, faults: faults, raw: st, net: NewNetwork(faults), runs: map[string]int{}, cancel: c.Cancel}
	fs := &Store{Store: st, Faults: faults}
	reg := r.registry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	host := func(lossy bool) *service.Service {
		s := service.New(fs, reg, log)
		s.Tasks, s.Results = r.net.Sender("tasks", lossy), r.net.Sender("results", lossy)
		s.CallbackKey = []byte("chaos-callback-key-of-32-bytes!!")
		return s
	}
	r.engines = []*service.Service{host(true), host(true)}
	r.runner = host(false)
	r.retry("register", func() error { _, err := r.engines[0].Register(ctx, "chaos.yaml", []byte(c.Source)); return err })
	r.start(ctx, service.StartRequest{Workflow: "wf", Input: value.MapFromPairs("flag", true), IdempotencyKey: "wf"})
	if c.Target != "" {
		r.start(ctx, service.StartRequest{Workflow: "rev", Target: c.Target, IdempotencyKey: "rev"})
	}
	out := Outcome{Runs: r.runs}
	for n := 0; ; n++ {
		if n > maxDeliveries {
			t.Fatalf("no end after %d deliveries\n%s", n, c.Source)
		}
		if r.step(ctx) {
			continue
		}
		if r.paused {
			r.control(ctx, "resume")
			continue
		}
		// Nothing in flight: what a lost send left waiting is the sweeper's.
		if _, err := r.engines[0].Sweep(ctx, 0, 1000); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		if r.net.Len() > 0 {
			continue
		}
		if k := r.recoverRunning(ctx); k > 0 {
			out.Recovered += k
			if out.Recovered > 1000 {
				t.Fatalf("stuck: executions still running after %d recoveries\n%s", out.Recovered, c.Source)
			}
			continue
		}
		break
	}
	out.Cancelled = r.cancelOK
	out.Executions = r.check(ctx, c)
	return out
}

func (r *run) registry() *actions.Registry {
	reg := actions.New()
	count := func(in map[string]any) (string, int) {
		k := fmt.Sprintf("%v|%v", in["k"], in["v"])
		r.mu.Lock()
		defer r.mu.Unlock()
		r.runs[k]++
		return k, r.runs[k]
	}
	reg.Register("chaos.echo", func(ctx context.Context, in map[string]any) (any, error) {
		count(in)
		return in["v"], nil
	})
	reg.Register("chaos.flaky", func(ctx context.Context, in map[string]any) (any, error) {
		k, n := count(in)
		if fails, _ := strconv.Atoi(fmt.Sprint(in["fails"])); n <= fails {
			return nil, fmt.Errorf("planned failure %d of %s", n, k)
		}
		return in["v"], nil
	})
	reg.RegisterAsync("chaos.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
		count(in)
		r.mu.Lock()
		r.calls = append(r.calls, callbackMsg{token: cb.Token, output: in["v"]})
		r.mu.Unlock()
		return nil
	})
	return reg
}

// retry calls fn until it succeeds, as a client retries a request that
// failed with a server error; a faulty store fails some of them.
func (r *run) retry(what string, fn func() error) {
	r.t.Helper()
	var err error
	for i := 0; i < 100; i++ {
		if err = fn(); err == nil {
			return
		}
	}
	r.t.Fatalf("%s: still failing after 100 tries: %v", what, err)
}

func (r *run) start(ctx context.Context, req service.StartRequest) {
	r.retry("start "+req.Workflow, func() error {
		e, _, err := r.engines[0].Start(ctx, req)
		if err == nil && req.Workflow == "wf" {
			r.ids = append(r.ids[:0], e.ID)
		}
		return err
	})
}

// step delivers one message or callback, or makes one control call; false
// when there was nothing to deliver.
func (r *run) step(ctx context.Context) bool {
	if r.faults.Hit(FaultControl) {
		r.randomControl(ctx)
	}
	r.mu.Lock()
	nc := len(r.calls)
	r.mu.Unlock()
	if nc > 0 && (r.net.Len() == 0 || r.faults.Intn(4) == 0) {
		r.callback(ctx)
		return true
	}
	m, ok := r.net.Take()
	if !ok {
		return false
	}
	var err error
	r.guard(func() {
		if m.Queue == "tasks" {
			err = r.runner.RunTask(ctx, m.Body)
		} else {
			err = r.engines[r.faults.Intn(2)].HandleMessage(ctx, m.Body)
		}
	})
	if errors.Is(err, service.ErrPoison) {
		// As the hosts do: the message goes to the dead-letter handling,
		// which must not change what a stale message no longer applies to.
		r.faults.Count(DeadLettered)
		r.guard(func() { err = r.engines[0].DeadLetter(ctx, m.Body) })
		return true
	}
	if err != nil {
		r.faults.Count(FaultRedelivery)
		r.net.Put(m)
	}
	return true
}

// guard turns a panic into a test failure with its stack.
func (r *run) guard(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			r.t.Fatalf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	fn()
}

// callback delivers the oldest (or, under faults, any) pending callback;
// one that failed with a server error is kept to be retried, and some are
// delivered again on purpose: exactly one may be applied.
func (r *run) callback(ctx context.Context) {
	r.mu.Lock()
	i := 0
	if len(r.calls) > 1 && r.faults.rates[FaultDuplicate] > 0 {
		i = r.faults.Intn(len(r.calls))
	}
	cb := r.calls[i]
	r.calls = append(r.calls[:i], r.calls[i+1:]...)
	r.mu.Unlock()
	var err error
	r.guard(func() { err = r.engines[0].Callback(ctx, cb.token, true, cb.output, "") })
	again := err != nil && !errors.Is(err, service.ErrCallbackStale) && !errors.Is(err, service.ErrCallbackRejected)
	if err == nil && r.faults.Hit(FaultCallback) {
		again = true
	}
	if again {
		r.mu.Lock()
		r.calls = append(r.calls, cb)
		r.mu.Unlock()
	}
}

func (r *run) randomControl(ctx context.Context) {
	switch {
	case r.paused:
		r.control(ctx, "resume")
	case r.cancel && !r.cancelOK && r.faults.Intn(3) == 0:
		r.control(ctx, "cancel")
	default:
		r.control(ctx, "pause")
	}
}

// control pauses, resumes or cancels the direct execution, retrying server
// errors; a call refused because the execution is not in a state it
// applies to (it ended) changes nothing.
func (r *run) control(ctx context.Context, op string) {
	id := r.ids[0]
	r.retry(op, func() error {
		var err error
		r.guard(func() {
			switch op {
			case "pause":
				_, err = r.engines[0].Pause(ctx, id)
			case "resume":
				_, err = r.engines[0].Resume(ctx, id)
			case "cancel":
				_, err = r.engines[0].Cancel(ctx, id)
			}
		})
		if errors.Is(err, engine.ErrInvalidState) {
			// Not applicable to its state: it ended, or an earlier try
			// took effect though its response was lost.
			return nil
		}
		return err
	})
	// The stored state says what happened, whatever the responses said.
	e, err := r.raw.Execution(ctx, id)
	if err != nil || e == nil {
		r.t.Fatalf("read execution %s after %s: %v", id, op, err)
	}
	r.paused = e.State == engine.Paused
	if op == "cancel" && e.State == engine.Cancelled {
		r.cancelOK = true
	}
}

// recoverRunning calls Recover on every execution still running (or
// cancelled with live work) and
// returns how many there were.
func (r *run) recoverRunning(ctx context.Context) int {
	n := 0
	for _, e := range r.executions(ctx) {
		// A cancelled execution still counting live work has pages of
		// tasks to end (engine.EndTasksCommands), which a lost send of
		// Sweep's leaves for the next sweep.
		if e.State == engine.Running || e.State == engine.Cancelled && e.Active > 0 {
			n++
			// An injected fault may fail it; the loop comes back here.
			_ = r.engines[0].Recover(ctx, e.ID)
		}
	}
	return n
}

func (r *run) executions(ctx context.Context) []*engine.Execution {
	var all []*engine.Execution
	cursor := ""
	for {
		page, err := r.raw.ListExecutions(ctx, store.ListParams{Limit: 100, Cursor: cursor})
		if err != nil {
			r.t.Fatalf("list executions: %v", err)
		}
		all = append(all, page.Executions...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

// check asserts no execution or task is left running and returns the
// executions' canonical lines.
func (r *run) check(ctx context.Context, c Case) []string {
	var lines []string
	for _, e := range r.executions(ctx) {
		if !e.State.Terminal() {
			r.t.Fatalf("stuck: execution %s (%s) ended the run %s, active %d\n%s", e.ID, e.Workflow, e.State, e.Active, c.Source)
		}
		tasks, err := r.raw.Tasks(ctx, e.ID)
		if err != nil {
			r.t.Fatalf("tasks of %s: %v", e.ID, err)
		}
		output := js(errorCause(e, tasks))
		if c.RacingJoin && e.Workflow == "wf" {
			output = RacingOutput
		}
		head := fmt.Sprintf("%s/%s %s %s", e.Workflow, e.ParentTask, e.State, output)
		var ts []string
		for _, t := range tasks {
			if t.State == engine.Running || t.State == engine.RunningDelayed {
				r.t.Fatalf("stuck: task %s of %s execution %s is %s\n%s", t.Key, e.State, e.Workflow, t.State, c.Source)
			}
			ts = append(ts, fmt.Sprintf("%s=%s %s", t.Key, t.State, js(t.Published)))
		}
		sort.Strings(ts)
		lines = append(lines, head+"\n  "+strings.Join(ts, "\n  "))
	}
	sort.Strings(lines)
	return lines
}

// FirstFailure stands for the engine's own error message of an execution in
// which several tasks failed: it names the failure that was applied first,
// and parallel branches may fail in either order.
const FirstFailure = "(names the first of the failed tasks)"

// errorCause returns the output to compare: an ERROR execution's "result"
// (the engine's message) is masked when more than one task failed.
func errorCause(e *engine.Execution, tasks []*engine.Task) any {
	m, ok := value.AsGoMap(e.Output)
	if e.State != engine.Error || !ok {
		return e.Output
	}
	failed := 0
	for _, t := range tasks {
		if t.State == engine.Error {
			failed++
		}
	}
	if _, ok := m["result"]; !ok || failed < 2 {
		return e.Output
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	out["result"] = FirstFailure
	return out
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
