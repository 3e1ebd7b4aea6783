// Package storetest is the conformance suite every store.Store driver must
// pass, in the style of gocloud.dev's drivertest: the same behaviour tests
// run against the in-memory store, the bbolt store and the DynamoDB driver,
// so the engine can rely on one meaning of each conditional op whatever the
// database.
//
// A driver's test calls Run (or RunWith, to size the large-value tests or
// the concurrency test) with a constructor that returns an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// Options sizes the parts of the suite whose cost depends on the driver.
type Options struct {
	// Big is the size of a task result that must round-trip intact
	// (default 256 KiB: over DynamoDB's offload threshold).
	Big int
	// TooBig is the size of a task result the store must refuse with
	// ErrTooLarge (default 8 MiB).
	TooBig int
	// Branches is the fan-out width of the concurrency test (default 200).
	Branches int
	// Executions is how many such executions run at once (default 3).
	Executions int
	// Workers is how many goroutines deliver results (default 32).
	Workers int
}

func (o *Options) defaults() {
	if o.Big == 0 {
		o.Big = 256 << 10
	}
	if o.TooBig == 0 {
		o.TooBig = 8 << 20
	}
	if o.Branches == 0 {
		o.Branches = 200
	}
	if o.Executions == 0 {
		o.Executions = 3
	}
	if o.Workers == 0 {
		o.Workers = 32
	}
}

// Run runs the whole suite with default options.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	RunWith(t, newStore, Options{})
}

