package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// current is the outcome of the task whose expressions are being evaluated,
// before it is written: task() and task(<own name>) see it.
type current struct {
	state  State
	result any
}

func resultOf(ok bool, output any, errMsg string) current {
	if ok {
		return current{state: Success, result: output}
	}
	return current{state: Error, result: errMsg}
}

// scope is what the expressions of one evaluation site see. Its parts are
// made on first use: most steps evaluate no expression at all (a task with no
// input, publish or condition), and most expressions call no host function,
// so neither $ nor the functions are built for them.
type scope struct {
	b   *builder
	rec *Task // nil outside a task
	cur current
	// hasCur: task() and task(<own name>) see cur, the outcome being decided.
	hasCur bool
	// $ is the workflow input, then vars (as they were when the scope was
	// made), then branch without its bookkeeping, then the variables of
	// item index of items; or exactly branch when raw.
	vars   *value.Map
	branch *value.Map
	items  *itemList
	index  int
	raw    bool
	// root, when rootSet, is $ itself (a base action's result, or the
	// data of a raw scope).
	root    any
	rootSet bool

	c   *expr.Context // made on first use
	fns bool
	// full: c.Data is the whole of $, built once for this scope and kept
	// for its next evaluations; until then an expression that reads only
	// $.name gets just the names it reads (picked afresh, from the same
	// layers, which no step changes while its scopes are in use).
	full bool
}

// scope is the context of task rec (nil outside a task) over $ made of the
// workflow's data and the branch context.
func (b *builder) scope(branch *value.Map, rec *Task) *scope {
	return &scope{b: b, rec: rec, vars: b.head.Vars, branch: branch}
}

// itemScope is scope with the variables of item i of items (none if nil).
func (b *builder) itemScope(branch *value.Map, items *itemList, i int, rec *Task) *scope {
	return &scope{b: b, rec: rec, vars: b.head.Vars, branch: branch, items: items, index: i}
}

// scopeWith is scope for an expression that sees the outcome cur of rec.
func (b *builder) scopeWith(branch *value.Map, rec *Task, cur current) *scope {
	return &scope{b: b, rec: rec, cur: cur, hasCur: true, vars: b.head.Vars, branch: branch}
}

// rawScope has data as $ (an ad-hoc action's input or base result, the
// workflow input while defaults are bound).
func (b *builder) rawScope(data *value.Map, rec *Task) *scope {
	return &scope{b: b, rec: rec, raw: true, root: data}
}

func (s *scope) eval(v *expr.Value) (any, error) {
	if v.IsConst() {
		return v.Eval(nil)
	}
	if s.c == nil {
		s.c = &expr.Context{Root: s.root, RootSet: s.rootSet}
		if s.raw {
			s.c.Data, s.full = s.root, true
		}
	}
	if !s.full {
		if names, ok := v.RootNames(); ok {
			s.c.Data = s.b.pick(names, s.vars, s.branch, s.items, s.index)
		} else {
			s.c.Data, s.full = s.b.data(s.vars, s.branch, s.items, s.index), true
		}
	}
	if !s.fns && callsHost(v) {
		s.fns = true
		var cur *current
		if s.hasCur {
			c := s.cur // a copy, so the scope itself can stay on the stack
			cur = &c
		}
		s.c.Funcs = s.b.funcs(s.rec, cur)
	}
	return v.Eval(s.c)
}

// hostNames are the host functions of funcs.
var hostNames = [...]string{"task", "execution", "env", "global"} // "task" covers tasks

// callsHost reports whether v may call a host function: a call names it in
// the text of one of v's expressions. A false positive only costs the map.
func callsHost(v *expr.Value) bool {
	for _, e := range v.Expressions() {
		for _, n := range hostNames {
			if strings.Contains(e, n) {
				return true
			}
		}
	}
	return false
}

// data builds $: the workflow input, then vars and global publishes, then
// the branch's published values, then the variables of item i of items
// (later wins, as in Mistral's data flow). A name keeps the place where it
// first came, as a Python dict merge keeps it. Mistral has no order here
// ($ is a view whose keys() is a set, in CPython's hash order, which
// changes from one process to the next); this is the order of its
// layers as they are merged.
func (b *builder) data(vars, branch *value.Map, items *itemList, i int) *value.Map {
	n := b.head.Input.Len() + vars.Len() + branch.Len()
	if items != nil {
		n += len(items.vars)
	}
	out := value.NewMap(n)
	out.Update(b.head.Input)
	out.Update(vars)
	for k, v := range branch.All() {
		if !bookkeeping(k) {
			out.Set(k, v)
		}
	}
	if items != nil {
		for j, v := range items.vars {
			out.Set(v, items.lists[j][i])
		}
	}
	return out
}

