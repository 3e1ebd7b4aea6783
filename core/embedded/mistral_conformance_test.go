package embedded_test

// The Mistral conformance suite: engine tests of openstack/mistral
// (mistral/tests/unit/engine/) ported to data in core/engine/testdata/mistral.
// Each case file holds the workflow exactly as the Mistral test writes it,
// the input, optional control steps (pause, resume, cancel, rerun, complete
// an async action), and the expectations the Mistral test asserts. Every
// case runs end to end through the embedded host over the memory store and
// memory queues, the same path `lazyflow run` takes.
//
// Where a Mistral test mocks an action's results, the case's `mocks` section
// replaces that action in this host's registry with one that returns the
// listed outcomes in order (then behaves as the real action): a real action
// with the same observable behaviour, not a mock of the engine.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// mistralCase is one case file.
type mistralCase struct {
	// Mistral names the test it came from: "file.py Class.test_method".
	Mistral  string         `yaml:"mistral"`
	Workflow string         `yaml:"workflow"` // the definition (workflow or workbook YAML)
	Start    string         `yaml:"start"`    // workflow to start (a workbook prefix "wb." is allowed)
	Input    map[string]any `yaml:"input"`
	Env      map[string]any `yaml:"env"`
	Target   string         `yaml:"target"` // reverse workflows: task_name
	// Mocks: action name -> outcomes returned in order, then the real action runs.
	Mocks map[string][]mockOutcome `yaml:"mocks"`
	Steps []step                   `yaml:"steps"`
	// Gap marks a known difference from Mistral: the case is counted as
	// skipped and the reason is printed. Skip is for cases Lazyflow cannot
	// have at all (ssh, OpenStack actions).
	Gap    string `yaml:"gap"`
	Skip   string `yaml:"skip"`
	Expect expect `yaml:"expect"`
}

type mockOutcome struct {
	Output any     `yaml:"output"`
	Error  string  `yaml:"error"`
	Sleep  float64 `yaml:"sleep"` // seconds the action takes
	// IfOutput, when set, reserves this outcome for a call whose input
	// "output" is this text (Mistral's mocks go by call order, which
	// parallel items do not keep here).
	IfOutput string `yaml:"if_output"`
}

// step is one control action between start and the final expectations.
type step struct {
	Wait     string    `yaml:"wait"`      // wait for this execution state
	WaitTask *taskWait `yaml:"wait_task"` // wait for a task state
	// Claimed waits for a runner to have claimed this task's action: a step
	// that must follow the claim (an end the action outlives) waits for it.
	Claimed  string        `yaml:"claimed"`
	Pause    bool          `yaml:"pause"`
	Resume   bool          `yaml:"resume"`
	Cancel   bool          `yaml:"cancel"`
	Rerun    string        `yaml:"rerun"` // task name to rerun
	Complete *asyncOutcome `yaml:"complete"`
	// CompleteItems completes the async items of a with-items task one by
	// one, in index order, checking that no more than Concurrency run at once.
	CompleteItems *itemsOutcome `yaml:"complete_items"`
	Sleep         float64       `yaml:"sleep"`
	Check         *expect       `yaml:"check"` // intermediate expectations
}

type itemsOutcome struct {
	Task        string `yaml:"task"`
	Concurrency int    `yaml:"concurrency"`
	Outputs     []any  `yaml:"outputs"`
}

type taskWait struct {
	Task  string `yaml:"task"`
	State string `yaml:"state"`
}

type asyncOutcome struct {
	Task   string `yaml:"task"`
	Output any    `yaml:"output"`
	Error  string `yaml:"error"`
}

