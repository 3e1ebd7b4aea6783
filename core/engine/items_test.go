package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
)

// itemsRun drives one execution of src to its end, completing the oldest
// pending action first; fail picks item attempts that fail. It returns the
// run-action commands in the order they were issued.
func itemsRun(t *testing.T, d *driver, src string, input map[string]any, fail func(engine.Command) bool) []engine.Command {
	t.Helper()
	ctx := context.Background()
	pending, err := d.start(ctx, "ex", "wf", input)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]engine.Command(nil), pending...)
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		res := engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: true, Output: c.Input.Value("output")}
		if fail != nil && fail(c) {
			res.OK, res.Output, res.Error = false, nil, "boom"
		}
		more, err := d.step(ctx, func() (*engine.Plan, error) { return d.e.TaskComplete(ctx, d.r, res) })
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, more...)
		all = append(all, more...)
	}
	return all
}

func inputs(cs []engine.Command) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s/%d/%d %v", c.Task, c.Slot, c.Attempt, c.Input.GoMap())
	}
	return out
}

const echoRangeSrc = `version: '2.0'
wf:
  input:
    - n
  tasks:
    t:
      with-items: i in <% range(0, $.n) %>
      concurrency: 7
      action: std.echo output=<% $.i * 10 %>
`

// Each item's completion starts the item a window further on; it must take
// that item's value from the list evaluated when the task started, not
// evaluate the list again (which costs as much as the whole list), and the
// plans must be those of an engine that evaluates every time.
func TestItemsEvaluatedOncePerRun(t *testing.T) {
	const n = 200
	cached := newDriver(t, echoRangeSrc)
	got := itemsRun(t, cached, echoRangeSrc, map[string]any{"n": int64(n)}, nil)
	if ev := cached.e.ItemEvaluations(); ev != 1 {
		t.Errorf("with-items evaluated %d times for %d items, want once", ev, n)
	}
	plain := newDriver(t, echoRangeSrc)
	plain.e.DisableItemCache()
	want := itemsRun(t, plain, echoRangeSrc, map[string]any{"n": int64(n)}, nil)
	if ev := plain.e.ItemEvaluations(); ev < n {
		t.Errorf("uncached engine evaluated with-items %d times, want one per item", ev)
	}
	if !reflect.DeepEqual(inputs(got), inputs(want)) {
		t.Errorf("commands differ with the cache:\n%v\nwithout:\n%v", inputs(got), inputs(want))
	}
	rec, err := cached.st.Task(context.Background(), "ex", "t")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rec.Result.([]any) {
		if r != int64(i*10) {
			t.Fatalf("item %d: result %v, want %d", i, r, i*10)
		}
	}
}

// A rerun of the task evaluates its items again (the values may have changed
// for reasons outside the engine, such as a rerun after a fix).
func TestItemsRerunEvaluatesAgain(t *testing.T) {
	ctx := context.Background()
	d := newDriver(t, echoRangeSrc)
	itemsRun(t, d, echoRangeSrc, map[string]any{"n": int64(20)}, func(c engine.Command) bool { return c.Slot == 3 })
	h, err := d.st.Execution(ctx, "ex")
	if err != nil || h.State != engine.Error {
		t.Fatalf("execution %+v, %v: want ERROR", h, err)
	}
	before := d.e.ItemEvaluations()
	runs, err := d.step(ctx, func() (*engine.Plan, error) { return d.e.Rerun(ctx, d.r, "ex", "t") })
	if err != nil {
		t.Fatal(err)
	}
	if ev := d.e.ItemEvaluations() - before; ev != 1 {
		t.Errorf("rerun evaluated with-items %d times, want once", ev)
	}
	if len(runs) != 1 || runs[0].Slot != 3 || runs[0].Input.Value("output") != int64(30) {
		t.Fatalf("rerun dispatched %v, want item 3 with output 30", inputs(runs))
	}
}

// A global publish of a parallel branch changes $ under a running with-items
// task; the items started after it must see the new value, as a host
// without the cache would.
func TestItemsSeeGlobalPublish(t *testing.T) {
	const src = `version: '2.0'
wf:
  vars:
    k: 1
  tasks:
    p:
      action: std.noop
      on-success:
        publish:
          global:
            k: 2
    t:
      with-items: x in <% [$.k, $.k, $.k] %>
      concurrency: 1
      action: std.echo output=<% $.x %>
`
	var outs [2][]string
	for i, off := range []bool{false, true} {
		d := newDriver(t, src)
		if off {
			d.e.DisableItemCache()
		}
		outs[i] = inputs(itemsRun(t, d, src, nil, nil))
	}
	if !reflect.DeepEqual(outs[0], outs[1]) {
		t.Errorf("commands differ with the cache:\n%v\nwithout:\n%v", outs[0], outs[1])
	}
	if want := "t/1/1 map[output:2]"; len(outs[0]) < 3 || outs[0][2] != want {
		t.Errorf("item 1 started as %v, want %s", outs[0], want)
	}
}

// A list that reads other tasks' state is evaluated on every step.
func TestItemsReadingTasksNotCached(t *testing.T) {
	const src = `version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% [execution().id, 1, 2] %>
      concurrency: 1
      action: std.echo output=<% $.x %>
`
	d := newDriver(t, src)
	itemsRun(t, d, src, nil, nil)
	if ev := d.e.ItemEvaluations(); ev != 4 {
		t.Errorf("with-items evaluated %d times, want 4 (start and each item)", ev)
	}
}