// noNames is $ for an expression that reads no name of it.
var noNames = map[string]any{}

// pick is data with only the given names, each from the layer data would
// take it from: what an expression that reads $ only as $.name sees of it.
// It is a Go map, as nothing reads its order.
func (b *builder) pick(names []string, vars, branch *value.Map, items *itemList, i int) map[string]any {
	if len(names) == 0 {
		return noNames // <% task().result %>: no evaluator writes to $
	}
	out := make(map[string]any, len(names))
	for _, k := range names {
		v, ok := b.head.Input.Get(k)
		if w, has := vars.Get(k); has {
			v, ok = w, true
		}
		if w, has := branch.Get(k); has && !bookkeeping(k) {
			v, ok = w, true
		}
		if items != nil {
			for j, name := range items.vars {
				if name == k {
					v, ok = items.lists[j][i], true
				}
			}
		}
		if ok {
			out[k] = v
		}
	}
	return out
}

// resultScope evaluates an ad-hoc action's output over its base result.
func (b *builder) resultScope(result any, rec *Task) *scope {
	// $ is the result as it is, a string or a number too, as in Mistral
	// (output: "<% $ %> and <% $ %>").
	return &scope{b: b, rec: rec, raw: true, root: result, rootSet: true}
}

func (b *builder) funcs(rec *Task, cur *current) map[string]expr.Func {
	ctx := b.ctx
	view := func(t *Task) map[string]any {
		// Mistral's 11 keys of a task execution, as its task() gives them.
		m := map[string]any{
			"id": t.Exec + "/" + t.Key, "name": t.Name, "state": string(t.State),
			"state_info": nilIfEmpty(t.StateInfo), "result": t.Result, "published": t.Published,
			"workflow_execution_id": t.Exec, "type": "ACTION", "spec": map[string]any{"name": t.Name},
			"created_at": mistralTime(t.Started), "updated_at": mistralTime(t.Started),
		}
		if !t.Finished.IsZero() {
			m["updated_at"] = mistralTime(t.Finished)
		}
		if t.Published == nil {
			m["published"] = value.NewMap(0)
		}
		if d := b.wf.Tasks[t.Name]; d != nil {
			m["spec"] = d.Spec()
			if d.Workflow != "" {
				m["type"] = "WORKFLOW"
			}
		}
		if rec != nil && t.Key == rec.Key && cur != nil {
			m["state"], m["result"] = string(cur.state), cur.result
		}
		return m
	}
	return map[string]expr.Func{
		"task": func(args []any) (any, error) {
			b.hostCalls++
			if len(args) == 0 || args[0] == nil {
				if rec == nil {
					return nil, fmt.Errorf("task() used outside a task")
				}
				return view(rec), nil
			}
			name, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("task(): name must be a string, not %s", value.TypeName(args[0]))
			}
			if rec != nil && (name == rec.Name || name == rec.Key) {
				return view(rec), nil
			}
			key := name
			if rec != nil {
				// In a cycle, task(name) is the latest run of name on this branch.
				if m, ok := value.AsGoMap(rec.Ctx.Value(keysKey)); ok {
					if k, ok := m[name].(string); ok {
						key = k
					}
				}
			}
			if t := b.liveTask(key); t != nil {
				return view(t), nil
			}
			t, err := b.r.Task(ctx, b.head.ID, key)
			if err != nil {
				return nil, fmt.Errorf("task(%s): %w", name, err)
			}
			if t == nil {
				return nil, nil // Mistral's task() of a task that has not run is null
			}
			return view(t), nil
		},
		"tasks": func(args []any) (any, error) {
			b.hostCalls++
			all, err := b.r.Tasks(ctx, b.head.ID)
			if err != nil {
				return nil, fmt.Errorf("tasks(): %w", err)
			}
			// tasks(workflow_execution_id, recursive, state): only the state filter applies here.
			var state string
			if len(args) >= 3 {
				state, _ = args[2].(string)
			}
			sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
			out := make([]any, 0, len(all))
			for _, t := range all {
				if state == "" || string(t.State) == state {
					out = append(out, view(t))
				}
			}
			return out, nil
		},
		"execution": func(args []any) (any, error) {
			b.hostCalls++
			h := b.head
			// Mistral's 8 keys, as its execution() gives them: a top-level
			// execution has no root_execution_id, and params always hold a
			// namespace (Lazyflow has only the default one, "").
			var root any
			if h.Parent != "" {
				root = h.Root
			}
			return map[string]any{
				"id": h.ID, "name": h.Workflow, "input": h.Input,
				"params": map[string]any{"env": h.Env, "namespace": ""}, "spec": b.wf.Spec(),
				"created_at": mistralTime(h.Created), "updated_at": mistralTime(h.Updated), "root_execution_id": root,
			}, nil
		},
		// global(name) is Mistral's: a variable of the execution's global
		// context (its vars, what tasks published with publish: global:,
		// then its input).
		"global": func(args []any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("global() takes a variable name")
			}
			name, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("global() takes a variable name, not %v", args[0])
			}
			if v, ok := b.head.Vars.Get(name); ok {
				return v, nil
			}
			return b.head.Input.Value(name), nil
		},
		"env": func(args []any) (any, error) {
			if b.head.Env == nil {
				return value.NewMap(0), nil
			}
			return b.head.Env, nil
		},
	}
}