type expect struct {
	State     string `yaml:"state"`
	StateInfo string `yaml:"state_info"` // substring
	Output    any    `yaml:"output"`
	HasOutput bool   `yaml:"-"`
	// OutputContains: these keys of the output with these values (Mistral's _assert_dict_contains_subset).
	OutputContains map[string]any    `yaml:"output_contains"`
	Tasks          map[string]any    `yaml:"tasks"`     // name -> state, or list of states in start order
	TaskInfo       map[string]string `yaml:"task_info"` // name -> state_info substring
	Published      map[string]any    `yaml:"published"` // name -> published map
	Results        map[string]any    `yaml:"results"`   // name -> task result
	NumTasks       *int              `yaml:"num_tasks"` // task executions (join records that never fired count too)
	Absent         []string          `yaml:"absent"`    // tasks that must never have run
	Calls          map[string]int    `yaml:"calls"`     // action name -> times called
}

func (e *expect) UnmarshalYAML(n *yaml.Node) error {
	type plain expect
	if err := n.Decode((*plain)(e)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "output" {
			e.HasOutput = true
		}
	}
	return nil
}

var mistralDir = filepath.Join("..", "engine", "testdata", "mistral")

func TestMistralConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(mistralDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", mistralDir, err)
	}
	var passed, failed, skipped atomic.Int64
	var mu sync.Mutex
	var skips []string
	t.Cleanup(func() {
		sort.Strings(skips)
		for _, s := range skips {
			t.Log(s)
			fmt.Println("  skipped:", s)
		}
		fmt.Printf("mistral conformance: %d passed, %d failed, %d skipped\n", passed.Load(), failed.Load(), skipped.Load())
	})
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c mistralCase
		if err := yaml.Unmarshal(src, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Mistral == "" || c.Workflow == "" {
			t.Fatalf("%s: a case needs mistral: (its origin) and workflow:", f)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if reason := c.Skip + c.Gap; reason != "" {
				skipped.Add(1)
				kind := "known gap"
				if c.Skip != "" {
					kind = "cannot run here"
				}
				mu.Lock()
				skips = append(skips, fmt.Sprintf("%s (%s) %s: %s", name, c.Mistral, kind, reason))
				mu.Unlock()
				t.Skipf("%s: %s", kind, reason)
			}
			defer func() {
				if t.Failed() {
					failed.Add(1)
				} else {
					passed.Add(1)
				}
			}()
			runMistralCase(t, &c)
		})
	}
}

// mockRegistry replaces the mocked actions with ones that return the
// listed outcomes in order (then behave as the real action), and counts
// every call of every synchronous action.
func mockRegistry(c *mistralCase, calls *sync.Map) *actions.Registry {
	reg, real := actions.New(), actions.New()
	count := func(name string) int {
		v, _ := calls.LoadOrStore(name, new(atomic.Int64))
		return int(v.(*atomic.Int64).Add(1))
	}
	names := map[string]bool{}
	for _, n := range real.Names() {
		if !real.IsAsync(n) {
			names[n] = true
		}
	}
	for n := range c.Mocks {
		names[n] = true
	}
	for name := range names {
		outcomes, has := c.Mocks[name], real.Has(name)
		var mu sync.Mutex
		used := make([]bool, len(outcomes))
		// next takes the first unused outcome meant for this call; a
		// test-only action of Mistral's tests (not registered here) keeps
		// repeating its last outcome.
		next := func(in map[string]any) (mockOutcome, bool) {
			mu.Lock()
			defer mu.Unlock()
			for i, o := range outcomes {
				if !used[i] && (o.IfOutput == "" || o.IfOutput == fmt.Sprint(in["output"])) {
					used[i] = true
					return o, true
				}
			}
			if !has && len(outcomes) > 0 {
				return outcomes[len(outcomes)-1], true
			}
			return mockOutcome{}, false
		}
		reg.Register(name, func(ctx context.Context, in map[string]any) (any, error) {
			count(name)
			if o, ok := next(in); ok {
				if o.Sleep > 0 {
					time.Sleep(time.Duration(o.Sleep * float64(time.Second)))
				}
				if o.Error != "" {
					return nil, errors.New(o.Error)
				}
				return value.Normalize(o.Output), nil
			}
			out, _, err := real.Run(ctx, name, in, nil)
			return out, err
		})
	}
	// sleep_echo is Mistral's RandomSleepEchoAction: echo after a random
	// short sleep, so results arrive out of order.
	reg.Register("sleep_echo", func(ctx context.Context, in map[string]any) (any, error) {
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
		return in["output"], nil
	})
	return reg
}

