package engine

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// itemCache keeps the evaluated with-items lists of running tasks. Every
// item's completion needs the value of the item that takes its place in the
// window; evaluating the with-items expression again for it costs as much as
// the whole list (range(0, 10000) builds 10,000 values), which made a
// completion's cost grow with the number of items. The engine stays lazy: a
// miss (another host, a restart, an evicted entry) evaluates as before, and a
// hit returns exactly what that evaluation would (see get), so plans do not
// depend on which host computed them.
//
// Two generations bound it: when the current one is full it becomes the old
// one and the previous old one is dropped, so the lists of tasks still
// completing stay while finished ones age out, without per-entry bookkeeping.
type itemCache struct {
	mu        sync.Mutex
	cur, old  map[itemKey]*itemEntry
	curValues int // list elements held by cur

	evals atomic.Int64 // evaluations of with-items expressions (tests)
	off   bool         // tests: evaluate every time, to compare plans
}

const (
	maxItemEntries = 1024    // per generation
	maxItemValues  = 1 << 20 // list elements per generation; a longer list is never cached
)

// itemKey names one run of one with-items task. A rerun bumps the task's
// Attempt, so it evaluates again; Created and Started tell apart runs that
// reuse an execution id (a store emptied and filled again by a test), and the
// task's definition pointer tells apart definitions loaded again.
type itemKey struct {
	exec, key string
	attempt   int
	created   int64
	started   int64
	task      *dsl.Task
}

// itemEntry is one evaluated list with the global variables it was evaluated
// over: they are the only part of $ that can change while a task runs (a
// parallel branch's global publish), and a list evaluated over other values
// is not the one a fresh evaluation would give.
type itemEntry struct {
	list *itemList
	vars *value.Map
}

func keyOf(head *Execution, rec *Task, t *dsl.Task) itemKey {
	return itemKey{exec: rec.Exec, key: rec.Key, attempt: rec.Attempt,
		created: head.Created.UnixNano(), started: rec.Started.UnixNano(), task: t}
}

func (c *itemCache) get(k itemKey, vars *value.Map) *itemList {
	if c.off {
		return nil
	}
	c.mu.Lock()
	e, ok := c.cur[k]
	if !ok {
		if e, ok = c.old[k]; ok {
			c.putLocked(k, e) // still in use: keep it past the next turnover
		}
	}
	c.mu.Unlock()
	if !ok || !sameData(e.vars, vars) {
		return nil
	}
	return e.list
}

func (c *itemCache) put(k itemKey, l *itemList, vars *value.Map) {
	if c.off || l.n*len(l.vars) > maxItemValues {
		return
	}
	c.mu.Lock()
	c.putLocked(k, &itemEntry{list: l, vars: vars})
	c.mu.Unlock()
}

func (c *itemCache) putLocked(k itemKey, e *itemEntry) {
	size := e.list.n * len(e.list.vars)
	if c.cur == nil || len(c.cur) >= maxItemEntries || c.curValues+size > maxItemValues {
		c.old, c.cur, c.curValues = c.cur, make(map[itemKey]*itemEntry), 0
	}
	if prev, ok := c.cur[k]; ok {
		c.curValues -= prev.list.n * len(prev.list.vars)
	}
	c.cur[k] = e
	c.curValues += size
}

