package engine

import (
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/lazyflow/lazyflow/core/dsl"
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
	vars map[string]any
}

func keyOf(head *Execution, rec *Task, t *dsl.Task) itemKey {
	return itemKey{exec: rec.Exec, key: rec.Key, attempt: rec.Attempt,
		created: head.Created.UnixNano(), started: rec.Started.UnixNano(), task: t}
}

func (c *itemCache) get(k itemKey, vars map[string]any) *itemList {
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

func (c *itemCache) put(k itemKey, l *itemList, vars map[string]any) {
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
// of the same value differ: expressions can tell them apart).
func sameData(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
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