// RunWith runs the whole suite. newStore must return an empty store; the
// suite closes it.
func RunWith(t *testing.T, newStore func(t *testing.T) store.Store, opt Options) {
	opt.defaults()
	open := func(t *testing.T) store.Store {
		s := newStore(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"PutExecution", testPutExecution},
		{"AddExecution", testAddExecution},
		{"SetState", testSetState},
		{"Status", testStatus},
		{"CountersIsolate", testCountersIsolate},
		{"PutTask", testPutTask},
		{"TasksAfter", testTasksAfter},
		{"AddItems", testAddItems},
		{"ArriveJoin", testArriveJoin},
		{"PutSlot", testPutSlot},
		{"PutLeaf", testPutLeaf},
		{"Atomicity", testAtomicity},
		{"ClaimTask", testClaimTask},
		{"ClaimSlot", testClaimSlot},
		{"Definitions", testDefinitions},
		{"Actions", testActions},
		{"ListExecutions", testListExecutions},
		{"PurgeExecutions", testPurgeExecutions},
		{"DeleteExecution", testDeleteExecution},
		{"DeleteDefinition", testDeleteDefinition},
		{"Environments", testEnvironments},
		{"TasksOrder", testTasksOrder}, {"Numbers", testNumbers},
		{"LargeValues", func(t *testing.T, s store.Store) { testLargeValues(t, s, opt) }},
		{"ConcurrentCounters", testConcurrentCounters},
		{"ConcurrentPut", testConcurrentPut},
		{"Checks", testChecks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
	t.Run("FanInJoin", func(t *testing.T) { testFanIn(t, open(t), opt) })
	t.Run("JoinRounds", func(t *testing.T) { testJoinRounds(t, open(t)) })
}

// ---------------------------------------------------------------- helpers

var ctxBG = context.Background()

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

func newExec(id string) *engine.Execution {
	return &engine.Execution{ID: id, Workflow: "wf", DefID: "def1", State: engine.Running,
		Input: orderedInput(), Vars: dict("v", []any{"p", true}),
		Root: id, Created: t0, Updated: t0}
}

func newTask(exec, key string) *engine.Task {
	return &engine.Task{Exec: exec, Key: key, Name: strings.SplitN(key, "#", 2)[0], State: engine.Running,
		Ctx: dict("k", "v"), Attempt: 1, Seq: 1, Started: t0,
		Outbox: []engine.Command{{Kind: engine.RunAction, Exec: exec, Task: key, Slot: -1, Attempt: 1, Action: "std.noop"}}}
}

func commit(t *testing.T, s store.Store, ops ...engine.Op) {
	t.Helper()
	if err := s.Commit(ctxBG, ops); err != nil {
		t.Fatalf("commit %s: %v", opNames(ops), err)
	}
}

func mustConflict(t *testing.T, s store.Store, why string, ops ...engine.Op) {
	t.Helper()
	err := s.Commit(ctxBG, ops)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("%s: commit %s: got %v, want an error wrapping store.ErrConflict", why, opNames(ops), err)
	}
}

func opNames(ops []engine.Op) string {
	var n []string
	for _, o := range ops {
		n = append(n, strings.TrimPrefix(fmt.Sprintf("%T", o), "engine."))
	}
	return "[" + strings.Join(n, " ") + "]"
}

func head(t *testing.T, s store.Store, id string) *engine.Execution {
	t.Helper()
	e, err := s.Execution(ctxBG, id)
	if err != nil {
		t.Fatalf("Execution(%s): %v", id, err)
	}
	return e
}

func task(t *testing.T, s store.Store, exec, key string) *engine.Task {
	t.Helper()
	r, err := s.Task(ctxBG, exec, key)
	if err != nil {
		t.Fatalf("Task(%s, %s): %v", exec, key, err)
	}
	return r
}

func slot(t *testing.T, s store.Store, exec, key string, i int) *engine.Slot {
	t.Helper()
	r, err := s.Slot(ctxBG, exec, key, i)
	if err != nil {
		t.Fatalf("Slot(%s, %s, %d): %v", exec, key, i, err)
	}
	return r
}

func counters(e *engine.Execution) [4]any {
	return [4]any{e.Active, e.Errors, e.Seq, e.ErrorInfo}
}

// ---------------------------------------------------------------- ops

func testPutExecution(t *testing.T, s store.Store) {
	if e := head(t, s, "e1"); e != nil {
		t.Fatalf("absent execution read as %+v, want nil", e)
	}
	e := orderedHead(newExec("e1"))
	e.Active, e.Seq = 2, 5
	commit(t, s, engine.PutExecution{Exec: e, IfVersion: 0}, engine.PutInput{Exec: "e1", Input: e.Input})
	got := head(t, s, "e1")
	if got == nil || got.Version != 1 {
		t.Fatalf("after create: %+v, want version 1", got)
	}
	if got.Active != 2 || got.Seq != 5 || got.Workflow != "wf" || got.State != engine.Running ||
		!got.Created.Equal(t0) || !reflect.DeepEqual(got.Vars, e.Vars) || !reflect.DeepEqual(got.Env, e.Env) {
		t.Fatalf("round trip: got %+v, want %+v", got, e)
	}
	checkOrderedHead(t, got)
	// The input lives beside the head, never in it: the head every step
	// reads stays small.
	if got.Input != nil {
		t.Fatalf("head carries the input: %v", got.Input)
	}
	if in, err := s.Input(ctxBG, "e1"); err != nil || !reflect.DeepEqual(in, e.Input) {
		t.Fatalf("input: %v %v, want %v", in, err, e.Input)
	}
	if in, err := s.Input(ctxBG, "nope"); err != nil || in != nil {
		t.Fatalf("input of an absent execution: %v %v", in, err)
	}
	mustConflict(t, s, "create twice", engine.PutExecution{Exec: newExec("e1"), IfVersion: 0})

	upd := *got
	upd.State, upd.StateInfo, upd.Active = engine.Paused, "paused by test", 7
	commit(t, s, engine.PutExecution{Exec: &upd, IfVersion: 1})
	got = head(t, s, "e1")
	if got.Version != 2 || got.State != engine.Paused || got.StateInfo != "paused by test" || got.Active != 7 {
		t.Fatalf("after update: %+v", got)
	}
	mustConflict(t, s, "stale version", engine.PutExecution{Exec: &upd, IfVersion: 1})
	mustConflict(t, s, "future version", engine.PutExecution{Exec: &upd, IfVersion: 9})
	mustConflict(t, s, "update of a missing execution", engine.PutExecution{Exec: newExec("nope"), IfVersion: 1})
	if got := head(t, s, "e1"); got.Version != 2 || got.Active != 7 {
		t.Fatalf("refused writes changed the head: %+v", got)
	}
	// The error info written by a versioned put is what a reader sees,
	// including clearing it (a rerun does).
	upd2 := *got
	upd2.ErrorInfo, upd2.Errors = "boom", 1
	commit(t, s, engine.PutExecution{Exec: &upd2, IfVersion: 2})
	upd3 := *head(t, s, "e1")
	if upd3.ErrorInfo != "boom" || upd3.Errors != 1 {
		t.Fatalf("error info not written: %+v", upd3)
	}
	upd3.ErrorInfo, upd3.Errors = "", 0
	commit(t, s, engine.PutExecution{Exec: &upd3, IfVersion: 3})
	if got := head(t, s, "e1"); got.ErrorInfo != "" || got.Errors != 0 || got.Version != 4 {
		t.Fatalf("error info not cleared: %+v", got)
	}
}

func testAddExecution(t *testing.T, s store.Store) {
	commit(t, s, engine.PutExecution{Exec: newExec("e1")})
	commit(t, s, engine.AddExecution{ID: "e1", Active: 3, Seq: 2, IfState: engine.Running})
	commit(t, s, engine.AddExecution{ID: "e1", Active: -1, Errors: 1, ErrorInfo: "first", IfState: engine.Running})
	commit(t, s, engine.AddExecution{ID: "e1", Errors: 1, ErrorInfo: "second", IfState: engine.Running})
	got := head(t, s, "e1")
	if want := [4]any{int64(2), int64(2), int64(2), "first"}; counters(got) != want {
		t.Fatalf("counters %v, want %v (error info is set once)", counters(got), want)
	}
	if got.Version != 4 {
		t.Fatalf("version %d after three adds, want 4: an add must invalidate versioned writes computed before it", got.Version)
	}
	before := counters(got)
	mustConflict(t, s, "add with a state that does not hold", engine.AddExecution{ID: "e1", Active: 5, IfState: engine.Paused})
	mustConflict(t, s, "add to a missing execution", engine.AddExecution{ID: "e2", Active: 1, IfState: engine.Running})
	if got := head(t, s, "e1"); counters(got) != before || got.Version != 4 {
		t.Fatalf("refused add changed the head: %v v%d", counters(got), got.Version)
	}
	if e := head(t, s, "e2"); e != nil {
		t.Fatalf("refused add created a head: %+v", e)
	}
	// A versioned put read before the add must now conflict.
	stale := *got
	stale.Version = 3
	mustConflict(t, s, "put computed before an add", engine.PutExecution{Exec: &stale, IfVersion: 3})
	// A put written over the counters sets them (it was computed from the latest version).
	cur := head(t, s, "e1")
	cur.Active, cur.Errors, cur.Seq = 0, 0, 10
	commit(t, s, engine.PutExecution{Exec: cur, IfVersion: cur.Version})
	commit(t, s, engine.AddExecution{ID: "e1", Active: 1, Seq: 1, IfState: engine.Running})
	if got := head(t, s, "e1"); got.Active != 1 || got.Seq != 11 || got.Errors != 0 {
		t.Fatalf("counters after put then add: %v", counters(got))
	}
	// Spawned adds up, and a put keeps the count it read.
	commit(t, s, engine.AddExecution{ID: "e1", Spawned: 2, IfState: engine.Running})
	cur = head(t, s, "e1")
	commit(t, s, engine.PutExecution{Exec: cur, IfVersion: cur.Version})
	commit(t, s, engine.AddExecution{ID: "e1", Spawned: 1, IfState: engine.Running})
	if got := head(t, s, "e1"); got.Spawned != 3 {
		t.Fatalf("spawned %d after adding 2, a put and adding 1; want 3", got.Spawned)
	}
}

// testStatus: what a runner and a finaliser read (store.ReadStatus, through
// the driver's StatusReader when it has one) follows the head.
func testStatus(t *testing.T, s store.Store) {
	status := func(id string) (store.Status, bool) {
		t.Helper()
		st, ok, err := store.ReadStatus(ctxBG, s, id)
		if err != nil {
			t.Fatalf("ReadStatus(%s): %v", id, err)
		}
		return st, ok
	}
	if st, ok := status("nope"); ok {
		t.Fatalf("status of a missing execution: %+v, ok", st)
	}
	commit(t, s, engine.PutExecution{Exec: newExec("e1")})
	commit(t, s, engine.AddExecution{ID: "e1", Active: 2, IfState: engine.Running})
	if st, ok := status("e1"); !ok || st != (store.Status{State: engine.Running, Active: 2}) {
		t.Fatalf("status %+v (ok %v), want RUNNING with 2 active", st, ok)
	}
	e := head(t, s, "e1")
	e.State, e.Active = engine.Paused, 0
	commit(t, s, engine.PutExecution{Exec: e, IfVersion: e.Version})
	if st, ok := status("e1"); !ok || st != (store.Status{State: engine.Paused}) {
		t.Fatalf("status after pause %+v (ok %v), want PAUSED with 0 active", st, ok)
	}
}

// testCountersIsolate: counter updates and claims (which a driver may apply
// without rewriting the whole record) leave every version of a record whole:
// what a caller does to a record it read never reaches the store.
func testCountersIsolate(t *testing.T, s store.Store) {
	commit(t, s, engine.PutExecution{Exec: newExec("e1")}, engine.PutTask{Task: newTask("e1", "a")})
	h1 := head(t, s, "e1")
	commit(t, s, engine.AddExecution{ID: "e1", Active: 1, IfState: engine.Running})
	h1.Vars.Set("v", "changed by a caller")
	h2 := head(t, s, "e1")
	h2.Vars.Set("w", 1)
	if got := head(t, s, "e1"); got.Vars.Len() != 1 || got.Active != 1 {
		t.Fatalf("head after an add and callers' changes: vars %v active %d", got.Vars, got.Active)
	}
	a1 := task(t, s, "e1", "a")
	if err := s.ClaimAttempt(ctxBG, store.ClaimParams{Exec: "e1", Task: "a", Slot: -1, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	a2 := task(t, s, "e1", "a")
	a1.Ctx.Set("k", "changed")
	a2.Ctx.Set("k2", "added")
	a2.Outbox[0].Action = "changed"
	got := task(t, s, "e1", "a")
	if got.Claimed != 1 || got.Ctx.Len() != 1 || got.Ctx.Value("k") != "v" || got.Outbox[0].Action != "std.noop" {
		t.Fatalf("task after a claim and callers' changes: %+v", got)
	}
}

func testPutTask(t *testing.T, s store.Store) {
	if r := task(t, s, "e1", "t1"); r != nil {
		t.Fatalf("absent task read as %+v", r)
	}
	tk := orderedData(newTask("e1", "t1"))
	commit(t, s, engine.PutTask{Task: tk})
	got := task(t, s, "e1", "t1")
	if got == nil || got.Version != 1 || got.State != engine.Running || got.Attempt != 1 || got.Name != "t1" ||
		!reflect.DeepEqual(got.Ctx, tk.Ctx) || !reflect.DeepEqual(got.Result, tk.Result) || !got.HasResult ||
		len(got.Outbox) != 1 || got.Outbox[0].Action != "std.noop" || !got.Started.Equal(t0) {
		t.Fatalf("round trip: %+v", got)
	}
	checkOrderedData(t, got, tk)
	mustConflict(t, s, "create twice", engine.PutTask{Task: newTask("e1", "t1")})
	got.State, got.Finished = engine.Success, t0.Add(time.Second)
	commit(t, s, engine.PutTask{Task: got, IfVersion: 1})
	mustConflict(t, s, "stale version", engine.PutTask{Task: got, IfVersion: 1})
	mustConflict(t, s, "missing task", engine.PutTask{Task: newTask("e1", "t9"), IfVersion: 1})
	if got := task(t, s, "e1", "t1"); got.Version != 2 || got.State != engine.Success || !got.Finished.Equal(t0.Add(time.Second)) {
		t.Fatalf("after update: %+v", got)
	}
	// Keys of cycles carry a '#'; with-items counters round-trip.
	c := newTask("e1", "t1#ab12")
	c.Items, c.Concurrency, c.Done, c.Failed = 5, 2, 1, 1
	commit(t, s, engine.PutTask{Task: c})
	if got := task(t, s, "e1", "t1#ab12"); got == nil || got.Items != 5 || got.Concurrency != 2 || got.Done != 1 || got.Failed != 1 {
		t.Fatalf("with-items task round trip: %+v", got)
	}
	// A put writes Done/Failed as given (a rerun lowers Failed).
	w := task(t, s, "e1", "t1#ab12")
	w.Failed = 0
	commit(t, s, engine.PutTask{Task: w, IfVersion: w.Version})
	if got := task(t, s, "e1", "t1#ab12"); got.Failed != 0 || got.Done != 1 {
		t.Fatalf("put did not set counters: done %d failed %d", got.Done, got.Failed)
	}
}

func testAddItems(t *testing.T, s store.Store) {
	tk := newTask("e1", "items")
	tk.Items = 4
	commit(t, s, engine.PutTask{Task: tk})
	commit(t, s, engine.AddItems{Exec: "e1", Key: "items", Done: 1})
	commit(t, s, engine.AddItems{Exec: "e1", Key: "items", Done: 1, Failed: 1})
	got := task(t, s, "e1", "items")
	if got.Done != 2 || got.Failed != 1 || got.Version != 3 {
		t.Fatalf("after adds: done %d failed %d version %d, want 2 1 3", got.Done, got.Failed, got.Version)
	}
	mustConflict(t, s, "stale put after an add", engine.PutTask{Task: tk, IfVersion: 1})
	got.State = engine.Success
	commit(t, s, engine.PutTask{Task: got, IfVersion: 3})
	mustConflict(t, s, "add to a finished task", engine.AddItems{Exec: "e1", Key: "items", Done: 1})
	mustConflict(t, s, "add to a missing task", engine.AddItems{Exec: "e1", Key: "nope", Done: 1})
	if got := task(t, s, "e1", "items"); got.Done != 2 || got.Failed != 1 || got.Version != 4 {
		t.Fatalf("refused add changed the task: %+v", got)
	}
	if r := task(t, s, "e1", "nope"); r != nil {
		t.Fatalf("refused add created a task: %+v", r)
	}
}

func testArriveJoin(t *testing.T, s store.Store) {
	commit(t, s, arrive("e1", "join", "a", dict("x", int64(1)))...)
	got := task(t, s, "e1", "join")
	if got == nil || got.State != engine.Waiting || got.Pending != "join" || got.Name != "join" || got.Version != 1 || got.Arrived != 1 ||
		!reflect.DeepEqual(arrivals(t, s, "e1", "join"), map[string]*value.Map{"a": dict("x", int64(1))}) {
		t.Fatalf("first arrival did not create the join record: %+v", got)
	}
	mustConflict(t, s, "same branch twice", arrive("e1", "join", "a", dict("x", int64(2)))...)
	commit(t, s, arrive("e1", "join", "b#12ab", nil)...)
	got = task(t, s, "e1", "join")
	want := map[string]*value.Map{"a": dict("x", int64(1)), "b#12ab": dict()}
	if got.Version != 2 || got.Arrived != 2 || !reflect.DeepEqual(arrivals(t, s, "e1", "join"), want) {
		t.Fatalf("arrivals %v count %d version %d, want %v, 2, version 2", arrivals(t, s, "e1", "join"), got.Arrived, got.Version, want)
	}
	// A join named like another join's prefix sees only its own arrivals.
	commit(t, s, arrive("e1", "join#x", "z", nil)...)
	if a := arrivals(t, s, "e1", "join"); len(a) != 2 {
		t.Fatalf("arrivals of join leak into another join: %v", a)
	}
	// Firing is a versioned put of the record read with its count; an
	// arrival after that read makes the put conflict.
	fire := *got
	fire.Fired, fire.State, fire.Pending, fire.Attempt = true, engine.Running, "", 1
	commit(t, s, arrive("e1", "join", "c", dict("y", "z"))...)
	mustConflict(t, s, "fire computed before the last arrival", engine.PutTask{Task: &fire, IfVersion: 2})
	got = task(t, s, "e1", "join")
	fire = *got
	fire.Fired, fire.State, fire.Pending, fire.Attempt = true, engine.Running, "", 1
	commit(t, s, engine.PutTask{Task: &fire, IfVersion: got.Version})
	got = task(t, s, "e1", "join")
	if a := arrivals(t, s, "e1", "join"); !got.Fired || got.State != engine.Running || got.Arrived != 3 || len(a) != 3 || a["c"].Value("y") != "z" {
		t.Fatalf("after fire: %+v %v", got, a)
	}
	mustConflict(t, s, "second fire", engine.PutTask{Task: &fire, IfVersion: 3})
}

func testPutSlot(t *testing.T, s store.Store) {
	if r := slot(t, s, "e1", "items", 0); r != nil {
		t.Fatalf("absent slot read as %+v", r)
	}
	sl := &engine.Slot{Exec: "e1", Task: "items", Index: 3, State: engine.Running, Attempt: 1,
		Outbox: []engine.Command{{Kind: engine.RunAction, Exec: "e1", Task: "items", Slot: 3, Attempt: 1}}}
	commit(t, s, engine.PutSlot{Slot: sl})
	mustConflict(t, s, "create twice", engine.PutSlot{Slot: sl})
	got := slot(t, s, "e1", "items", 3)
	if got == nil || got.Version != 1 || got.Index != 3 || len(got.Outbox) != 1 || got.Outbox[0].Slot != 3 {
		t.Fatalf("round trip: %+v", got)
	}
	got.State, got.Result = engine.Success, "done"
	commit(t, s, engine.PutSlot{Slot: got, IfVersion: 1})
	mustConflict(t, s, "stale version", engine.PutSlot{Slot: got, IfVersion: 1})
	mustConflict(t, s, "missing slot", engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "items", Index: 4}, IfVersion: 1})
	if got := slot(t, s, "e1", "items", 3); got.Version != 2 || got.Result != "done" || got.State != engine.Success {
		t.Fatalf("after update: %+v", got)
	}
}

func testPutLeaf(t *testing.T, s store.Store) {
	l := &engine.Leaf{Exec: "e1", Seq: 12, Task: "b", Ctx: dict("b", int64(2))}
	commit(t, s, engine.PutLeaf{Leaf: l})
	commit(t, s, engine.PutLeaf{Leaf: l}) // a reapplied step writes the same leaf again
	commit(t, s, engine.PutLeaf{Leaf: &engine.Leaf{Exec: "e1", Seq: 3, Task: "a", Ctx: dict("a", int64(1))}})
	commit(t, s, engine.PutLeaf{Leaf: &engine.Leaf{Exec: "e2", Seq: 1, Task: "x"}})
	ls, err := s.Leaves(ctxBG, "e1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Seq != 3 || ls[1].Seq != 12 || ls[1].Ctx.Value("b") != int64(2) || ls[0].Task != "a" {
		t.Fatalf("leaves %+v, want a(3), b(12)", ls)
	}
}

func testAtomicity(t *testing.T, s store.Store) {
	commit(t, s, engine.PutExecution{Exec: newExec("e1")}, engine.PutTask{Task: newTask("e1", "a")})
	before := head(t, s, "e1")

	// The last op fails: nothing of the commit is written.
	mustConflict(t, s, "last op stale",
		engine.AddExecution{ID: "e1", Active: 1, Seq: 1, IfState: engine.Running},
		engine.PutTask{Task: newTask("e1", "b")},
		engine.PutArrival{Exec: "e1", Join: "j", From: "a"},
		engine.CountArrival{Exec: "e1", Key: "j", Name: "j"},
		engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "a", Index: 0, State: engine.Running, Attempt: 1}},
		engine.PutLeaf{Leaf: &engine.Leaf{Exec: "e1", Seq: 1, Task: "a"}},
		engine.PutTask{Task: newTask("e1", "a"), IfVersion: 7})
	if got := head(t, s, "e1"); counters(got) != counters(before) || got.Version != before.Version {
		t.Fatalf("failed commit changed the head: %+v", got)
	}
	for _, k := range []string{"b", "j"} {
		if r := task(t, s, "e1", k); r != nil {
			t.Fatalf("failed commit wrote task %s: %+v", k, r)
		}
	}
	if r := slot(t, s, "e1", "a", 0); r != nil {
		t.Fatalf("failed commit wrote a slot: %+v", r)
	}
	if ls, _ := s.Leaves(ctxBG, "e1"); len(ls) != 0 {
		t.Fatalf("failed commit wrote leaves: %+v", ls)
	}

	// A new head with a conflicting second op: the head is not created either.
	mustConflict(t, s, "new head, stale task",
		engine.PutExecution{Exec: newExec("e2")},
		engine.PutTask{Task: newTask("e2", "a"), IfVersion: 1})
	if e := head(t, s, "e2"); e != nil {
		t.Fatalf("failed commit created a head: %+v", e)
	}
	if p, err := s.ListExecutions(ctxBG, store.ListParams{}); err != nil || len(p.Executions) != 1 {
		t.Fatalf("failed commit is listed: %v %v", p, err)
	}

	// A duplicate arrival makes the whole step a no-op.
	commit(t, s, arrive("e1", "j", "a", nil)...)
	mustConflict(t, s, "duplicate arrival", append([]engine.Op{
		engine.AddExecution{ID: "e1", Active: -1, IfState: engine.Running}}, arrive("e1", "j", "a", nil)...)...)
	if got := head(t, s, "e1"); got.Active != before.Active {
		t.Fatalf("counters moved by a refused commit: %d, want %d", got.Active, before.Active)
	}

	// All ops of a good commit land.
	a := task(t, s, "e1", "a")
	a.State = engine.Success
	commit(t, s,
		engine.AddExecution{ID: "e1", Active: 1, Seq: 2, IfState: engine.Running},
		engine.PutTask{Task: a, IfVersion: a.Version},
		engine.PutTask{Task: newTask("e1", "c")},
		engine.PutArrival{Exec: "e1", Join: "j", From: "c"},
		engine.CountArrival{Exec: "e1", Key: "j", Name: "j"},
		engine.PutLeaf{Leaf: &engine.Leaf{Exec: "e1", Seq: 1, Task: "a"}})
	if got := head(t, s, "e1"); got.Active != before.Active+1 || got.Seq != before.Seq+2 {
		t.Fatalf("good commit: head %+v", got)
	}
	if task(t, s, "e1", "a").State != engine.Success || task(t, s, "e1", "c") == nil || task(t, s, "e1", "j").Arrived != 2 || len(arrivals(t, s, "e1", "j")) != 2 {
		t.Fatal("good commit: not every op landed")
	}
}