// mistralTime is a time as Mistral's expression functions show one.
func mistralTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05")
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func truth(v *expr.Value, c *scope) (bool, error) {
	if v == nil {
		return false, nil
	}
	x, err := c.eval(v)
	if err != nil {
		return false, err
	}
	return value.Truthy(x), nil
}

func floatOf(v *expr.Value, c *scope) (float64, error) {
	if v == nil {
		return 0, nil
	}
	x, err := c.eval(v)
	if err != nil {
		return 0, err
	}
	switch n := value.Normalize(x).(type) {
	case nil:
		return 0, nil
	case int64:
		return float64(n), nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("%v is not a usable number", n)
		}
		return n, nil
	}
	// Mistral 23.0.0 validates policy values against an integer schema:
	// a string, even "1", fails the task.
	return 0, fmt.Errorf("expected a number, got %s %q", value.TypeName(x), fmt.Sprint(x))
}

func intOf(v *expr.Value, c *scope) (int, error) {
	f, err := floatOf(v, c)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > 1e9 {
		return 0, fmt.Errorf("%v is out of range", f)
	}
	return int(f), nil
}

func (b *builder) seconds(v *expr.Value, rec *Task) (float64, error) {
	f, err := floatOf(v, b.scope(rec.Ctx, rec))
	if err != nil {
		return 0, err
	}
	return inRange(f)
}

// inRange checks a duration in seconds an expression gave.
func inRange(f float64) (float64, error) {
	if f < 0 {
		return 0, fmt.Errorf("negative duration %v", f)
	}
	if f > dsl.MaxSeconds {
		return 0, fmt.Errorf("%v seconds is out of range: at most %d (10 years)", f, dsl.MaxSeconds)
	}
	return f, nil
}

// graph is the part of a workflow's shape that depends on the run: for a
// reverse workflow, the tasks needed to reach the target.
type graph struct {
	reverse bool
	starts  []string
	succ    map[string][]string
	need    map[string]int
}

var graphs sync.Map // graphKey -> *graph

type graphKey struct {
	wf     *dsl.Workflow
	target string
}

// directGraph serves every direct workflow: their shape is all in dsl.Workflow.
var directGraph = &graph{}

func graphOf(wf *dsl.Workflow, target string) (*graph, error) {
	if wf.Type != dsl.Reverse {
		return directGraph, nil
	}
	k := graphKey{wf, target}
	if g, ok := graphs.Load(k); ok {
		return g.(*graph), nil
	}
	if _, ok := wf.Tasks[target]; !ok {
		return nil, &InputError{Msg: fmt.Sprintf("target task %q is not in workflow %s", target, wf.Name), Target: true}
	}
	g := &graph{reverse: true, succ: map[string][]string{}, need: map[string]int{}}
	seen := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch seen[name] {
		case 1:
			return inputErrorf("reverse workflow %s: requires form a cycle through %v", wf.Name, append(path, name))
		case 2:
			return nil
		}
		seen[name] = 1
		t := wf.Tasks[name]
		for _, r := range t.Requires {
			if _, ok := wf.Tasks[r]; !ok {
				return inputErrorf("task %s requires unknown task %q", name, r)
			}
			if err := visit(r, append(path, name)); err != nil {
				return err
			}
			g.succ[r] = append(g.succ[r], name)
		}
		if len(t.Requires) == 0 {
			g.starts = append(g.starts, name)
		}
		if len(t.Requires) > 1 {
			g.need[name] = len(t.Requires)
		}
		seen[name] = 2
		return nil
	}
	if err := visit(target, nil); err != nil {
		return nil, err
	}
	graphs.Store(k, g)
	return g, nil
}

// joinNeed is how many inbound arrivals fire task t (0: t is not a join).
func (g *graph) joinNeed(wf *dsl.Workflow, t *dsl.Task) int {
	if g.reverse {
		return g.need[t.Name]
	}
	switch t.Join {
	case dsl.JoinAll:
		return len(wf.Inbound[t.Name])
	case dsl.JoinCount:
		return t.JoinN
	case dsl.JoinOne:
		return 1
	}
	return 0
}

var _ = context.Background
