package engine_test

// A minimal host for benchmarks: the engine over the kvstore memory store,
// with no queues. Follow-up steps the engine asks for (join and with-items
// checks, finalisation) run inline; run-action commands are returned to the
// caller, which decides when their results arrive.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

type oneDoc struct{ doc *dsl.Document }

func (d oneDoc) Doc(ctx context.Context, id string) (*dsl.Document, error) { return d.doc, nil }

type driver struct {
	e  *engine.Engine
	st *kvstore.Store
	r  engine.Reader // st, with inputs cached as every host caches them
	// engineTime accumulates time spent inside engine calls only; readTime
	// the part of it spent in the store's reads (decoding records).
	engineTime time.Duration
	readTime   time.Duration
}

func newDriver(tb testing.TB, src string) *driver {
	tb.Helper()
	doc, err := dsl.Load("bench.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	st := kvstore.NewMemory()
	d := &driver{e: &engine.Engine{Defs: oneDoc{doc}}, st: st}
	d.r = &timedReader{inner: &inputCache{Store: st, m: map[string]*value.Map{}}, total: &d.readTime}
	return d
}

// step computes and commits one engine step, recomputing on a conflict,
// then runs its follow-ups; it returns the run-action commands.
func (d *driver) step(ctx context.Context, fn func() (*engine.Plan, error)) ([]engine.Command, error) {
	for round := 0; ; round++ {
		t0 := time.Now()
		p, err := fn()
		d.engineTime += time.Since(t0)
		if err != nil {
			return nil, err
		}
		if len(p.Ops) > 0 {
			if err := d.st.Commit(ctx, p.Ops); err != nil {
				if errors.Is(err, store.ErrConflict) && round < 20 {
					continue
				}
				return nil, err
			}
		}
		return d.follow(ctx, p)
	}
}

func (d *driver) follow(ctx context.Context, p *engine.Plan) ([]engine.Command, error) {
	var runs []engine.Command
	for _, c := range p.Commands {
		var more []engine.Command
		var err error
		switch c.Kind {
		case engine.RunAction:
			runs = append(runs, c)
		case engine.CheckJoin:
			more, err = d.step(ctx, func() (*engine.Plan, error) { return d.e.CheckJoin(ctx, d.r, c.Exec, c.Task, c.From, c.Need) })
		case engine.CheckItems:
			more, err = d.step(ctx, func() (*engine.Plan, error) { return d.e.CheckItems(ctx, d.r, c.Exec, c.Task) })
		}
		if err != nil {
			return nil, err
		}
		runs = append(runs, more...)
	}
	if p.CheckFinal {
		h, err := d.st.Execution(ctx, execOf(p))
		if err != nil {
			return nil, err
		}
		if h != nil && h.State == engine.Running && h.Active == 0 {
			more, err := d.step(ctx, func() (*engine.Plan, error) { return d.e.Finalize(ctx, d.r, h.ID) })
			if err != nil {
				return nil, err
			}
			runs = append(runs, more...)
		}
	}
	return runs, nil
}

func execOf(p *engine.Plan) string {
	if p.Exec != nil {
		return p.Exec.ID
	}
	for _, c := range p.Commands {
		return c.Exec
	}
	for _, op := range p.Ops {
		switch o := op.(type) {
		case engine.AddExecution:
			return o.ID
		case engine.PutTask:
			return o.Task.Exec
		case engine.PutSlot:
			return o.Slot.Exec
		}
	}
	return ""
}

func (d *driver) start(ctx context.Context, id, wf string, input map[string]any) ([]engine.Command, error) {
	return d.step(ctx, func() (*engine.Plan, error) {
		return d.e.Start(ctx, d.r, engine.StartParams{ID: id, DefID: "bench", Workflow: wf, Input: value.MapOf(input)})
	})
}

func (d *driver) complete(ctx context.Context, c engine.Command, output any) ([]engine.Command, error) {
	return d.step(ctx, func() (*engine.Plan, error) {
		return d.e.TaskComplete(ctx, d.r, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: true, Output: output})
	})
}

// chainSrc is a chain of n tasks.
func chainSrc(n int) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  tasks:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: std.noop\n", i)
		if i+1 < n {
			fmt.Fprintf(&b, "      on-success: t%d\n", i+1)
		}
	}
	return b.String()
}

// fanSrc is one start task fanning out to n branches that join.
func fanSrc(n int) string {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  tasks:\n    start:\n      action: std.noop\n      on-success:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "        - b%d\n", i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    b%d:\n      action: std.noop\n      on-success: done\n", i)
	}
	b.WriteString("    done:\n      join: all\n      action: std.noop\n")
	return b.String()
}

const itemsSrc = `version: '2.0'
wf:
  input:
    - xs
  tasks:
    t:
      with-items: x in <% $.xs %>
      action: std.echo output=<% $.x %>
`

func itemsInput(n int) map[string]any {
	xs := make([]any, n)
	for i := range xs {
		xs[i] = int64(i)
	}
	return map[string]any{"xs": xs}
}

const rangeSrc = `version: '2.0'
wf:
  input:
    - n
  tasks:
    t:
      with-items: i in <% range(0, $.n) %>
      concurrency: 100
      action: std.noop
`

func rangeInput(n int) map[string]any { return map[string]any{"n": int64(n)} }

func mustJSON(t interface{ Fatalf(string, ...any) }, b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// inputCache caches executions' inputs, which never change, as
// service.Service does for every real host.
type inputCache struct {
	*kvstore.Store
	m map[string]*value.Map
}

func (c *inputCache) Input(ctx context.Context, exec string) (*value.Map, error) {
	if in, ok := c.m[exec]; ok {
		return in, nil
	}
	in, err := c.Store.Input(ctx, exec)
	if err == nil {
		c.m[exec] = in
	}
	return in, err
}

// timedReader measures the time the engine spends in store reads, so the
// benchmark can report the engine's own CPU apart from record decoding.
type timedReader struct {
	inner engine.Reader
	total *time.Duration
}

func (r *timedReader) since(t0 time.Time) { *r.total += time.Since(t0) }

func (r *timedReader) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	defer r.since(time.Now())
	return r.inner.Execution(ctx, id)
}
func (r *timedReader) Input(ctx context.Context, exec string) (*value.Map, error) {
	defer r.since(time.Now())
	return r.inner.Input(ctx, exec)
}
func (r *timedReader) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	defer r.since(time.Now())
	return r.inner.Task(ctx, exec, key)
}
func (r *timedReader) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	defer r.since(time.Now())
	return r.inner.Slot(ctx, exec, task, i)
}
func (r *timedReader) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	defer r.since(time.Now())
	return r.inner.Slots(ctx, exec, task)
}
func (r *timedReader) Arrivals(ctx context.Context, exec, key string) (map[string]*value.Map, error) {
	defer r.since(time.Now())
	return r.inner.Arrivals(ctx, exec, key)
}
func (r *timedReader) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	defer r.since(time.Now())
	return r.inner.Tasks(ctx, exec)
}
func (r *timedReader) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	defer r.since(time.Now())
	return r.inner.TasksAfter(ctx, exec, after, limit)
}
func (r *timedReader) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	defer r.since(time.Now())
	return r.inner.Leaves(ctx, exec)
}