func testClaimTask(t *testing.T, s store.Store) {
	claim := func(task string, attempt int) error {
		return s.ClaimAttempt(ctxBG, store.ClaimParams{Exec: "e1", Task: task, Slot: -1, Attempt: attempt})
	}
	mustRefuse := func(why string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: got %v, want ErrConflict", why, err)
		}
	}
	commit(t, s, engine.PutTask{Task: newTask("e1", "a")})
	if err := claim("a", 1); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	mustRefuse("second claim of the same attempt", claim("a", 1))
	mustRefuse("claim of a later attempt than the current one", claim("a", 2))
	mustRefuse("claim of a missing task", claim("zz", 1))
	got := task(t, s, "e1", "a")
	if got.Claimed != 1 || got.Version != 1 {
		t.Fatalf("after claim: claimed %d version %d, want 1 1 (a claim is not a versioned change)", got.Claimed, got.Version)
	}
	// A versioned put computed from a read made before the claim keeps the claim.
	stale := newTask("e1", "a")
	stale.Version = 1
	stale.Result = "r"
	commit(t, s, engine.PutTask{Task: stale, IfVersion: 1})
	if got := task(t, s, "e1", "a"); got.Claimed != 1 {
		t.Fatalf("put lost the claim: claimed %d", got.Claimed)
	}
	mustRefuse("claim after the put, same attempt", claim("a", 1))
	// A retry (attempt 2) can be claimed once.
	r := task(t, s, "e1", "a")
	r.Attempt = 2
	commit(t, s, engine.PutTask{Task: r, IfVersion: r.Version})
	mustRefuse("superseded attempt", claim("a", 1))
	if err := claim("a", 2); err != nil {
		t.Fatalf("claim of the retry: %v", err)
	}
	mustRefuse("retry claimed twice", claim("a", 2))

	for _, c := range []struct {
		state   engine.State
		pending string
	}{{engine.Paused, ""}, {engine.Idle, ""}, {engine.Success, ""}, {engine.RunningDelayed, "retry"}, {engine.Running, "wait_after"}} {
		k := "t-" + strings.ToLower(string(c.state)) + c.pending
		tk := newTask("e1", k)
		tk.State, tk.Pending = c.state, engine.Pending(c.pending)
		commit(t, s, engine.PutTask{Task: tk})
		mustRefuse(fmt.Sprintf("claim of a %s task pending %q", c.state, c.pending), claim(k, 1))
	}
}