// sameData is strict deep equality of decoded record data (an int and a float
// of the same value differ, and so do dicts in another order: expressions can
// tell them apart).
func sameData(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *value.Map:
		y, ok := b.(*value.Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		i := 0
		for k, xv := range x.All() {
			if y.Key(i) != k || !sameData(xv, y.Value(k)) {
				return false
			}
			i++
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !sameData(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameData(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

// runItems starts a with-items task: the first window of items.
func (b *builder) runItems(rec *Task, t *dsl.Task) error {
	items, err := b.items(rec, t)
	if err != nil {
		// Mistral 23.0.0: a with-items expression that cannot be evaluated
		// fails the task and the workflow at once ("Failed to run task").
		if b.failRun(rec, b.runFailed(t, err)) {
			return nil
		}
		return b.finishTask(rec, t, false, err.Error())
	}
	rec.Items = items.n
	conc := 0
	if t.Concurrency != nil {
		c, err := intOf(t.Concurrency, b.scope(rec.Ctx, rec))
		if err != nil {
			return b.finishTask(rec, t, false, fmt.Sprintf("concurrency of task %s: %v", t.Name, err))
		}
		conc = c
	}
	if conc <= 0 || conc > items.n {
		conc = items.n
	}
	rec.Concurrency = conc
	if items.n == 0 {
		rec.Result, rec.HasResult = []any{}, true
		return b.finishTask(rec, t, true, "")
	}
	failed := false
	for i := 0; i < conc; i++ {
		if n := b.startWindow(rec, t, items, i); n > 0 {
			rec.Failed += n
			failed = true
		}
	}
	if failed {
		b.cmds = append(b.cmds, Command{Kind: CheckItems, Exec: rec.Exec, Task: rec.Key, Slot: -1})
	}
	return nil
}

// startSlot creates item i and dispatches it. An item whose input does not
// evaluate is created failed; it reports false and the caller counts it.
func (b *builder) startSlot(rec *Task, t *dsl.Task, items *itemList, i int) bool {
	s := &Slot{Exec: rec.Exec, Task: rec.Key, Index: i, State: Running, Attempt: 1}
	b.ops = append(b.ops, PutSlot{Slot: s})
	mark := len(b.cmds)
	if err := b.dispatch(rec, t, i, 1, items); err != nil {
		s.State, s.StateInfo, s.Result = Error, err.Error(), err.Error()
		return false
	}
	// The item keeps its own commands (recovery finds them here), so the
	// task record does not carry one command per item.
	s.Outbox = clone(b.cmds[mark:])
	return true
}

// startWindow starts item i; an item that fails at dispatch is counted and
// the item a window further on takes its place at once (no result will come
// back to start it), so the items always all run. It returns how many failed.
func (b *builder) startWindow(rec *Task, t *dsl.Task, items *itemList, i int) int64 {
	var failed int64
	for ; i < rec.Items; i += rec.Concurrency {
		if b.startSlot(rec, t, items, i) {
			break
		}
		failed++
	}
	return failed
}

// itemList is the evaluated with-items lists of a task. Item variables are
// set only for the items a step touches (straight into $, see data), so one
// item's completion does not cost more as the number of items grows.
type itemList struct {
	vars  []string
	lists [][]any
	n     int
}

// items is the with-items lists of this run of rec, from the engine's cache
// when it holds them (see itemCache). The lists are shared: never modify them.
func (b *builder) items(rec *Task, t *dsl.Task) (*itemList, error) {
	k := keyOf(b.head, rec, t)
	if l := b.e.itemCache.get(k, b.head.Vars); l != nil {
		return l, nil
	}
	calls := b.hostCalls
	l, err := b.evalItems(rec, t)
	if err != nil {
		return nil, err
	}
	// A list that read other tasks or the execution's state (task(),
	// tasks(), execution()) may differ when evaluated again, so only a fresh
	// evaluation gives the value a host without the cache would see.
	if b.hostCalls == calls {
		b.e.itemCache.put(k, l, b.head.Vars)
	}
	return l, nil
}

// evalItems evaluates the with-items lists.
func (b *builder) evalItems(rec *Task, t *dsl.Task) (*itemList, error) {
	b.e.itemCache.evals.Add(1)
	ectx := b.scope(rec.Ctx, rec)
	n := -1
	out := &itemList{vars: make([]string, len(t.WithItems)), lists: make([][]any, len(t.WithItems))}
	for i, wi := range t.WithItems {
		v, err := ectx.eval(wi.List)
		if err != nil {
			return nil, fmt.Errorf("with-items of task %s: %w", t.Name, err)
		}
		l, ok := v.([]any)
		if !ok && v != nil {
			return nil, fmt.Errorf("with-items of task %s: %s is %T, not a list", t.Name, wi.Var, v)
		}
		if n >= 0 && len(l) != n {
			return nil, fmt.Errorf("with-items of task %s: lists have different lengths (%d and %d)", t.Name, n, len(l))
		}
		n = len(l)
		// Capped, so an append to a shared list could never write into it.
		out.vars[i], out.lists[i] = wi.Var, l[:len(l):len(l)]
	}
	if n < 0 {
		n = 0
	}
	out.n = n
	return out, nil
}

// itemResult applies the result of one item's attempt: a retry of the item,
// or its end, counted on the task atomically; the item after the concurrency
// window takes its place.
func (b *builder) itemResult(rec *Task, t *dsl.Task, slot *Slot, res Result) error {
	s := *slot
	b.ops = append(b.ops, PutSlot{Slot: &s, IfVersion: slot.Version})
	items, err := b.items(rec, t)
	if err != nil || s.Index >= items.n {
		return fmt.Errorf("re-evaluate items of task %s: %v", t.Name, err)
	}
	if !res.OK && t.Retry != nil {
		rc := b.itemScope(rec.Ctx, items, s.Index, rec)
		rc.cur, rc.hasCur = resultOf(false, nil, res.Error), true
		count, _ := intOf(t.Retry.Count, rc)
		brk := false
		if t.Retry.BreakOn != nil {
			brk, _ = truth(t.Retry.BreakOn, rc)
		}
		if s.Attempt <= count && !brk {
			s.Attempt++
			if err := b.dispatch(rec, t, s.Index, s.Attempt, items); err == nil {
				s.Outbox = clone(b.cmds)
				return nil
			} else {
				res.Error = err.Error()
			}
		}
	}
	if res.OK {
		// Each item's action is an ad-hoc action's too.
		if v, err := b.adhocOutput(t.Action, res.Output, rec); err != nil {
			res.OK, res.Error = false, err.Error()
		} else {
			res.Output = v
		}
	}
	a := AddItems{Exec: rec.Exec, Key: rec.Key}
	if res.OK {
		s.State, s.Result = Success, res.Output
		a.Done = 1
	} else {
		s.State, s.StateInfo, s.Result = Error, res.Error, res.Error
		a.Failed = 1
	}
	// Each finished item starts at most the one item a window further on,
	// so no item starts twice. A rerun item (Attempt > 1) starts none: its
	// successor already ran.
	if next := s.Index + rec.Concurrency; next < rec.Items && !slot.Rerun {
		a.Failed += b.startWindow(rec, t, items, next)
	}
	b.ops = append(b.ops, a)
	b.cmds = append(b.cmds, Command{Kind: CheckItems, Exec: rec.Exec, Task: rec.Key, Slot: -1})
	s.Outbox = clone(b.cmds)
	return nil
}

func (b *builder) itemsFollowUp(rec *Task) []Command {
	if rec.State == Running {
		return []Command{{Kind: CheckItems, Exec: rec.Exec, Task: rec.Key, Slot: -1}}
	}
	return rec.Outbox
}

// CheckItems finishes a with-items task once every item has finished.
func (e *Engine) CheckItems(ctx context.Context, r Reader, execID, key string) (*Plan, error) {
	// Every item's end asks, and all but the last find items still to
	// finish, which the task record alone tells: the execution is loaded
	// only when there may be something to decide.
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", key, execID, err)
	}
	if rec != nil && (rec.State != Running || rec.Items == 0 || int(rec.Done+rec.Failed) < rec.Items) {
		return &Plan{}, nil
	}
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() || rec == nil {
		return &Plan{}, nil
	}
	slots, err := r.Slots(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load items of task %s of %s: %w", key, execID, err)
	}
	results := make([]any, rec.Items)
	var firstErr string
	for _, s := range slots {
		if s.Index < len(results) {
			results[s.Index] = s.Result
			if s.State == Error && firstErr == "" {
				firstErr = fmt.Sprintf("item %d: %s", s.Index, s.StateInfo)
			}
		}
	}
	t := b.wf.Tasks[rec.Name]
	rec.Result, rec.HasResult = results, true
	if err := b.finishTask(rec, t, rec.Failed == 0, firstErr); err != nil {
		return nil, err
	}
	b.putTask(rec)
	return b.plan(), nil
}