func quietLog() *slog.Logger {
	if os.Getenv("LAZYFLOW_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func runMistralCase(t *testing.T, c *mistralCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var calls sync.Map
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: mockRegistry(c, &calls), Log: quietLog()})
	// std.async_noop needs a callback key to make its (unused) callback URL.
	h.CallbackKey = []byte("conformance-test-key-of-32-bytes!")
	h.Run(ctx)
	defer h.Close()
	names, err := h.Register(ctx, "wf.yaml", []byte(c.Workflow))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	wf := c.Start
	if wf == "" {
		wf = names[0]
	}
	if i := strings.LastIndex(wf, "."); i >= 0 && !contains(names, wf) {
		wf = wf[i+1:] // workbook workflows are registered by their short name
	}
	e, _, err := h.Start(ctx, service.StartRequest{Workflow: wf, Input: value.MapOf(c.Input), Env: value.MapOf(c.Env), Target: c.Target})
	if err != nil {
		if c.Expect.State == "START_ERROR" {
			if !strings.Contains(err.Error(), c.Expect.StateInfo) {
				t.Fatalf("start error %q does not contain %q", err, c.Expect.StateInfo)
			}
			return
		}
		t.Fatalf("start: %v", err)
	}
	if c.Expect.State == "START_ERROR" {
		t.Fatalf("start succeeded (%s), expected an error containing %q", e.State, c.Expect.StateInfo)
	}
	id := e.ID
	for i, s := range c.Steps {
		if err := doStep(ctx, h, id, s); err != nil {
			dumpExecution(t, h, id)
			t.Fatalf("step %d: %v", i+1, err)
		}
		if s.Check != nil {
			checkExpect(t, ctx, h, id, s.Check, &calls, fmt.Sprintf("after step %d: ", i+1))
			if t.Failed() {
				return
			}
		}
	}
	checkExpect(t, ctx, h, id, &c.Expect, &calls, "")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func doStep(ctx context.Context, h *embedded.Host, id string, s step) error {
	switch {
	case s.Wait != "":
		return waitState(ctx, h, id, engine.State(s.Wait))
	case s.WaitTask != nil:
		return waitFor(ctx, fmt.Sprintf("task %s in state %s", s.WaitTask.Task, s.WaitTask.State), func() (bool, error) {
			ts, err := tasksByName(ctx, h, id)
			if err != nil {
				return false, err
			}
			l := ts[s.WaitTask.Task]
			return len(l) > 0 && string(l[len(l)-1].State) == s.WaitTask.State, nil
		})
	case s.Pause:
		_, err := h.Pause(ctx, id)
		return err
	case s.Resume:
		_, err := h.Resume(ctx, id)
		return err
	case s.Cancel:
		_, err := h.Cancel(ctx, id)
		return err
	case s.Rerun != "":
		ts, err := tasksByName(ctx, h, id)
		if err != nil {
			return err
		}
		l := ts[s.Rerun]
		if len(l) == 0 {
			return fmt.Errorf("rerun: no task %s", s.Rerun)
		}
		_, err = h.Rerun(ctx, id, l[len(l)-1].Key)
		return err
	case s.Claimed != "":
		_, err := claimedTask(ctx, h, id, s.Claimed)
		return err
	case s.Complete != nil:
		rec, err := claimedTask(ctx, h, id, s.Complete.Task)
		if err != nil {
			return err
		}
		return h.TaskComplete(ctx, engine.Result{Exec: id, Task: rec.Key, Slot: -1, Attempt: rec.Attempt,
			OK: s.Complete.Error == "", Output: value.Normalize(s.Complete.Output), Error: s.Complete.Error})
	case s.CompleteItems != nil:
		return completeItems(ctx, h, id, s.CompleteItems)
	case s.Sleep > 0:
		time.Sleep(time.Duration(s.Sleep * float64(time.Second)))
		return nil
	case s.Check != nil:
		return nil
	}
	return fmt.Errorf("empty step")
}