func testClaimSlot(t *testing.T, s store.Store) {
	claim := func(i, attempt int) error {
		return s.ClaimAttempt(ctxBG, store.ClaimParams{Exec: "e1", Task: "it", Slot: i, Attempt: attempt})
	}
	commit(t, s, engine.PutTask{Task: newTask("e1", "it")},
		engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "it", Index: 0, State: engine.Running, Attempt: 1}},
		engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "it", Index: 1, State: engine.Success, Attempt: 1}})
	if err := claim(0, 1); err != nil {
		t.Fatalf("claim slot 0: %v", err)
	}
	for _, c := range []struct {
		why        string
		i, attempt int
	}{{"twice", 0, 1}, {"later attempt", 0, 2}, {"finished slot", 1, 1}, {"missing slot", 7, 1}} {
		if err := claim(c.i, c.attempt); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("slot claim %s: got %v, want ErrConflict", c.why, err)
		}
	}
	sl := slot(t, s, "e1", "it", 0)
	if sl.Claimed != 1 || sl.Version != 1 {
		t.Fatalf("slot after claim: %+v", sl)
	}
	stale := &engine.Slot{Exec: "e1", Task: "it", Index: 0, State: engine.Running, Attempt: 2, Version: 1}
	commit(t, s, engine.PutSlot{Slot: stale, IfVersion: 1})
	if got := slot(t, s, "e1", "it", 0); got.Claimed != 1 || got.Attempt != 2 {
		t.Fatalf("put lost the slot claim: %+v", got)
	}
	if err := claim(0, 2); err != nil {
		t.Fatalf("claim retry of slot: %v", err)
	}
}

