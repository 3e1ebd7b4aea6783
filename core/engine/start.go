package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/expr"
	typos "github.com/lazyflow/lazyflow/core/internal/suggest"
	"github.com/lazyflow/lazyflow/core/value"
)

// Start creates an execution and its first tasks.
func (e *Engine) Start(ctx context.Context, r Reader, sp StartParams) (*Plan, error) {
	if sp.ID == "" {
		return nil, fmt.Errorf("start: empty execution id: %w", ErrInvalidInput)
	}
	doc, err := e.Defs.Doc(ctx, sp.DefID)
	if err != nil {
		return nil, fmt.Errorf("start %s: load definition: %w", sp.ID, err)
	}
	wf, err := doc.Workflow(sp.Workflow)
	if err != nil {
		return nil, fmt.Errorf("start %s: workflow %q is not defined: %w", sp.ID, sp.Workflow, ErrNotFound)
	}
	spawn, err := e.spawn(ctx, r, sp)
	if err != nil {
		return nil, err
	}
	now := e.now()
	head := &Execution{
		ID: sp.ID, Workflow: sp.Workflow, DefID: sp.DefID, State: Running,
		Env: sp.Env, Target: sp.Target, Parent: sp.Parent, ParentTask: sp.ParentTask,
		ParentAttempt: sp.ParentAttempt, ParentSlot: sp.ParentSlot, Root: sp.Root, Depth: sp.Depth, IdempotencyKey: sp.IdempotencyKey, RequestHash: sp.RequestHash,
		Created: now, Updated: now,
	}
	if head.Root == "" {
		head.Root = head.ID
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		// Mistral calls a reverse sub-workflow with its target among the
		// call's parameters (workflow: wf1 ... task_name='task2'); it is a
		// parameter, not an input of the sub-workflow.
		if name, ok := sp.Input.Value("task_name").(string); ok {
			head.Target = name
			in := sp.Input.Clone()
			in.Delete("task_name")
			sp.Input = in
		}
	}
	b := (&builder{e: e, ctx: ctx, r: r, doc: doc, wf: wf, head: head, now: now, putHead: true}).init()
	if err := b.evalEnv(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.ID, err)
	}
	input, err := b.bindInput(sp.Input)
	if err != nil {
		return nil, err
	}
	head.Input = input
	if wf.Vars != nil {
		v, err := b.scope(nil, nil).eval(wf.Vars)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("evaluate vars of workflow %s: %v", wf.Name, err))
		}
		if m, ok := value.AsMap(v); ok {
			head.Vars = m
		}
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		return nil, fmt.Errorf("start %s: %w", sp.ID, &InputError{Msg: fmt.Sprintf("reverse workflow %s needs a target task", wf.Name), Target: true})
	}
	g, err := graphOf(wf, head.Target)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.ID, err)
	}
	b.graph = g
	starts := b.startTasks()
	if err := b.startPage(0); err != nil {
		return nil, err
	}
	if len(starts) == 0 {
		b.finish(Success, "", nil)
	}
	p := b.plan()
	p.Ops[0] = PutExecution{Exec: p.Exec, IfVersion: 0}
	p.Ops = append(p.Ops, PutInput{Exec: head.ID, Input: input})
	if spawn != nil {
		p.Ops = append(p.Ops, *spawn)
	}
	p.Exec.Version = 1
	return p, nil
}

// spawn checks a sub-workflow start against the limits of its tree and
// returns the count it adds to its root (nil for a root).
func (e *Engine) spawn(ctx context.Context, r Reader, sp StartParams) (*AddExecution, error) {
	if sp.Parent == "" || sp.Root == "" {
		return nil, nil
	}
	if sp.Depth > e.maxDepth() {
		return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("sub-workflow %s would be %d levels deep, over the limit of %d nested sub-workflows",
			sp.Workflow, sp.Depth, e.maxDepth()))
	}
	root, err := r.Execution(ctx, sp.Root)
	if err != nil {
		return nil, fmt.Errorf("start %s: load root execution %s: %w", sp.ID, sp.Root, err)
	}
	switch {
	case root == nil:
		return nil, nil // deleted: nothing left to count on
	case root.State.Terminal():
		return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("root execution %s has ended (%s)", root.ID, root.State))
	case root.Spawned >= e.maxSpawned():
		return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("root execution %s has started %d sub-workflow executions, the limit for one execution's tree",
			root.ID, root.Spawned))
	}
	// The add is conditional on the state read, so a start decided before
	// the root ended or paused conflicts and is decided again.
	return &AddExecution{ID: root.ID, Spawned: 1, IfState: root.State}, nil
}

// StartPage is how many first tasks one step starts. A workflow with more
// starts them a page per step (the start, then a timer per page), so a wide
// fan-out is many bounded steps rather than one that writes and sends
// thousands of records before the start can answer.
const StartPage = 100