// claimedTask waits for task name to be running with its action claimed by
// a runner, and returns its record.
func claimedTask(ctx context.Context, h *embedded.Host, id, name string) (*engine.Task, error) {
	var rec *engine.Task
	err := waitFor(ctx, "task "+name+" running with its action claimed", func() (bool, error) {
		ts, err := tasksByName(ctx, h, id)
		if err != nil {
			return false, err
		}
		l := ts[name]
		if len(l) > 0 && l[len(l)-1].State == engine.Running && l[len(l)-1].Claimed == l[len(l)-1].Attempt {
			rec = l[len(l)-1]
			return true, nil
		}
		return false, nil
	})
	return rec, err
}

func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitState(ctx context.Context, h *embedded.Host, id string, st engine.State) error {
	var last engine.State
	err := waitFor(ctx, "execution state "+string(st), func() (bool, error) {
		e, err := h.Store.Execution(ctx, id)
		if err != nil {
			return false, err
		}
		last = e.State
		if e.State != st && e.State.Terminal() {
			return false, fmt.Errorf("execution ended %s (%s), not %s", e.State, e.StateInfo, st)
		}
		return e.State == st, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last state %s)", err, last)
	}
	return nil
}

func tasksByName(ctx context.Context, h *embedded.Host, id string) (map[string][]*engine.Task, error) {
	all, err := h.Store.Tasks(ctx, id)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	out := map[string][]*engine.Task{}
	for _, t := range all {
		out[t.Name] = append(out[t.Name], t)
	}
	return out, nil
}

func checkExpect(t *testing.T, ctx context.Context, h *embedded.Host, id string, x *expect, calls *sync.Map, where string) {
	t.Helper()
	var e *engine.Execution
	var err error
	switch st := engine.State(x.State); {
	case st == "":
		e, err = h.Wait(ctx, id, true)
	case st.Terminal() || st == engine.Paused:
		err = waitState(ctx, h, id, st)
		if err == nil {
			e, err = h.Store.Execution(ctx, id)
		}
	default:
		e, err = h.Store.Execution(ctx, id)
	}
	if err == nil && e.State.Terminal() {
		// As Mistral's tests await a task started with a succeed/fail
		// command after the workflow's end.
		err = h.Settle(ctx, id)
	}
	if err != nil {
		dumpExecution(t, h, id)
		t.Fatalf("%swait: %v", where, err)
	}
	fail := func(format string, a ...any) {
		t.Helper()
		t.Errorf(where+format, a...)
	}
	if x.State != "" && string(e.State) != x.State {
		fail("execution state %s, want %s (state_info %q)", e.State, x.State, e.StateInfo)
	}
	if x.StateInfo != "" && !strings.Contains(e.StateInfo, x.StateInfo) {
		fail("execution state_info %q does not contain %q", e.StateInfo, x.StateInfo)
	}
	if x.HasOutput && !sameValue(e.Output, x.Output) {
		fail("output %s, want %s", js(e.Output), js(x.Output))
	}
	if len(x.OutputContains) > 0 {
		out, _ := value.AsGoMap(jsonRound(e.Output))
		for k, v := range x.OutputContains {
			if got, ok := out[k]; !ok || !sameValue(got, v) {
				fail("output[%s] = %s, want %s (output %s)", k, js(got), js(v), js(e.Output))
			}
		}
	}
	ts, err := tasksByName(ctx, h, id)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range x.Tasks {
		l := ts[name]
		var got []string
		for _, r := range l {
			got = append(got, string(r.State))
		}
		switch w := want.(type) {
		case string:
			if len(got) != 1 || got[0] != w {
				fail("task %s states %v, want [%s]", name, got, w)
			}
		case []any:
			if js(got) != js(w) {
				fail("task %s states %v, want %v", name, got, w)
			}
		}
	}
	for name, want := range x.TaskInfo {
		l := ts[name]
		if len(l) == 0 || !strings.Contains(l[len(l)-1].StateInfo, want) {
			info := ""
			if len(l) > 0 {
				info = l[len(l)-1].StateInfo
			}
			fail("task %s state_info %q does not contain %q", name, info, want)
		}
	}
	for name, want := range x.Published {
		l := ts[name]
		if len(l) == 0 {
			fail("task %s did not run; want published %s", name, js(want))
			continue
		}
		got := any(l[len(l)-1].Published)
		if l[len(l)-1].Published == nil {
			got = map[string]any{}
		}
		if !sameValue(got, want) {
			fail("task %s published %s, want %s", name, js(got), js(want))
		}
	}
	for name, want := range x.Results {
		l := ts[name]
		if len(l) == 0 {
			fail("task %s did not run; want result %s", name, js(want))
			continue
		}
		if got := l[len(l)-1].Result; !sameValue(got, want) {
			fail("task %s result %s, want %s", name, js(got), js(want))
		}
	}
	if x.NumTasks != nil {
		n := 0
		for _, l := range ts {
			n += len(l)
		}
		if n != *x.NumTasks {
			fail("%d task executions, want %d", n, *x.NumTasks)
		}
	}
	for _, name := range x.Absent {
		if len(ts[name]) > 0 {
			fail("task %s ran (%s), want it never to run", name, ts[name][0].State)
		}
	}
	for name, want := range x.Calls {
		got := int64(0)
		if v, ok := calls.Load(name); ok {
			got = v.(*atomic.Int64).Load()
		}
		if got != int64(want) {
			fail("action %s called %d times, want %d", name, got, want)
		}
	}
	if t.Failed() {
		dumpExecution(t, h, id)
	}
}