func testDefinitions(t *testing.T, s store.Store) {
	if _, err := s.Definition(ctxBG, "wf"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing definition: %v, want ErrNotFound", err)
	}
	if _, err := s.DefinitionByID(ctxBG, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing definition id: %v, want ErrNotFound", err)
	}
	d1 := &engine.Definition{Name: "wf", DefID: "d1", Source: "version: '2.0'\nwf: {}\n", Created: t0, Updated: t0}
	if err := s.PutDefinition(ctxBG, d1); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	d2 := &engine.Definition{Name: "wf", DefID: "d2", Source: "second", Created: later, Updated: later}
	if err := s.PutDefinition(ctxBG, d2); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDefinition(ctxBG, &engine.Definition{Name: "other", DefID: "d3", Source: "x", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	cur, err := s.Definition(ctxBG, "wf")
	if err != nil || cur.DefID != "d2" || cur.Source != "second" || !cur.Created.Equal(t0) || !cur.Updated.Equal(later) {
		t.Fatalf("current definition: %+v %v (want d2, created kept from the first put)", cur, err)
	}
	old, err := s.DefinitionByID(ctxBG, "d1")
	if err != nil || old.Source != d1.Source {
		t.Fatalf("old definition by id: %+v %v", old, err)
	}
	byID, err := s.DefinitionByID(ctxBG, "d2")
	if err != nil || byID.Name != "wf" || byID.Source != "second" {
		t.Fatalf("new definition by id: %+v %v", byID, err)
	}
	all, err := s.ListDefinitions(ctxBG)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, d := range all {
		names[d.Name] = d.DefID
	}
	if len(all) != 2 || names["wf"] != "d2" || names["other"] != "d3" {
		t.Fatalf("ListDefinitions: %v", names)
	}
}

func testListExecutions(t *testing.T, s store.Store) {
	// Eleven executions over two workflows and three states, one per second.
	type spec struct {
		wf string
		st engine.State
	}
	specs := []spec{}
	for i := 0; i < 11; i++ {
		st := []engine.State{engine.Running, engine.Success, engine.Error}[i%3]
		specs = append(specs, spec{[]string{"alpha", "beta"}[i%2], st})
	}
	for i, sp := range specs {
		e := newExec(fmt.Sprintf("ex-%02d", i))
		e.Workflow, e.State = sp.wf, sp.st
		e.Created = t0.Add(time.Duration(i) * time.Second)
		commit(t, s, engine.PutExecution{Exec: e})
	}
	want := func(f func(spec) bool) []string {
		var ids []string
		for i := len(specs) - 1; i >= 0; i-- {
			if f(specs[i]) {
				ids = append(ids, fmt.Sprintf("ex-%02d", i))
			}
		}
		return ids
	}
	list := func(p store.ListParams) []string {
		t.Helper()
		var ids []string
		seen := map[string]bool{}
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("ListExecutions(%+v) does not end", p)
			}
			page, err := s.ListExecutions(ctxBG, p)
			if err != nil {
				t.Fatalf("ListExecutions(%+v): %v", p, err)
			}
			if p.Limit > 0 && len(page.Executions) > p.Limit {
				t.Fatalf("page of %d, limit %d", len(page.Executions), p.Limit)
			}
			for _, e := range page.Executions {
				if seen[e.ID] {
					t.Fatalf("%s listed twice", e.ID)
				}
				seen[e.ID] = true
				ids = append(ids, e.ID)
			}
			if page.Next == "" {
				return ids
			}
			p.Cursor = page.Next
		}
	}
	cases := []struct {
		p store.ListParams
		f func(spec) bool
	}{
		{store.ListParams{}, func(spec) bool { return true }},
		{store.ListParams{Limit: 3}, func(spec) bool { return true }},
		{store.ListParams{Workflow: "alpha", Limit: 2}, func(s spec) bool { return s.wf == "alpha" }},
		{store.ListParams{State: engine.Success, Limit: 1}, func(s spec) bool { return s.st == engine.Success }},
		{store.ListParams{Workflow: "beta", State: engine.Error, Limit: 1}, func(s spec) bool { return s.wf == "beta" && s.st == engine.Error }},
		{store.ListParams{Workflow: "gamma"}, func(s spec) bool { return false }},
	}
	for _, c := range cases {
		got, w := list(c.p), want(c.f)
		if !reflect.DeepEqual(got, w) && !(len(got) == 0 && len(w) == 0) {
			t.Fatalf("ListExecutions(%+v) = %v, want %v (newest first)", c.p, got, w)
		}
	}
	// A state change moves the execution between state filters.
	e := head(t, s, "ex-00")
	e.State = engine.Cancelled
	commit(t, s, engine.PutExecution{Exec: e, IfVersion: e.Version})
	if got := list(store.ListParams{State: engine.Cancelled}); !reflect.DeepEqual(got, []string{"ex-00"}) {
		t.Fatalf("after cancel: %v", got)
	}
	specs[0].st = engine.Cancelled
	if got, w := list(store.ListParams{State: engine.Running}), want(func(s spec) bool { return s.st == engine.Running }); !reflect.DeepEqual(got, w) {
		t.Fatalf("running after cancel: %v, want %v", got, w)
	}
	// Listed heads carry their counters, not just their document.
	commit(t, s, engine.AddExecution{ID: "ex-01", Active: 4, IfState: engine.Success})
	page, err := s.ListExecutions(ctxBG, store.ListParams{Workflow: "beta", State: engine.Success})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Executions {
		if e.ID == "ex-01" {
			found = e.Active == 4 && e.Version == 2
		}
	}
	if !found {
		t.Fatalf("listed ex-01 does not show its counters: %+v", page.Executions)
	}
}