func (b *builder) startTasks() []string {
	if b.wf.Type == dsl.Direct {
		return b.wf.StartTasks
	}
	return b.graph.starts
}

// startPage schedules the first tasks from index from, at most StartPage
// of them. While tasks are left it keeps one unit of work open for them
// (so the execution cannot end in between) and sets a timer for the next
// page; the head's StartsNext says which page is due.
func (b *builder) startPage(from int) error {
	starts := b.startTasks()
	to := min(from+StartPage, len(starts))
	for _, name := range starts[from:to] {
		if b.head.State.Terminal() {
			// A start task that failed to run ended the execution: the
			// others are not started, so none is left running.
			return nil
		}
		if err := b.schedule(name, "", nil); err != nil {
			return err
		}
	}
	switch {
	case to < len(starts) && from == 0:
		b.add.Active++ // the pages left
	case to == len(starts) && from > 0:
		b.add.Active--
	}
	b.head.StartsNext = 0
	if to < len(starts) {
		b.head.StartsNext = to
		b.cmds = append(b.cmds, StartPageCommands(b.head)...)
	}
	return nil
}

// StartPageCommands is the timer of an execution's next page of first
// tasks, if one is due: a host re-sends it when recovering.
func StartPageCommands(h *Execution) []Command {
	if h.StartsNext == 0 || h.State.Terminal() {
		return nil
	}
	return []Command{{Kind: StartTimer, Exec: h.ID, Slot: -1, Attempt: h.StartsNext, Timer: TimerStartPage}}
}

// fireStartPage starts the page of first tasks timer tm is for. A timer
// for a page already started re-sends the one for the page now due, in
// case the step that started it died before sending it.
func (b *builder) fireStartPage(tm Timer) (*Plan, error) {
	if b.head.StartsNext != tm.Attempt {
		return &Plan{Duplicate: true, Commands: StartPageCommands(b.head)}, nil
	}
	h := *b.head
	b.head = &h
	b.putHead = true
	if err := b.startPage(tm.Attempt); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

// bindInput applies declared defaults and rejects unknown or missing inputs.
// As Mistral's, the input keeps the order it was given in, and the defaults
// of what it lacks follow in the order the workflow declares them.
func (b *builder) bindInput(in *value.Map) (*value.Map, error) {
	out := in.Clone()
	// A default reads the inputs declared before it.
	before := value.NewMap(in.Len())
	declared := make(map[string]bool, len(b.wf.Input))
	var missing []string
	for _, p := range b.wf.Input {
		declared[p.Name] = true
		if v, ok := in.Get(p.Name); ok {
			before.Set(p.Name, v)
			continue
		}
		if !p.HasDefault {
			missing = append(missing, p.Name)
			continue
		}
		v, err := b.rawScope(before, nil).eval(p.Default)
		if err != nil {
			// The default is evaluated over the request's input: a request
			// it cannot be evaluated over is refused, as a missing input is.
			return nil, inputErrorf("input %q of workflow %s: default: %v", p.Name, b.wf.Name, err)
		}
		before.Set(p.Name, v)
		out.Set(p.Name, v)
	}
	// A name the workflow does not declare is refused even when it declares
	// none, as Mistral 23.0.0's validate_input refuses it.
	var unknown []string
	for _, k := range in.Keys() {
		if !declared[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	// Both are said at once, as Mistral's "Invalid input" does: a
	// misspelt input is usually both ("nme" given, "name" missing).
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing required input "+strings.Join(missing, ", "))
	}
	if len(unknown) > 0 {
		// Only an input not given can be the one meant: "y" given beside
		// "x" is not a typo of "x".
		var names []string
		for _, p := range b.wf.Input {
			if _, given := in.Get(p.Name); !given {
				names = append(names, p.Name)
			}
		}
		for i, k := range unknown {
			if best := typos.Closest(k, names); best != "" {
				unknown[i] = fmt.Sprintf("%s (did you mean %s?)", k, best)
			}
		}
		problems = append(problems, "unexpected input "+strings.Join(unknown, ", "))
	}
	if len(problems) > 0 {
		return nil, inputErrorf("workflow %s: %s", b.wf.Name, strings.Join(problems, "; "))
	}
	return out, nil
}

// evalEnv evaluates the expressions among a top-level execution's env
// values once, at start, with env() reading the env as given: Mistral
// 23.0.0 does so by default (evaluate_env). A sub-workflow inherits its
// parent's env already evaluated.
func (b *builder) evalEnv() error {
	if b.head.Parent != "" || b.head.Env.Len() == 0 {
		return nil
	}
	v, err := expr.Compile(b.head.Env)
	if err != nil {
		return inputErrorf("env: %v", err)
	}
	if v.IsConst() {
		return nil
	}
	out, err := b.scope(nil, nil).eval(v)
	if err != nil {
		return inputErrorf("evaluate env: %v", err)
	}
	if m, ok := value.AsMap(out); ok {
		b.head.Env = m
	}
	return nil
}