func dumpExecution(t *testing.T, h *embedded.Host, id string) {
	t.Helper()
	ctx := context.Background()
	e, _ := h.Store.Execution(ctx, id)
	if e != nil {
		t.Logf("execution %s: %s %q output=%s active=%d errors=%d", e.Workflow, e.State, e.StateInfo, js(e.Output), e.Active, e.Errors)
	}
	all, _ := h.Store.Tasks(ctx, id)
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	for _, r := range all {
		t.Logf("  task %s (%s): %s %q published=%s result=%s", r.Name, r.Key, r.State, r.StateInfo, js(r.Published), js(r.Result))
	}
}

func sameValue(a, b any) bool {
	return reflect.DeepEqual(jsonRound(a), jsonRound(b))
}

func jsonRound(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func completeItems(ctx context.Context, h *embedded.Host, id string, ci *itemsOutcome) error {
	for i, out := range ci.Outputs {
		var key string
		var running int
		err := waitFor(ctx, fmt.Sprintf("item %d of %s claimed", i, ci.Task), func() (bool, error) {
			ts, err := tasksByName(ctx, h, id)
			if err != nil || len(ts[ci.Task]) == 0 {
				return false, err
			}
			key = ts[ci.Task][0].Key
			slots, err := h.Store.Slots(ctx, id, key)
			if err != nil {
				return false, err
			}
			running = 0
			claimed := false
			for _, sl := range slots {
				if sl.State == engine.Running {
					running++
					if sl.Index == i && sl.Claimed == sl.Attempt {
						claimed = true
					}
				}
			}
			return claimed, nil
		})
		if err != nil {
			return err
		}
		if want := min(ci.Concurrency, len(ci.Outputs)-i); ci.Concurrency > 0 && running != want {
			return fmt.Errorf("%d items of %s running before item %d completes, want %d (concurrency)", running, ci.Task, i, want)
		}
		if err := h.TaskComplete(ctx, engine.Result{Exec: id, Task: key, Slot: i, Attempt: 1, OK: true, Output: value.Normalize(out)}); err != nil {
			return err
		}
	}
	return nil
}