func testTasksOrder(t *testing.T, s store.Store) {
	for i, k := range []string{"c", "a", "b#1", "b"} {
		tk := newTask("e1", k)
		tk.Seq = int64([]int{3, 1, 4, 2}[i])
		commit(t, s, engine.PutTask{Task: tk})
	}
	commit(t, s, engine.PutTask{Task: newTask("e2", "x")})
	ts, err := s.Tasks(ctxBG, "e1")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, x := range ts {
		keys = append(keys, x.Key)
	}
	if want := []string{"a", "b", "c", "b#1"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("Tasks order %v, want %v (by seq)", keys, want)
	}
	for _, i := range []int{10, 2, 0, 100} {
		commit(t, s, engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "b", Index: i, State: engine.Running, Attempt: 1}})
	}
	commit(t, s, engine.PutSlot{Slot: &engine.Slot{Exec: "e1", Task: "b#1", Index: 5, State: engine.Running, Attempt: 1}})
	sls, err := s.Slots(ctxBG, "e1", "b")
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, x := range sls {
		idx = append(idx, x.Index)
	}
	if want := []int{0, 2, 10, 100}; !reflect.DeepEqual(idx, want) {
		t.Fatalf("Slots %v, want %v (index order, only this task's)", idx, want)
	}
	if ts, err := s.Tasks(ctxBG, "nobody"); err != nil || len(ts) != 0 {
		t.Fatalf("tasks of a missing execution: %v %v", ts, err)
	}
}

func testLargeValues(t *testing.T, s store.Store, opt Options) {
	big := strings.Repeat("0123456789abcdef", opt.Big/16+1)[:opt.Big]
	tk := newTask("e1", "big")
	tk.Result, tk.HasResult = map[string]any{"blob": big}, true
	tk.Published = dict("copy", big)
	e := newExec("e1")
	e.Vars = dict("big", big)
	commit(t, s, engine.PutExecution{Exec: e}, engine.PutTask{Task: tk})
	got := task(t, s, "e1", "big")
	if m := goMap(got.Result); m == nil || m["blob"] != big || got.Published.Value("copy") != big {
		t.Fatalf("a %d-byte result did not come back intact", opt.Big)
	}
	if h := head(t, s, "e1"); h.Vars.Value("big") != big {
		t.Fatalf("a %d-byte var did not come back intact", opt.Big)
	}
	// An update of an offloaded record replaces it.
	got.Result = map[string]any{"blob": big[:100]}
	commit(t, s, engine.PutTask{Task: got, IfVersion: got.Version})
	if m := goMap(task(t, s, "e1", "big").Result); m == nil || m["blob"] != big[:100] {
		t.Fatal("a small update of a large record did not replace it")
	}
	// A big join arrival comes back too.
	commit(t, s, arrive("e1", "j", "big", dict("x", big))...)
	if a := arrivals(t, s, "e1", "j"); a["big"].Value("x") != big {
		t.Fatal("a large join arrival did not come back intact")
	}

	huge := strings.Repeat("x", opt.TooBig)
	h := newTask("e1", "huge")
	h.Result = huge
	err := s.Commit(ctxBG, []engine.Op{engine.AddExecution{ID: "e1", Active: 1, IfState: engine.Running}, engine.PutTask{Task: h}})
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("a %d-byte result: got %v, want ErrTooLarge", opt.TooBig, err)
	}
	if strings.Contains(err.Error(), huge[:64]) {
		t.Fatal("the ErrTooLarge message carries the value")
	}
	if r := task(t, s, "e1", "huge"); r != nil {
		t.Fatal("a refused large value was written")
	}
	if hd := head(t, s, "e1"); hd.Active != 0 {
		t.Fatalf("a commit refused for size moved the counters: active %d", hd.Active)
	}
}

func testConcurrentCounters(t *testing.T, s store.Store) {
	commit(t, s, engine.PutExecution{Exec: newExec("e1")})
	const n, workers = 40, 8
	errs := make(chan error, n)
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < workers; w++ {
		go func() {
			for i := range next {
				op := engine.AddExecution{ID: "e1", Active: 1, Seq: 1, IfState: engine.Running}
				arr := arrive("e1", "j", fmt.Sprintf("b%d", i), nil)
				var err error
				// A transactional store may refuse concurrent commits on
				// one item; the host's answer is to try again.
				for try := 0; try < 200; try++ {
					if err = s.Commit(ctxBG, append([]engine.Op{op}, arr...)); !errors.Is(err, store.ErrConflict) {
						break
					}
					time.Sleep(time.Duration(1+try%10) * time.Millisecond)
				}
				errs <- err
			}
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent add: %v", err)
		}
	}
	if got := head(t, s, "e1"); got.Active != n || got.Seq != n || got.Version != n+1 {
		t.Fatalf("after %d concurrent adds: active %d seq %d version %d", n, got.Active, got.Seq, got.Version)
	}
	if j := task(t, s, "e1", "j"); j.Arrived != int64(n) || len(arrivals(t, s, "e1", "j")) != n {
		t.Fatalf("after %d concurrent arrivals: %d counted, %d recorded", n, j.Arrived, len(arrivals(t, s, "e1", "j")))
	}
}

func testConcurrentPut(t *testing.T, s store.Store) {
	commit(t, s, engine.PutExecution{Exec: newExec("e1")})
	const n = 16
	res := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			e := newExec("e1")
			e.StateInfo = fmt.Sprint("writer ", i)
			res <- s.Commit(ctxBG, []engine.Op{engine.PutExecution{Exec: e, IfVersion: 1}})
		}(i)
	}
	wins := 0
	for i := 0; i < n; i++ {
		err := <-res
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("concurrent put: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent puts at version 1 succeeded, want exactly 1", wins, n)
	}
	if got := head(t, s, "e1"); got.Version != 2 {
		t.Fatalf("version %d, want 2", got.Version)
	}
}

func testPurgeExecutions(t *testing.T, s store.Store) {
	hour := time.Hour
	mk := func(id string, st engine.State, created, updated time.Time) {
		e := newExec(id)
		e.State, e.Created, e.Updated = st, created, updated
		commit(t, s, engine.PutExecution{Exec: e}, engine.PutInput{Exec: id, Input: e.Input})
		tk := newTask(id, "t1")
		tk.State = engine.Success
		commit(t, s, engine.PutTask{Task: tk}, engine.PutLeaf{Leaf: &engine.Leaf{Exec: id, Seq: 1, Task: "t1", Ctx: dict("x", "y")}})
		commit(t, s, engine.PutSlot{Slot: &engine.Slot{Exec: id, Task: "t1", Index: 0, State: engine.Success, Attempt: 1}})
		commit(t, s, arrive(id, "j", "t1", dict("a", "b"))...)
	}
	mk("ex-old-done", engine.Success, t0, t0)
	mk("ex-old-error", engine.Error, t0.Add(time.Second), t0.Add(time.Second))
	mk("ex-old-running", engine.Running, t0, t0)
	mk("ex-new-done", engine.Success, t0.Add(2*hour), t0.Add(2*hour))
	mk("ex-late-done", engine.Cancelled, t0, t0.Add(2*hour)) // created long ago, finished recently
	if err := s.PutDefinition(ctxBG, &engine.Definition{Name: "wf", DefID: "def1", Source: "src", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	p := store.PurgeParams{Before: t0.Add(hour), Max: 1}
	if n, err := s.PurgeExecutions(ctxBG, p); err != nil || n != 1 {
		t.Fatalf("PurgeExecutions(max 1) = %d, %v; want 1", n, err)
	}
	p.Max = 0
	if n, err := s.PurgeExecutions(ctxBG, p); err != nil || n != 1 {
		t.Fatalf("PurgeExecutions again = %d, %v; want the 1 left", n, err)
	}
	if n, err := s.PurgeExecutions(ctxBG, p); err != nil || n != 0 {
		t.Fatalf("PurgeExecutions a third time = %d, %v; want 0", n, err)
	}
	for _, id := range []string{"ex-old-done", "ex-old-error"} {
		if e, err := s.Execution(ctxBG, id); err != nil || e != nil {
			t.Fatalf("%s after purge: %v, %v", id, e, err)
		}
		if tk := task(t, s, id, "t1"); tk != nil {
			t.Fatalf("%s: task left after purge", id)
		}
		if sl := slot(t, s, id, "t1", 0); sl != nil {
			t.Fatalf("%s: slot left after purge", id)
		}
		if ls, err := s.Leaves(ctxBG, id); err != nil || len(ls) != 0 {
			t.Fatalf("%s: leaves left after purge: %v %v", id, ls, err)
		}
		if a := arrivals(t, s, id, "j"); len(a) != 0 {
			t.Fatalf("%s: arrivals left after purge: %v", id, a)
		}
		if in, err := s.Input(ctxBG, id); err != nil || in != nil {
			t.Fatalf("%s: input left after purge: %v %v", id, in, err)
		}
	}
	for _, id := range []string{"ex-old-running", "ex-new-done", "ex-late-done"} {
		if head(t, s, id) == nil || task(t, s, id, "t1") == nil || len(arrivals(t, s, id, "j")) != 1 {
			t.Fatalf("%s was purged (or lost records), but it is running or finished after the cutoff", id)
		}
	}
	page, err := s.ListExecutions(ctxBG, store.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.Executions {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	if fmt.Sprint(ids) != "[ex-late-done ex-new-done ex-old-running]" {
		t.Fatalf("listed after purge: %v", ids)
	}
	if d, err := s.Definition(ctxBG, "wf"); err != nil || d == nil {
		t.Fatalf("a purge touched the definitions: %v %v", d, err)
	}
}
