package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
)

// Reader is what the engine may read of an execution. A nil record with a nil
// error means "absent".
type Reader interface {
	// Execution returns the head without its input (Input is nil).
	Execution(ctx context.Context, id string) (*Execution, error)
	// Input returns an execution's input (immutable: callers may cache it).
	Input(ctx context.Context, exec string) (map[string]any, error)
	Task(ctx context.Context, exec, key string) (*Task, error)
	Slot(ctx context.Context, exec, task string, index int) (*Slot, error)
	// Slots returns every slot of a with-items task in index order.
	Slots(ctx context.Context, exec, task string) ([]*Slot, error)
	// Arrivals returns the outbound context of every branch that arrived at
	// join task key, by the key of the task it came from.
	Arrivals(ctx context.Context, exec, key string) (map[string]map[string]any, error)
	// Tasks returns every task record of an execution (used only on rare
	// paths: resume, rerun, the tasks() function).
	Tasks(ctx context.Context, exec string) ([]*Task, error)
	Leaves(ctx context.Context, exec string) ([]*Leaf, error)
}

// Defs resolves a stored definition by its content hash.
type Defs interface {
	Doc(ctx context.Context, defID string) (*dsl.Document, error)
}

// Errors callers match with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalidState = errors.New("invalid state for this operation")
	ErrInvalidInput = errors.New("invalid input")
)

// InputError is a start request the workflow refuses (missing or unexpected
// input, a bad target); Msg says why without the ids around it, for users.
// It is ErrInvalidInput to errors.Is.
type InputError struct{ Msg string }

func (e *InputError) Error() string        { return e.Msg + ": invalid input" }
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func inputErrorf(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Engine holds configuration, and a cache that only saves work: every
// decision depends on what the Reader returns, never on earlier calls.
// Use it by pointer (it must not be copied after first use).
type Engine struct {
	Defs Defs
	// Now is the clock used for timestamps (never for decisions).
	Now func() time.Time
	// ActionDeadline is how long, in seconds, an action may run without
	// reporting before the watchdog fails its attempt (0: no watchdog).
	ActionDeadline int

	itemCache itemCache
}

// Plan is what an operation decided.
type Plan struct {
	Ops      []Op
	Commands []Command
	// Exec is the head as it will be after the commit (nil when unchanged or unknown).
	Exec *Execution
	// Duplicate is set when the input had already been applied; Commands then
	// repeats the outbox of the record it had finished, for a host that
	// crashed before carrying it out.
	Duplicate bool
	// CheckFinal asks the host to look at the head after the commit and call
	// Finalize when Active is zero.
	CheckFinal bool
}

// StartParams describes a new execution.
type StartParams struct {
	ID             string
	DefID          string
	Workflow       string
	Input          map[string]any
	Env            map[string]any
	Target         string // reverse workflows: task to reach (default: the workflow's last task)
	Parent         string
	ParentTask     string
	ParentAttempt  int
	ParentSlot     int // with-items item of the parent task, -1 for none
	Root           string
	IdempotencyKey string
	RequestHash    string
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// builder accumulates one plan.
type builder struct {
	e     *Engine
	ctx   context.Context
	r     Reader
	doc   *dsl.Document
	wf    *dsl.Workflow
	head  *Execution
	graph *graph

	putHead bool // the head is replaced (version-checked) rather than counted
	// finishing is the task whose end is being decided (finishTask), which
	// endLiveTasks must leave to its caller.
	finishing string
	// outlive holds tasks started in this step before the fail/succeed
	// command that ends the execution: as in Mistral, their actions run.
	outlive map[string]bool
	add     AddExecution
	ops     []Op
	cmds    []Command
	now     time.Time
	live    []*Task // records finished in this plan (few: a slice beats a map)
	// hostCalls counts calls of the functions that read mutable state
	// (task, tasks, execution), so items can tell a list it may cache.
	hostCalls int

	// Room for a step's usual ops and commands and for its plan, so they
	// cost no allocations of their own. opsBuf[0] is kept for the head's
	// op, which plan puts before the others.
	opsBuf  [8]Op
	cmdsBuf [3]Command
	liveBuf [2]*Task
	p       Plan
}

func (b *builder) init() *builder {
	b.ops, b.cmds, b.live = b.opsBuf[1:1], b.cmdsBuf[:0], b.liveBuf[:0]
	return b
}

// headFirst is op followed by b.ops.
func (b *builder) headFirst(op Op) []Op {
	if len(b.ops) == 0 || &b.ops[0] == &b.opsBuf[1] {
		b.opsBuf[0] = op
		return b.opsBuf[:len(b.ops)+1]
	}
	ops := make([]Op, 0, len(b.ops)+1)
	return append(append(ops, op), b.ops...)
}

func (e *Engine) load(ctx context.Context, r Reader, execID string) (*builder, error) {
	head, err := r.Execution(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", execID, err)
	}
	if head == nil {
		return nil, fmt.Errorf("execution %s: %w", execID, ErrNotFound)
	}
	if head.Input == nil {
		if head.Input, err = r.Input(ctx, execID); err != nil {
			return nil, fmt.Errorf("load input of execution %s: %w", execID, err)
		}
	}
	b := (&builder{e: e, ctx: ctx, r: r, head: head, now: e.now()}).init()
	if err := b.resolve(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *builder) resolve() error {
	doc, err := b.e.Defs.Doc(b.ctx, b.head.DefID)
	if err != nil {
		return fmt.Errorf("load definition %s of execution %s: %w", b.head.DefID, b.head.ID, err)
	}
	wf, err := doc.Workflow(b.head.Workflow)
	if err != nil {
		return fmt.Errorf("workflow %q not in definition %s: %w", b.head.Workflow, b.head.DefID, ErrNotFound)
	}
	b.doc, b.wf = doc, wf
	g, err := graphOf(wf, b.head.Target)
	if err != nil {
		return err
	}
	b.graph = g
	return nil
}

// plan closes the builder into a Plan.
func (b *builder) plan() *Plan {
	p := &b.p
	p.Commands = b.cmds
	if b.putHead {
		h := *b.head
		h.Active += b.add.Active
		h.Errors += b.add.Errors
		if h.ErrorInfo == "" {
			h.ErrorInfo = b.add.ErrorInfo
		}
		h.Seq += b.add.Seq
		h.Updated = b.now
		p.Ops = b.headFirst(PutExecution{Exec: &h, IfVersion: b.head.Version})
		h.Version++
		p.Exec = &h
		p.CheckFinal = h.State == Running && h.Active <= 0
		return p
	}
	if b.add.Active != 0 || b.add.Errors != 0 || b.add.Seq != 0 || b.add.ErrorInfo != "" {
		a := b.add
		a.ID = b.head.ID
		a.IfState = b.head.State
		p.Ops = b.headFirst(a)
		// Only the host that brings Active to zero is sure to see zero; the
		// others' checks are harmless reads.
		p.CheckFinal = b.add.Active < 0
	} else {
		p.Ops = b.ops
	}
	return p
}

// ---------------------------------------------------------------- Start

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
	now := e.now()
	head := &Execution{
		ID: sp.ID, Workflow: sp.Workflow, DefID: sp.DefID, State: Running,
		Env: sp.Env, Target: sp.Target, Parent: sp.Parent, ParentTask: sp.ParentTask,
		ParentAttempt: sp.ParentAttempt, ParentSlot: sp.ParentSlot, Root: sp.Root, IdempotencyKey: sp.IdempotencyKey, RequestHash: sp.RequestHash,
		Created: now, Updated: now,
	}
	if head.Root == "" {
		head.Root = head.ID
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		// Fix: Mistral calls a reverse sub-workflow with its target among the
		// call's parameters (workflow: wf1 ... task_name='task2'); it is a
		// parameter, not an input of the sub-workflow.
		if name, ok := sp.Input["task_name"].(string); ok {
			head.Target = name
			in := make(map[string]any, len(sp.Input))
			for k, v := range sp.Input {
				if k != "task_name" {
					in[k] = v
				}
			}
			sp.Input = in
		}
	}
	b := (&builder{e: e, ctx: ctx, r: r, doc: doc, wf: wf, head: head, now: now, putHead: true}).init()
	input, err := b.bindInput(sp.Input)
	if err != nil {
		return nil, err
	}
	head.Input = input
	if wf.Vars != nil {
		v, err := b.scope(nil, nil).eval(wf.Vars)
		if err != nil {
			return nil, fmt.Errorf("start %s: evaluate vars of workflow %s: %w", sp.ID, wf.Name, err)
		}
		if m, ok := v.(map[string]any); ok {
			head.Vars = m
		}
	}
	if wf.Type == dsl.Reverse && head.Target == "" {
		return nil, fmt.Errorf("start %s: %w", sp.ID, inputErrorf("reverse workflow %s needs a target task", wf.Name))
	}
	g, err := graphOf(wf, head.Target)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.ID, err)
	}
	b.graph = g
	starts := g.starts
	if wf.Type == dsl.Direct {
		starts = wf.StartTasks
	}
	for _, name := range starts {
		if err := b.schedule(name, "", nil); err != nil {
			return nil, err
		}
	}
	if len(starts) == 0 {
		b.finish(Success, "", nil)
	}
	p := b.plan()
	p.Ops[0] = PutExecution{Exec: p.Exec, IfVersion: 0}
	p.Ops = append(p.Ops, PutInput{Exec: head.ID, Input: input})
	p.Exec.Version = 1
	return p, nil
}

// bindInput applies declared defaults and rejects unknown or missing inputs.
func (b *builder) bindInput(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	declared := make(map[string]bool, len(b.wf.Input))
	var missing []string
	for _, p := range b.wf.Input {
		declared[p.Name] = true
		if v, ok := in[p.Name]; ok {
			out[p.Name] = v
			continue
		}
		if !p.HasDefault {
			missing = append(missing, p.Name)
			continue
		}
		v, err := b.rawScope(out, nil).eval(p.Default)
		if err != nil {
			return nil, fmt.Errorf("input %q of workflow %s: default: %w", p.Name, b.wf.Name, err)
		}
		out[p.Name] = v
	}
	if len(missing) > 0 {
		return nil, inputErrorf("workflow %s: missing required input %s", b.wf.Name, strings.Join(missing, ", "))
	}
	var unknown []string
	for k, v := range in {
		if !declared[k] {
			if len(b.wf.Input) > 0 {
				unknown = append(unknown, k)
				continue
			}
			out[k] = v // a workflow that declares nothing takes whatever it is given
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, inputErrorf("workflow %s: unexpected input %s", b.wf.Name, strings.Join(unknown, ", "))
	}
	return out, nil
}

// ---------------------------------------------------------------- scheduling

// schedule creates the next task execution of name, reached from the task
// record `from` ("" at start) with branch context ctx.
func (b *builder) schedule(name, from string, ctx map[string]any) error {
	return b.scheduleAt(name, name, from, ctx)
}

// scheduleAt is schedule with the record key a join arrival counts on:
// the join's name, or the key of a later round (joinRound).
func (b *builder) scheduleAt(name, joinKey, from string, ctx map[string]any) error {
	t, ok := b.wf.Tasks[name]
	if !ok {
		return fmt.Errorf("workflow %s: transition to unknown task %q", b.wf.Name, name)
	}
	if n := b.graph.joinNeed(b.wf, t); n > 0 && from != "" {
		// The arrival is its own record and the join only counts it, so
		// the cost of an arrival does not grow with the number of branches.
		b.ops = append(b.ops, PutArrival{Exec: b.head.ID, Join: joinKey, From: from, Ctx: ctx},
			CountArrival{Exec: b.head.ID, Key: joinKey, Name: name})
		b.cmds = append(b.cmds, Command{Kind: CheckJoin, Exec: b.head.ID, Task: joinKey, Slot: -1, From: from, Need: n})
		// The arriving branch's unit ends here; the join's own unit is added
		// when it fires. Finalize checks joins before it declares an end, so
		// the gap between the two is safe.
		return nil
	}
	key := name
	if from != "" {
		existing, err := b.r.Task(b.ctx, b.head.ID, name)
		if err != nil {
			return fmt.Errorf("load task %s of %s: %w", name, b.head.ID, err)
		}
		if existing != nil {
			// A cycle: this task ran before. A key derived from the record
			// that leads here is unique and needs no counter.
			key = name + "#" + shortHash(from)
		}
	}
	rec := &Task{Exec: b.head.ID, Key: key, Name: name, Ctx: ctx, Attempt: 1, Started: b.now,
		Seq: b.head.Seq + b.add.Seq + 1}
	b.add.Seq++
	b.add.Active++
	mark := len(b.cmds)
	if err := b.begin(rec, t); err != nil {
		return err
	}
	if rec.Outbox == nil {
		rec.Outbox = clone(b.cmds[mark:])
	}
	b.putTask(rec)
	return nil
}

func clone(c []Command) []Command {
	if len(c) == 0 {
		return nil
	}
	return append([]Command(nil), c...)
}

// begin decides how a newly created task record starts and fills its state.
func (b *builder) begin(rec *Task, t *dsl.Task) error {
	if b.head.State == Paused {
		rec.State = Idle
		return nil
	}
	if t.PauseBefore != nil && rec.Pending != "paused" {
		v, err := truth(t.PauseBefore, b.scope(rec.Ctx, rec))
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("pause-before: %w", err))
		}
		if v {
			rec.State = Idle
			rec.Pending = "paused"
			return b.pauseHead(fmt.Sprintf("paused before task %s", rec.Name))
		}
	}
	if t.WaitBefore != nil {
		secs, err := b.seconds(t.WaitBefore, rec)
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("wait-before: %w", err))
		}
		if secs > 0 {
			rec.State = RunningDelayed
			rec.Pending = string(TimerWaitBefore)
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerWaitBefore, Delay: secs})
			return nil
		}
	}
	return b.run(rec, t)
}

// run dispatches a task's work: its items, its sub-workflow or its action.
func (b *builder) run(rec *Task, t *dsl.Task) error {
	rec.State = Running
	rec.Pending = ""
	if t.Timeout != nil {
		// Mistral's timeout bounds the task as a whole: its retries and,
		// for with-items, all its items.
		secs, err := b.seconds(t.Timeout, rec)
		if err != nil {
			return b.failTaskAtStart(rec, fmt.Errorf("timeout: %w", err))
		}
		if secs > 0 {
			rec.TimeoutAt = b.now.UnixMilli() + int64(secs*1000)
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerTimeout, Delay: secs, Due: rec.TimeoutAt})
		}
	}
	if len(t.WithItems) > 0 {
		return b.runItems(rec, t)
	}
	return b.runAttempt(rec, t)
}

// dispatch emits the commands that do one attempt of a task or of one item.
// It has no effect when it fails (the input did not evaluate), so callers can
// turn the failure into an ordinary error result.
func (b *builder) dispatch(rec *Task, t *dsl.Task, slot, attempt int, items *itemList) error {
	ectx := b.itemScope(rec.Ctx, items, slot, rec)
	var input map[string]any
	evaluated := false
	if t.Input != nil {
		v, err := ectx.eval(t.Input)
		if err != nil {
			return fmt.Errorf("evaluate input of task %s: %w", t.Name, err)
		}
		if m, ok := v.(map[string]any); ok {
			input, evaluated = m, true
		} else if v != nil {
			return fmt.Errorf("input of task %s is %T, not a map", t.Name, v)
		}
	}
	if !evaluated {
		input = map[string]any{}
	}
	callee := t.Action
	if t.Workflow != "" {
		callee = t.Workflow
	}
	if t.NameExpr != nil {
		// action: <% ... %> / workflow: <% ... %> name the callee at run time.
		v, err := ectx.eval(t.NameExpr)
		if err != nil {
			return fmt.Errorf("evaluate the callee name of task %s: %w", t.Name, err)
		}
		name, ok := v.(string)
		if !ok || name == "" {
			return fmt.Errorf("the callee name of task %s evaluated to %v, not a name", t.Name, v)
		}
		callee = name
	}
	if t.Workflow != "" {
		childID := childID(rec.Exec, rec.Key, slot, attempt)
		b.cmds = append(b.cmds, Command{Kind: StartWorkflow, Exec: rec.Exec, Task: rec.Key, Slot: slot,
			Attempt: attempt, Workflow: callee, DefID: b.head.DefID, ChildID: childID, Input: input})
		return nil
	}
	action := callee
	chain, err := b.doc.AdhocChain(action)
	if err != nil {
		return err
	}
	for _, ad := range chain {
		// An ad-hoc action runs its base action with base-input evaluated
		// over the ad-hoc action's own input; a base that is itself an
		// ad-hoc action does the same in turn.
		adIn := map[string]any{}
		for _, p := range ad.Input {
			if v, ok := input[p.Name]; ok {
				adIn[p.Name] = v
			} else if p.HasDefault {
				dv, err := b.rawScope(adIn, rec).eval(p.Default)
				if err != nil {
					return fmt.Errorf("default of input %s of action %s: %w", p.Name, ad.Name, err)
				}
				adIn[p.Name] = dv
			} else {
				return fmt.Errorf("action %s: missing required input %s", ad.Name, p.Name)
			}
		}
		base := map[string]any{}
		if ad.BaseInput != nil {
			v, err := b.rawScope(adIn, rec).eval(ad.BaseInput)
			if err != nil {
				return fmt.Errorf("base-input of action %s: %w", ad.Name, err)
			}
			if m, ok := v.(map[string]any); ok {
				base = m
			}
		}
		action, input = ad.Base, base
	}
	b.cmds = append(b.cmds, Command{Kind: RunAction, Exec: rec.Exec, Task: rec.Key, Slot: slot,
		Attempt: attempt, Action: action, Input: input, Deadline: b.e.ActionDeadline})
	if b.e.ActionDeadline > 0 {
		b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: slot,
			Attempt: attempt, Timer: TimerWatchdog, Delay: float64(b.e.ActionDeadline),
			Due: b.now.UnixMilli() + int64(b.e.ActionDeadline)*1000})
	}
	return nil
}

// runAttempt dispatches the current attempt of a plain task; an attempt that
// cannot be sent becomes an error result, so retry and on-error apply to it.
// The caller writes rec.
func (b *builder) runAttempt(rec *Task, t *dsl.Task) error {
	err := b.dispatch(rec, t, -1, rec.Attempt, nil)
	if err == nil {
		return nil
	}
	return b.settle(rec, t, Result{Exec: rec.Exec, Task: rec.Key, Slot: -1, Attempt: rec.Attempt, Error: err.Error()})
}

func (b *builder) failTaskAtStart(rec *Task, err error) error {
	rec.State = Running
	return b.settle(rec, b.wf.Tasks[rec.Name], Result{Exec: rec.Exec, Task: rec.Key, Slot: -1, Attempt: rec.Attempt, Error: err.Error()})
}

// ---------------------------------------------------------------- Complete

// Complete applies the result of one action attempt.
func (e *Engine) Complete(ctx context.Context, r Reader, res Result) (*Plan, error) {
	b, err := e.load(ctx, r, res.Exec)
	if err != nil {
		return nil, err
	}
	rec, err := r.Task(ctx, res.Exec, res.Task)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", res.Task, res.Exec, err)
	}
	if b.head.State.Terminal() {
		// Fix: the execution ended (a fail/succeed command, a cancel) while
		// this action ran. Its outcome is still recorded on its task, as in
		// Mistral, so no task stays RUNNING in a finished execution; nothing
		// follows from it (no transitions, no counters).
		p, err := b.lateResult(rec, res)
		if p != nil {
			p.Commands = append(p.Commands, ParentReport(b.head)...)
		}
		return p, err
	}
	if rec == nil {
		return nil, fmt.Errorf("result for task %s of %s: %w", res.Task, res.Exec, ErrNotFound)
	}
	t, ok := b.wf.Tasks[rec.Name]
	if !ok {
		return nil, fmt.Errorf("task %s not in workflow %s: %w", rec.Name, b.wf.Name, ErrNotFound)
	}
	if res.Slot >= 0 {
		slot, err := r.Slot(ctx, res.Exec, res.Task, res.Slot)
		if err != nil {
			return nil, fmt.Errorf("load slot %d of task %s of %s: %w", res.Slot, res.Task, res.Exec, err)
		}
		if rec.State != Running || slot == nil || slot.State != Running || slot.Attempt != res.Attempt {
			p := &Plan{Duplicate: true, Commands: b.itemsFollowUp(rec)}
			if slot != nil && rec.State == Running {
				p.Commands = append(clone(slot.Outbox), p.Commands...)
			}
			return p, nil
		}
		if err := b.itemResult(rec, t, slot, res); err != nil {
			return nil, err
		}
		return b.plan(), nil
	}
	if rec.State != Running || rec.Attempt != res.Attempt || rec.Pending != "" {
		return &Plan{Duplicate: true, Commands: rec.Outbox, CheckFinal: rec.State.Terminal()}, nil
	}
	if err := b.settle(rec, t, res); err != nil {
		return nil, err
	}
	if !rec.State.Terminal() {
		// A task that ended went through finishTask, which already set its
		// outbox to this step's commands (it is the first to add any).
		rec.Outbox = clone(b.cmds)
	}
	b.putTask(rec)
	return b.plan(), nil
}

// adhocOutput applies the output clauses of action's ad-hoc chain to its
// base action's result, innermost first (none when action is not ad-hoc).
func (b *builder) adhocOutput(action string, result any, rec *Task) (any, error) {
	chain, err := b.doc.AdhocChain(action)
	if err != nil || len(chain) == 0 {
		return result, err
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if ad := chain[i]; ad.Output != nil {
			v, err := b.resultScope(result, rec).eval(ad.Output)
			if err != nil {
				return nil, fmt.Errorf("output of action %s: %w", ad.Name, err)
			}
			result = v
		}
	}
	return result, nil
}

// lateResult records the result of an attempt that was running when its
// execution ended.
func (b *builder) lateResult(rec *Task, res Result) (*Plan, error) {
	if rec == nil {
		return &Plan{Duplicate: true}, nil
	}
	st, info := Success, ""
	if !res.OK {
		st, info = Error, res.Error
	}
	if res.Slot >= 0 {
		slot, err := b.r.Slot(b.ctx, res.Exec, res.Task, res.Slot)
		if err != nil {
			return nil, fmt.Errorf("load slot %d of task %s of %s: %w", res.Slot, res.Task, res.Exec, err)
		}
		if slot == nil || slot.State != Running || slot.Attempt != res.Attempt {
			return &Plan{Duplicate: true}, nil
		}
		s := *slot
		s.State, s.StateInfo, s.Result, s.Outbox = st, info, res.Output, nil
		if !res.OK {
			s.Result = res.Error
		}
		return &Plan{Ops: []Op{PutSlot{Slot: &s, IfVersion: slot.Version}}}, nil
	}
	if rec.State != Running || rec.Attempt != res.Attempt || rec.Pending != "" || rec.Items > 0 {
		// A result delivered again: the step that ended the execution may
		// have died before it sent the actions started with the end.
		var again []Command
		for _, c := range rec.Outbox {
			if c.PastEnd {
				again = append(again, c)
			}
		}
		return &Plan{Duplicate: true, Commands: again}, nil
	}
	if res.OK {
		if d := b.wf.Tasks[rec.Name]; d != nil {
			if v, err := b.adhocOutput(d.Action, res.Output, rec); err != nil {
				st, info, res.OK, res.Error = Error, err.Error(), false, err.Error()
			} else {
				res.Output = v
			}
		}
	}
	t := *rec
	t.State, t.StateInfo, t.Result, t.HasResult, t.Finished, t.Outbox = st, info, res.Output, true, b.now, nil
	if !res.OK {
		t.Result = res.Error
	}
	// The task's unit of work ends here, so Active still returns to zero.
	return &Plan{Ops: []Op{AddExecution{ID: b.head.ID, Active: -1, IfState: b.head.State},
		PutTask{Task: &t, IfVersion: rec.Version}}}, nil
}

// settle handles a plain task's attempt result: retry, wait-after, or
// finish. Like every step below it, it changes rec and leaves writing it to
// the operation that loaded or created it.
func (b *builder) settle(rec *Task, t *dsl.Task, res Result) error {
	ok := res.OK
	output := res.Output
	errMsg := res.Error
	if res.Interrupted && !ok && rec.Reruns < maxReruns {
		// Mistral's safe-rerun: an action whose runner was lost runs again
		// when the task says running it twice is safe; otherwise the lost
		// run is the attempt's error (and retry decides).
		if safe, err := b.safeRerun(rec, t); err != nil {
			errMsg = err.Error()
		} else if safe {
			rec.Attempt++
			rec.Reruns++
			return b.runAttempt(rec, t)
		}
	}
	if ok {
		if v, err := b.adhocOutput(t.Action, output, rec); err != nil {
			ok, errMsg = false, err.Error()
		} else {
			output = v
		}
	}
	if ok && t.FailOn != nil {
		// Mistral's fail-on: a successful action whose result meets the
		// condition fails the task (and retry applies as to any failure).
		fail, err := truth(t.FailOn, b.scopeWith(rec.Ctx, rec, resultOf(true, output, "")))
		switch {
		case err != nil:
			ok, errMsg = false, fmt.Sprintf("fail-on of task %s: %v", t.Name, err)
		case fail:
			ok, errMsg = false, fmt.Sprintf("task %s failed by its fail-on condition", t.Name)
		}
	}
	if retry, delay, err := b.shouldRetry(rec, t, ok, output, errMsg); err != nil {
		ok, errMsg = false, err.Error()
	} else if retry {
		rec.Attempt++
		if delay > 0 {
			rec.State = RunningDelayed
			rec.Pending = string(TimerRetry)
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerRetry, Delay: delay})
			return nil
		}
		return b.runAttempt(rec, t)
	}
	rec.Result, rec.HasResult = output, true
	if !ok {
		rec.Result = errMsg
	}
	if ok && t.WaitAfter != nil {
		secs, err := b.seconds(t.WaitAfter, rec)
		if err == nil && secs > 0 {
			rec.State = RunningDelayed
			rec.Pending = string(TimerWaitAfter)
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerWaitAfter, Delay: secs})
			return nil
		}
	}
	return b.finishTask(rec, t, ok, errMsg)
}

// shouldRetry applies the retry policy. Mistral's count is the number of
// extra attempts; break-on stops retrying, continue-on retries even a success.
func (b *builder) shouldRetry(rec *Task, t *dsl.Task, ok bool, output any, errMsg string) (bool, float64, error) {
	if t.Retry == nil {
		return false, 0, nil
	}
	resCtx := b.scopeWith(rec.Ctx, rec, resultOf(ok, output, errMsg))
	count, err := intOf(t.Retry.Count, resCtx)
	if err != nil {
		return false, 0, fmt.Errorf("retry count of task %s: %w", t.Name, err)
	}
	if rec.Attempt-rec.Reruns > count {
		return false, 0, nil
	}
	if ok {
		if t.Retry.ContinueOn == nil {
			return false, 0, nil
		}
		cont, err := truth(t.Retry.ContinueOn, resCtx)
		if err != nil || !cont {
			return false, 0, err
		}
	} else if t.Retry.BreakOn != nil {
		brk, err := truth(t.Retry.BreakOn, resCtx)
		if err != nil || brk {
			return false, 0, err
		}
	}
	delay, err := floatOf(t.Retry.Delay, resCtx)
	if err != nil {
		return false, 0, fmt.Errorf("retry delay of task %s: %w", t.Name, err)
	}
	return true, delay, nil
}

// maxReruns bounds safe-rerun, so an action that kills its runner every
// time does not run forever.
const maxReruns = 3

func (b *builder) safeRerun(rec *Task, t *dsl.Task) (bool, error) {
	if t.SafeRerunExpr == nil {
		return t.SafeRerun, nil
	}
	v, err := truth(t.SafeRerunExpr, b.scope(rec.Ctx, rec))
	if err != nil {
		return false, fmt.Errorf("safe-rerun of task %s: %w", t.Name, err)
	}
	return v, nil
}

// finishTask publishes, follows transitions and ends the task's unit of work.
func (b *builder) finishTask(rec *Task, t *dsl.Task, ok bool, errMsg string) error {
	b.finishing = rec.Key
	defer func() { b.finishing = "" }()
	rec.Finished = b.now
	rec.Pending = ""
	ectx := b.scopeWith(rec.Ctx, rec, resultOf(ok, rec.Result, errMsg))
	// out is the outbound context: rec.Ctx until something is published
	// into it (then a copy), as most tasks publish nothing.
	out, owned := rec.Ctx, false
	own := func() {
		if !owned {
			out, owned = copyMap(out), true
		}
	}
	// Successors started in this step see this task finished (task(name)
	// reads it here: it is committed together with them).
	b.setLive(rec)
	if rec.Key != rec.Name || out[keysKey] != nil {
		// Remember which record ran this task last on the branch, so
		// task(name) finds the latest run in a cycle; workflows without
		// cycles never carry this.
		keys := map[string]any{}
		if m, ok := out[keysKey].(map[string]any); ok {
			for k, v := range m {
				keys[k] = v
			}
		}
		keys[rec.Name] = rec.Key
		own()
		out[keysKey] = keys
	}
	if rec.Fired && joinInCycle(b.wf, rec.Name) && !knowsRound(out, rec.Name) {
		// Round 1 of a join in a cycle (later rounds' arrivals carry their
		// round): the branches after it know they came through round 1.
		own()
		out[roundsKey] = roundsWith(out, rec.Name, 1)
	}
	pub, glob := t.Publish, t.PublishGlobal
	if !ok {
		pub, glob = t.PublishOnError, t.PublishOnErrorGlobal
	}
	if ok {
		rec.State = Success
		rec.StateInfo = ""
	} else {
		rec.State = Error
		rec.StateInfo = errMsg
	}
	if pub != nil {
		v, err := ectx.eval(pub)
		if err != nil {
			ok = false
			rec.State, rec.StateInfo = Error, fmt.Sprintf("publish of task %s: %v", t.Name, err)
		} else if m, isMap := v.(map[string]any); isMap {
			rec.Published = m
			own()
			for k, x := range m {
				out[k] = x
			}
			bumpVersions(out, m)
		}
	}
	if t.PublishOnComplete != nil && rec.State == map[bool]State{true: Success, false: Error}[ok] {
		// publish-on-complete (Mistral's advanced on-complete form) applies
		// after the success or error publish, whatever the outcome.
		if v, err := ectx.eval(t.PublishOnComplete); err != nil {
			ok = false
			rec.State, rec.StateInfo = Error, fmt.Sprintf("publish on complete of task %s: %v", t.Name, err)
		} else if m, isMap := v.(map[string]any); isMap {
			if rec.Published == nil {
				rec.Published = map[string]any{}
			}
			own()
			for k, x := range m {
				out[k] = x
				rec.Published[k] = x
			}
			bumpVersions(out, m)
		}
	}
	if t.PublishOnCompleteGlobal != nil {
		if glob == nil {
			glob = t.PublishOnCompleteGlobal
		} else if v, err := ectx.eval(t.PublishOnCompleteGlobal); err == nil {
			if m, isMap := v.(map[string]any); isMap && len(m) > 0 {
				vars := copyMap(b.head.Vars)
				for k, x := range m {
					vars[k] = x
				}
				b.head.Vars = vars
				b.putHead = true
			}
		}
	}
	if glob != nil && rec.State == map[bool]State{true: Success, false: Error}[ok] {
		if v, err := ectx.eval(glob); err == nil {
			if m, isMap := v.(map[string]any); isMap && len(m) > 0 {
				vars := copyMap(b.head.Vars)
				for k, x := range m {
					vars[k] = x
					if rec.Published == nil {
						rec.Published = map[string]any{}
					}
					rec.Published[k] = x
				}
				b.head.Vars = vars
				b.putHead = true
			}
		}
	}
	if t.KeepResult != nil {
		if keep, err := truth(t.KeepResult, ectx); err == nil && !keep {
			rec.Result, rec.HasResult = nil, false
		}
	}
	ok = rec.State == Success
	ectx = b.scopeWith(out, rec, resultOf(ok, rec.Result, rec.StateInfo))

	var next []dsl.Transition
	if b.wf.Type == dsl.Reverse {
		if ok {
			for _, s := range b.graph.succ[rec.Name] {
				next = append(next, dsl.Transition{Task: s})
			}
		}
	} else if ok {
		next = joinTransitions(t.OnSuccess, t.OnComplete)
	} else {
		next = joinTransitions(t.OnError, t.OnComplete)
	}
	taken := 0
	scheduled := map[string]bool{}
	ended := false
	mark, opsMark := len(b.cmds), len(b.ops)
	for _, tr := range next {
		if tr.Condition != nil {
			yes, err := truth(tr.Condition, ectx)
			if err != nil {
				rec.State, rec.StateInfo = Error, fmt.Sprintf("condition of transition %s of task %s: %v", tr.Task+tr.Command, t.Name, err)
				ok = false
				break
			}
			if !yes {
				continue
			}
		}
		taken++
		if tr.Command != "" {
			msg := ""
			if tr.Msg != nil {
				if v, err := ectx.eval(tr.Msg); err == nil {
					msg = fmt.Sprint(v)
				}
			}
			switch tr.Command {
			case dsl.CmdFail:
				if msg == "" {
					msg = fmt.Sprintf("failed by task %s (fail command)", rec.Name)
					if !ok {
						msg = fmt.Sprintf("failed by task %s: %s", rec.Name, rec.StateInfo)
					}
				}
				b.markOutlive(opsMark)
				b.finish(Error, msg, out)
				ended = true
			case dsl.CmdSucceed:
				b.markOutlive(opsMark)
				b.finish(Success, msg, out)
				ended = true
			case dsl.CmdPause:
				if err := b.pauseHead(msg); err != nil {
					return err
				}
			case dsl.CmdNoop:
				// Taken, so an error it follows counts as handled; does nothing.
			}
			if ended {
				break
			}
			continue
		}
		if scheduled[tr.Task] {
			// on-success and on-complete may both name it: one successor,
			// as a second would be the same record written twice.
			continue
		}
		scheduled[tr.Task] = true
		joinKey, arrival := tr.Task, out
		if rec.Key != rec.Name || knowsRound(out, tr.Task) {
			// A run in a cycle may reach a join again: find the round it
			// arrives in. Only here, so workflows without cycles pay nothing.
			key, n, why, err := b.joinRound(tr.Task, rec, out)
			if err != nil {
				return err
			}
			if why != "" {
				b.finish(Error, why, out)
				ended = true
				break
			}
			joinKey = key
			if n > 0 {
				arrival = withRound(out, tr.Task, n)
			}
		}
		if err := b.scheduleAt(tr.Task, joinKey, rec.Key, arrival); err != nil {
			return err
		}
	}
	b.add.Active-- // this task's unit ends
	leafErr := ""
	if !ok && taken == 0 && !ended {
		// Mistral: an error no on-error/on-complete clause handled fails the
		// workflow once nothing else is running.
		leafErr = fmt.Sprintf("failure caused by error in task '%s': %s", rec.Name, rec.StateInfo)
		b.add.Errors++
		if b.add.ErrorInfo == "" {
			b.add.ErrorInfo = leafErr
		}
	}
	if taken == 0 && !ended {
		b.ops = append(b.ops, PutLeaf{Leaf: &Leaf{Exec: rec.Exec, Seq: rec.Seq, Task: rec.Key, Ctx: out, Error: leafErr}})
	}
	rec.Outbox = append([]Command(nil), b.cmds[mark:]...)
	return nil
}

// joinRound returns the key of the join record that rec, a run of a task
// in a cycle (or a branch that came through the join), arrives at when it
// transitions to name, or why the execution cannot go on. As in Mistral, a
// join reached again after it ran runs again (Mistral re-arms its one task
// execution; here each round is a record of its own): round 1 is keyed
// name, round k+1 name#<hash of round k's key>. A branch that came through
// round k of the join (its context keeps the key) arrives at the first
// later round its task has not arrived at, whether or not that round has
// fired: a late arrival at a partial join (join: 1, join: N) is counted
// and ignored, as in round 1, rather than opening a round of its own. A
// branch that never came through the join arrives at the first round that
// has not fired.
// A second arrival of one task in a round that has not fired would be
// counted as another branch (Mistral counts each inbound task once, by its
// latest run), firing the join early: that fails the execution, saying so.
func (b *builder) joinRound(name string, rec *Task, ctx map[string]any) (string, int64, string, error) {
	t, ok := b.wf.Tasks[name]
	if !ok || b.graph.joinNeed(b.wf, t) == 0 {
		return name, 0, "", nil
	}
	rounds, _ := ctx[roundsKey].(map[string]any)
	last, ok := rounds[name].(int64)
	if !ok {
		join, key, n, err := b.openJoin(name)
		if err != nil || join == nil {
			return key, n, "", err
		}
		why, err := b.secondArrival(name, key, rec)
		return key, n, why, err
	}
	n := last + 1
	key := roundKey(name, n)
	for {
		join, err := b.r.Task(b.ctx, b.head.ID, key)
		if err != nil {
			return "", 0, "", fmt.Errorf("load join %s of %s: %w", key, b.head.ID, err)
		}
		if join == nil {
			return key, n, "", nil
		}
		arrived, err := b.arrivedFrom(key, rec.Name)
		if err != nil {
			return "", 0, "", err
		}
		switch {
		case join.Fired && arrived:
			// This task already came through this round on another path.
			n, key = n+1, nextRound(name, key)
		case join.Fired:
			return key, n, "", nil // late at a partial join: counted, ignored
		case arrived:
			why, err := b.secondArrival(name, key, rec)
			return "", 0, why, err
		default:
			return key, n, "", nil
		}
	}
}

// roundKey is the record key of round n (from 1) of join name.
func roundKey(name string, n int64) string {
	key := name
	for i := int64(1); i < n; i++ {
		key = nextRound(name, key)
	}
	return key
}

// nextRound is the record key of the round of join name after round key.
func nextRound(name, key string) string { return name + "#" + shortHash(key) }

// withRound is ctx, copied, recording that the branch reaches round n of
// join name: the join merges it from its arrivals, and the branches after
// the join carry it.
func withRound(ctx map[string]any, name string, n int64) map[string]any {
	out := copyMap(ctx)
	out[roundsKey] = roundsWith(ctx, name, n)
	return out
}

// roundsWith is a copy of ctx's join rounds with round n of join name.
func roundsWith(ctx map[string]any, name string, n int64) map[string]any {
	rounds := map[string]any{}
	if m, ok := ctx[roundsKey].(map[string]any); ok {
		for k, v := range m {
			rounds[k] = v
		}
	}
	rounds[name] = n
	return rounds
}

// secondArrival explains why rec cannot arrive at round key of join name
// when rec's task has already arrived there ("" when it has not).
func (b *builder) secondArrival(name, key string, rec *Task) (string, error) {
	if arrived, err := b.arrivedFrom(key, rec.Name); err != nil || !arrived {
		return "", err
	}
	return fmt.Sprintf("task %s reached join task %s a second time (in a cycle) before the join ran: "+
		"a join counts each arrival, so it would run early (a task may reach a join once per round)", rec.Name, name), nil
}

// arrivedFrom reports whether a run of task has arrived at join round key.
func (b *builder) arrivedFrom(key, task string) (bool, error) {
	arrivals, err := b.r.Arrivals(b.ctx, b.head.ID, key)
	if err != nil {
		return false, fmt.Errorf("load arrivals at join %s of %s: %w", key, b.head.ID, err)
	}
	for from := range arrivals {
		if b.taskNameOf(from) == task {
			return true, nil
		}
	}
	return false, nil
}

// knowsRound reports whether a branch context records a round of join
// task, which the branch came through.
func knowsRound(ctx map[string]any, task string) bool {
	rounds, ok := ctx[roundsKey].(map[string]any)
	return ok && rounds[task] != nil
}

// openJoin returns the first round of join name that has not fired, and
// its key (the record is nil when no branch has arrived in it yet).
func (b *builder) openJoin(name string) (*Task, string, int64, error) {
	key := name
	for n := int64(1); ; n++ {
		rec, err := b.r.Task(b.ctx, b.head.ID, key)
		if err != nil {
			return nil, "", 0, fmt.Errorf("load join %s of %s: %w", key, b.head.ID, err)
		}
		if rec == nil || !rec.Fired {
			return rec, key, n, nil
		}
		key = nextRound(name, key)
	}
}

// taskNameOf is the task name of a task record key: name, or name#<hash>
// for a run in a cycle.
func (b *builder) taskNameOf(key string) string {
	if n := baseName(key); n != key {
		if _, ok := b.wf.Tasks[n]; ok {
			return n
		}
	}
	return key
}

func (b *builder) setLive(rec *Task) {
	for i, t := range b.live {
		if t.Key == rec.Key {
			b.live[i] = rec
			return
		}
	}
	b.live = append(b.live, rec)
}

func (b *builder) liveTask(key string) *Task {
	for _, t := range b.live {
		if t.Key == key {
			return t
		}
	}
	return nil
}

// joinTransitions is a followed by b; it copies only when both have
// transitions (next is only read).
func joinTransitions(a, b []dsl.Transition) []dsl.Transition {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	return append(append(make([]dsl.Transition, 0, len(a)+len(b)), a...), b...)
}

// putTask writes rec, conditional on the version it was read at (0: new).
// Fix: a with-items task's outbox keeps only its own commands, not one per
// item (each item's commands live on its slot), so the task record, read
// and rewritten on every item's completion, stays small.
func (b *builder) putTask(rec *Task) {
	if rec.Items > 0 && len(rec.Outbox) > 0 {
		kept := make([]Command, 0, 2)
		for _, c := range rec.Outbox {
			if c.Slot < 0 || c.Task != rec.Key {
				kept = append(kept, c)
			}
		}
		rec.Outbox = kept
	}
	b.ops = append(b.ops, PutTask{Task: rec, IfVersion: rec.Version})
}

// pauseHead moves the execution to PAUSED in this plan. As in Mistral the
// pause spreads to its running sub-workflows and to its parent (whose pause
// spreads to its other sub-workflows); each stops at an execution that is
// not running.
func (b *builder) pauseHead(info string) error {
	if b.head.State != Running {
		return nil
	}
	h := *b.head
	h.State = Paused
	h.StateInfo = info
	b.head = &h
	b.putHead = true
	kids, err := b.subWorkflows()
	if err != nil {
		return fmt.Errorf("pause sub-workflows of %s: %w", h.ID, err)
	}
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: PauseWorkflow, Exec: id, From: h.ID, Slot: -1})
	}
	if h.Parent != "" {
		b.cmds = append(b.cmds, Command{Kind: PauseWorkflow, Exec: h.Parent, From: h.ID, Slot: -1})
	}
	return nil
}

// PausedWithChild starts the state info of a parent a sub-workflow's pause
// paused: only such a parent resumes when its sub-workflows do.
const PausedWithChild = "paused with its sub-workflow "

// subWorkflows lists the running sub-workflow executions of this execution
// (none, without reading, when its workflow calls none).
func (b *builder) subWorkflows() ([]string, error) {
	calls := false
	for _, t := range b.wf.Tasks {
		calls = calls || t.Workflow != ""
	}
	if !calls {
		return nil, nil
	}
	tasks, err := b.r.Tasks(b.ctx, b.head.ID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range tasks {
		if t := b.wf.Tasks[rec.Name]; t == nil || t.Workflow == "" || rec.State != Running {
			continue
		}
		kids, err := b.childrenOf(rec)
		if err != nil {
			return nil, err
		}
		ids = append(ids, kids...)
	}
	return ids, nil
}

// childrenOf lists the sub-workflow executions task rec is running.
func (b *builder) childrenOf(rec *Task) ([]string, error) {
	if rec.Items == 0 {
		return []string{childID(b.head.ID, rec.Key, -1, rec.Attempt)}, nil
	}
	slots, err := b.r.Slots(b.ctx, b.head.ID, rec.Key)
	if err != nil {
		return nil, fmt.Errorf("load items of %s: %w", rec.Key, err)
	}
	var ids []string
	for _, s := range slots {
		if s.State == Running {
			ids = append(ids, childID(b.head.ID, rec.Key, s.Index, s.Attempt))
		}
	}
	return ids, nil
}

// finish ends the execution in this plan with state st.
func (b *builder) finish(st State, info string, final map[string]any) {
	h := *b.head
	h.State = st
	h.StateInfo = info
	ectx := b.scope(final, nil)
	// Mistral's defaults: without an output clause the output is the final
	// context (the branches' published data); a failed execution's output
	// is {"result": state_info} merged with output-on-error, or with the
	// final context when there is none.
	if st == Success && b.wf.Output != nil {
		v, err := ectx.eval(b.wf.Output)
		if err != nil {
			h.State = Error
			h.StateInfo = fmt.Sprintf("evaluate output of workflow %s: %v", b.wf.Name, err)
		} else {
			h.Output = v
		}
	} else if st == Success {
		h.Output = plainCtx(final)
	}
	if h.State == Error {
		out := map[string]any{}
		var extra any = plainCtx(final)
		if b.wf.OutputOnError != nil {
			if v, err := ectx.eval(b.wf.OutputOnError); err == nil {
				extra = v
			}
		}
		if m, ok := extra.(map[string]any); ok {
			for k, v := range m {
				out[k] = v
			}
		}
		out["result"] = h.StateInfo
		h.Output = out
	}
	b.head = &h
	b.putHead = true
	if err := b.endLiveTasks(); err != nil {
		// The end stands; a task left RUNNING is reported, not hidden.
		h.StateInfo = strings.TrimSpace(h.StateInfo + " (" + err.Error() + ")")
	}
	b.cmds = append(b.cmds, Command{Kind: Finished, Exec: h.ID, Slot: -1})
	b.cmds = append(b.cmds, ParentReport(&h)...)
	b.cmds = append(b.cmds, resumeParent(&h)...)
}

// resumeParent lets a parent that paused with this sub-workflow resume
// once it ended (none of its sub-workflows may be paused any more).
func resumeParent(h *Execution) []Command {
	if h.Parent == "" {
		return nil
	}
	return []Command{{Kind: ResumeWorkflow, Exec: h.Parent, From: h.ID, Slot: -1}}
}

// ParentReport is the command that tells a finished sub-workflow's parent
// task how it ended (none for a top-level or unfinished execution). Hosts
// repeat it whenever they meet the finished child again: the parent applies
// a result for an attempt once, so a repeat is harmless and a lost report is
// repaired.
func ParentReport(h *Execution) []Command {
	if h.Parent == "" || !h.State.Terminal() {
		return nil
	}
	r := &Result{Exec: h.Parent, Task: h.ParentTask, Slot: h.ParentSlot, Attempt: h.ParentAttempt,
		OK: h.State == Success, Output: h.Output, Error: h.StateInfo}
	if r.Error == "" && !r.OK {
		r.Error = fmt.Sprintf("sub-workflow %s ended in %s", h.ID, h.State)
	}
	if h.State == Cancelled {
		r.Error = "sub-workflow " + h.ID + " was cancelled"
	}
	return []Command{{Kind: ReportParent, Exec: h.ID, Slot: -1, Result: r}}
}

// markOutlive marks the tasks this step started from ops[from:] whose
// action is about to run: Mistral dispatches the task commands listed
// before a fail/succeed command (on-success: [notify, succeed]) and runs
// them to the end after the workflow ended. Only plain action tasks: a
// with-items task, a sub-workflow or a task waiting on a policy is
// cancelled with the execution, as any other unstarted task.
func (b *builder) markOutlive(from int) {
	for _, op := range b.ops[from:] {
		pt, ok := op.(PutTask)
		if !ok {
			continue
		}
		t, d := pt.Task, b.wf.Tasks[pt.Task.Name]
		if d == nil || d.Action == "" || len(d.WithItems) > 0 || t.State != Running || t.Pending != "" ||
			t.Items > 0 || t.Claimed >= t.Attempt {
			continue
		}
		if b.outlive == nil {
			b.outlive = map[string]bool{}
		}
		b.outlive[t.Key] = true
	}
}

// endLiveTasks is called when the execution ends while work is still live
// (a fail/succeed command with branches running, a cancel). Fix: before, the
// runners then dropped the unclaimed actions and their tasks stayed RUNNING
// forever. Now every task that has not started an action yet (created in
// this plan, unclaimed, delayed, idle) becomes CANCELLED and its commands are
// withdrawn; a task whose action a runner already claimed stays RUNNING until
// its result arrives (Complete records it, see lateResult). Each cancelled
// task's unit of work ends, so Active still returns to zero. It reads every
// task record, which is fine: it runs at most once per execution.
func (b *builder) endLiveTasks() error {
	live := b.head.Active + b.add.Active
	if b.finishing != "" {
		live-- // its own unit ends in finishTask
	}
	if live <= 0 {
		return nil
	}
	cancel := func(t *Task) {
		t.State, t.StateInfo, t.Pending, t.Outbox = Cancelled, "execution ended before this task finished", "", nil
		t.Finished = b.now
		b.add.Active--
	}
	dropped := map[string]bool{}
	planned := map[string]bool{}
	for _, op := range b.ops {
		if pt, ok := op.(PutTask); ok && pt.Task.Key != b.finishing {
			planned[pt.Task.Key] = true
			if b.outlive[pt.Task.Key] {
				pastEnd(pt.Task.Outbox, pt.Task.Key)
				pastEnd(b.cmds, pt.Task.Key)
				continue
			}
			if t := pt.Task; !t.State.Terminal() && !(t.State == Waiting && !t.Fired) && t.Claimed < t.Attempt {
				cancel(t)
				dropped[t.Key] = true
			}
		}
	}
	stored, err := b.r.Tasks(b.ctx, b.head.ID)
	if err != nil {
		return fmt.Errorf("cancel live tasks: %w", err)
	}
	for _, t := range stored {
		if planned[t.Key] || t.Key == b.finishing || t.State.Terminal() || t.State == Waiting && !t.Fired {
			continue
		}
		if t.State == Running && t.Pending == "" && t.Items == 0 && t.Claimed >= t.Attempt {
			continue // its claimed action will report
		}
		cancel(t)
		dropped[t.Key] = true
		b.putTask(t)
	}
	if len(dropped) > 0 {
		kept := b.cmds[:0]
		for _, c := range b.cmds {
			if !dropped[c.Task] || c.Exec != b.head.ID {
				kept = append(kept, c)
			}
		}
		b.cmds = kept
	}
	// Sub-workflows of the tasks it ends are cancelled too, as in Mistral.
	for key := range dropped {
		if err := b.cancelChildren(key); err != nil {
			return err
		}
	}
	return nil
}

// pastEnd lets the runner run task key's action although the execution has
// ended (see markOutlive).
func pastEnd(cmds []Command, key string) {
	for i := range cmds {
		if cmds[i].Kind == RunAction && cmds[i].Task == key {
			cmds[i].PastEnd = true
		}
	}
}

// childID is the deterministic id of the sub-workflow one attempt starts.
func childID(exec, key string, slot, attempt int) string {
	return exec + "." + shortHash(fmt.Sprintf("%s/%d/%d", key, slot, attempt))
}

// cancelChildren asks the host to cancel the running sub-workflows of task key.
func (b *builder) cancelChildren(key string) error {
	rec, err := b.r.Task(b.ctx, b.head.ID, key)
	if err != nil || rec == nil {
		return err
	}
	if t := b.wf.Tasks[rec.Name]; t == nil || t.Workflow == "" {
		return nil
	}
	kids, err := b.childrenOf(rec)
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: CancelWorkflow, Exec: id, Slot: -1})
	}
	return err
}

// ---------------------------------------------------------------- with-items

// runItems starts a with-items task: the first window of items.
func (b *builder) runItems(rec *Task, t *dsl.Task) error {
	items, err := b.items(rec, t)
	if err != nil {
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

// itemList is the evaluated with-items lists of a task. Fix: item variables
// are set only for the items a step touches (straight into $, see data),
// where before every completion built a map for every item, which made one
// item's completion cost grow with the number of items.
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

// ---------------------------------------------------------------- joins

// CheckJoin fires the join task key when enough inbound branches have
// arrived; from is the arrival that asks.
//
// need, when known (the CheckJoin command's Need), lets most arrivals stop
// after reading the join record alone: one that finds fewer arrivals than
// need and the join not fired would get an empty plan anyway, whatever the
// execution's state, so it need not load the execution.
func (e *Engine) CheckJoin(ctx context.Context, r Reader, execID, key, from string, need int) (*Plan, error) {
	if need > 0 {
		rec, err := r.Task(ctx, execID, key)
		if err != nil {
			return nil, fmt.Errorf("load join %s of %s: %w", key, execID, err)
		}
		if rec == nil || !rec.Fired && int(rec.Arrived) < need {
			return &Plan{}, nil
		}
	}
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return &Plan{}, nil
	}
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load join %s of %s: %w", key, execID, err)
	}
	if rec == nil {
		return &Plan{}, nil
	}
	if rec.Fired {
		// The arrival that fired the join asks again only when its result
		// was redelivered: the host that fired may have died before sending
		// the join's action, so repeat it. Other arrivals send nothing.
		if from != "" && rec.FiredBy == from {
			return &Plan{Duplicate: true, Commands: OwnCommands(rec)}, nil
		}
		return &Plan{}, nil
	}
	t := b.wf.Tasks[rec.Name]
	if int(rec.Arrived) < b.graph.joinNeed(b.wf, t) {
		return &Plan{}, nil
	}
	rec.FiredBy = from
	if err := b.fire(rec, t); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

func (b *builder) fire(rec *Task, t *dsl.Task) error {
	rec.Fired = true
	rec.Attempt = 1
	rec.Started = b.now
	rec.Seq = b.head.Seq + b.add.Seq + 1
	// Arrivals are read once, when the join fires, never on each arrival.
	arrivals, err := b.r.Arrivals(b.ctx, rec.Exec, rec.Key)
	if err != nil {
		return fmt.Errorf("load arrivals at join %s of %s: %w", rec.Key, rec.Exec, err)
	}
	rec.Ctx = mergeBranches(arrivals)
	b.add.Seq++
	b.add.Active++
	mark := len(b.cmds)
	if err := b.begin(rec, t); err != nil {
		return err
	}
	if rec.Outbox == nil {
		rec.Outbox = clone(b.cmds[mark:])
	}
	b.putTask(rec)
	return nil
}

// ---------------------------------------------------------------- timers

// Fire handles a timer coming back.
func (e *Engine) Fire(ctx context.Context, r Reader, tm Timer) (*Plan, error) {
	b, err := e.load(ctx, r, tm.Exec)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return &Plan{}, nil
	}
	rec, err := r.Task(ctx, tm.Exec, tm.Task)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", tm.Task, tm.Exec, err)
	}
	if rec == nil || rec.State.Terminal() {
		return &Plan{}, nil
	}
	t := b.wf.Tasks[rec.Name]
	switch tm.Kind {
	case TimerWaitBefore, TimerRetry:
		if rec.State != RunningDelayed || rec.Pending != string(tm.Kind) || rec.Attempt != tm.Attempt {
			return &Plan{}, nil
		}
		if b.head.State == Paused {
			return &Plan{}, nil // Resume picks delayed tasks up again
		}
		if tm.Kind == TimerWaitBefore {
			if err := b.run(rec, t); err != nil {
				return nil, err
			}
		} else {
			rec.State, rec.Pending = Running, ""
			if err := b.runAttempt(rec, t); err != nil {
				return nil, err
			}
		}
		rec.Outbox = clone(b.cmds)
		b.putTask(rec)
	case TimerWaitAfter:
		if rec.State != RunningDelayed || rec.Pending != string(TimerWaitAfter) || rec.Attempt != tm.Attempt {
			return &Plan{}, nil
		}
		if err := b.finishTask(rec, t, true, ""); err != nil {
			return nil, err
		}
		rec.Outbox = clone(b.cmds)
		b.putTask(rec)
	case TimerTimeout:
		// The timer names the run it bounds by its due time; a rerun or a
		// later run of the task set another.
		if rec.TimeoutAt == 0 || tm.Due != rec.TimeoutAt || (rec.State != Running && rec.State != RunningDelayed) {
			return &Plan{}, nil
		}
		msg := fmt.Sprintf("task %s timed out (timeout policy)", rec.Name)
		rec.Result, rec.HasResult = msg, true
		if err := b.finishTask(rec, t, false, msg); err != nil {
			return nil, err
		}
		rec.Outbox = clone(b.cmds)
		b.putTask(rec)
	case TimerWatchdog:
		msg := fmt.Sprintf("task %s timed out (timeout policy)", rec.Name)
		if tm.Kind == TimerWatchdog {
			msg = fmt.Sprintf("action of task %s did not report within %d s; its runner is presumed lost", rec.Name, b.e.ActionDeadline)
		}
		if tm.Slot >= 0 {
			slot, err := r.Slot(ctx, tm.Exec, tm.Task, tm.Slot)
			if err != nil {
				return nil, fmt.Errorf("load slot %d of %s: %w", tm.Slot, tm.Task, err)
			}
			if slot == nil || slot.State != Running || slot.Attempt != tm.Attempt || rec.State != Running {
				return &Plan{}, nil
			}
			if tm.Kind == TimerWatchdog && slot.Deadline > tm.Due && tm.Due > 0 {
				return b.rearm(tm, slot.Deadline), nil
			}
			if err := b.itemResult(rec, t, slot, Result{Exec: tm.Exec, Task: tm.Task, Slot: tm.Slot, Attempt: tm.Attempt, Error: msg}); err != nil {
				return nil, err
			}
			break
		}
		if rec.State != Running || rec.Attempt != tm.Attempt || rec.Items > 0 {
			return &Plan{}, nil
		}
		if tm.Kind == TimerWatchdog && rec.Deadline > tm.Due && tm.Due > 0 {
			return b.rearm(tm, rec.Deadline), nil
		}
		if err := b.settle(rec, t, Result{Exec: tm.Exec, Task: tm.Task, Slot: -1, Attempt: tm.Attempt, Error: msg,
			Interrupted: tm.Kind == TimerWatchdog}); err != nil {
			return nil, err
		}
		rec.Outbox = clone(b.cmds)
		b.putTask(rec)
	default:
		return nil, fmt.Errorf("timer of unknown kind %q: %w", tm.Kind, ErrInvalidInput)
	}
	return b.plan(), nil
}

// rearm sends a watchdog again for a deadline a heartbeat moved later.
func (b *builder) rearm(tm Timer, deadline int64) *Plan {
	return &Plan{Commands: []Command{{Kind: StartTimer, Exec: tm.Exec, Task: tm.Task, Slot: tm.Slot, Attempt: tm.Attempt,
		Timer: TimerWatchdog, Delay: float64(deadline-tm.Due) / 1000, Due: deadline}}}
}

// Heartbeat moves the watchdog deadline of a running attempt (a delegate
// action still at work) to now+extend. It fails with ErrInvalidState when
// the attempt no longer runs, so the caller can tell the third party to stop.
func (e *Engine) Heartbeat(ctx context.Context, r Reader, execID, key string, slot, attempt int, extend time.Duration) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	until := b.now.Add(extend).UnixMilli()
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", key, execID, err)
	}
	stale := fmt.Errorf("attempt %d of task %s of %s is not running: %w", attempt, key, execID, ErrInvalidState)
	if b.head.State.Terminal() || rec == nil || rec.State != Running {
		return nil, stale
	}
	if slot >= 0 {
		s, err := r.Slot(ctx, execID, key, slot)
		if err != nil {
			return nil, fmt.Errorf("load item %d of %s: %w", slot, key, err)
		}
		if s == nil || s.State != Running || s.Attempt != attempt {
			return nil, stale
		}
		if s.Deadline < until {
			ns := *s
			ns.Deadline = until
			b.ops = append(b.ops, PutSlot{Slot: &ns, IfVersion: s.Version})
		}
		return b.plan(), nil
	}
	if rec.Attempt != attempt || rec.Pending != "" {
		return nil, stale
	}
	if rec.Deadline < until {
		rec.Deadline = until
		b.putTask(rec)
	}
	return b.plan(), nil
}

// ---------------------------------------------------------------- end

// Finalize ends an execution whose Active count is zero. Before it declares
// the end it fires any join whose arrivals are enough (a branch may have
// arrived without its CheckJoin having run yet); a join that can never be
// satisfied fails, as in Mistral.
func (e *Engine) Finalize(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running || b.head.Active != 0 {
		return &Plan{}, nil
	}
	var unsatisfied []*Task
	for _, name := range b.wf.TaskOrder {
		t := b.wf.Tasks[name]
		need := b.graph.joinNeed(b.wf, t)
		if need == 0 {
			continue
		}
		rec, _, _, err := b.openJoin(name) // a join in a cycle may have run before
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		if int(rec.Arrived) >= need {
			if err := b.fire(rec, t); err != nil {
				return nil, err
			}
			return b.plan(), nil
		}
		unsatisfied = append(unsatisfied, rec)
	}
	if len(unsatisfied) > 0 {
		// Fix: a join that can never be satisfied now fails as an ordinary
		// task error (Mistral: "join can never be satisfied"), so its
		// publish-on-error, on-error and on-complete apply and a handled
		// failure no longer fails the workflow. Before, it was marked ERROR
		// directly and always counted as unhandled.
		for _, rec := range unsatisfied {
			t := b.wf.Tasks[rec.Name]
			rec.Fired = true
			rec.State = Running
			rec.Attempt = 1
			rec.Started = b.now
			rec.Seq = b.head.Seq + b.add.Seq + 1
			arrivals, err := r.Arrivals(ctx, execID, rec.Key)
			if err != nil {
				return nil, fmt.Errorf("load arrivals at join %s of %s: %w", rec.Key, execID, err)
			}
			rec.Ctx = mergeBranches(arrivals)
			b.add.Seq++
			b.add.Active++ // the join's unit, ended by finishTask
			msg := fmt.Sprintf("join of task %s can never be satisfied: %d of %d inbound tasks arrived",
				rec.Name, rec.Arrived, b.graph.joinNeed(b.wf, t))
			rec.Result, rec.HasResult = msg, true
			if err := b.finishTask(rec, t, false, msg); err != nil {
				return nil, err
			}
			b.putTask(rec)
		}
		p := b.plan()
		p.CheckFinal = true // finalise again once the error's handlers (if any) are done
		return p, nil
	}
	leaves, err := r.Leaves(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("load branch ends of %s: %w", execID, err)
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].Seq < leaves[j].Seq })
	ends := make([]map[string]any, len(leaves))
	for i, l := range leaves {
		ends[i] = l.Ctx
	}
	final := mergeBranches(ends)
	if b.head.Errors > 0 {
		// Fix: with several unhandled errors, the state_info names the one
		// of the smallest task key, not the first to arrive, so the outcome
		// does not depend on the order results came in.
		info, key := b.head.ErrorInfo, ""
		for _, l := range leaves {
			if l.Error != "" && (key == "" || l.Task < key) {
				info, key = l.Error, l.Task
			}
		}
		b.finish(Error, info, final)
	} else {
		b.finish(Success, "", final)
	}
	return b.plan(), nil
}

// ---------------------------------------------------------------- control

// Pause pauses a running execution: running actions finish, nothing new starts.
func (e *Engine) Pause(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running {
		return nil, fmt.Errorf("pause execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	if err := b.pauseHead("paused by request"); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

// PauseWith pauses a running execution because a related one, from (its
// parent or one of its sub-workflows), paused (see pauseHead).
func (e *Engine) PauseWith(ctx context.Context, r Reader, execID, from string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Running {
		return nil, fmt.Errorf("pause execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	info := PausedWithChild + from
	if b.head.Parent == from {
		info = "paused with its parent " + from
	}
	if err := b.pauseHead(info); err != nil {
		return nil, err
	}
	return b.plan(), nil
}

// ResumeAfterChild resumes an execution a sub-workflow's pause paused, once
// none of its sub-workflows is paused any more (as in Mistral). An
// execution paused on its own account (by request, a pause command) stays
// paused.
func (e *Engine) ResumeAfterChild(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Paused || !strings.HasPrefix(b.head.StateInfo, PausedWithChild) {
		return &Plan{}, nil
	}
	kids, err := b.subWorkflows()
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", execID, err)
	}
	for _, id := range kids {
		k, err := r.Execution(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("resume %s: load sub-workflow %s: %w", execID, id, err)
		}
		if k != nil && k.State == Paused {
			return &Plan{}, nil
		}
	}
	return b.resume()
}

// Resume continues a paused execution, starting the tasks held while it was paused.
func (e *Engine) Resume(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Paused {
		return nil, fmt.Errorf("resume execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	return b.resume()
}

// resume continues the paused execution: the tasks held while it was
// paused start, its paused sub-workflows resume, and a parent that paused
// with it resumes if none of its other sub-workflows is paused.
func (b *builder) resume() (*Plan, error) {
	execID := b.head.ID
	h := *b.head
	h.State, h.StateInfo = Running, ""
	b.head = &h
	b.putHead = true
	kids, err := b.subWorkflows()
	if err != nil {
		return nil, fmt.Errorf("resume sub-workflows of %s: %w", execID, err)
	}
	for _, id := range kids {
		b.cmds = append(b.cmds, Command{Kind: ResumeWorkflow, Exec: id, Slot: -1})
	}
	if h.Parent != "" {
		b.cmds = append(b.cmds, Command{Kind: ResumeWorkflow, Exec: h.Parent, From: execID, Slot: -1})
	}
	tasks, err := b.r.Tasks(b.ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("load tasks of %s: %w", execID, err)
	}
	for _, rec := range tasks {
		t := b.wf.Tasks[rec.Name]
		if t == nil {
			continue
		}
		switch {
		case rec.State == Idle:
			// A task held by its own pause-before keeps Pending "paused",
			// so begin does not pause again.
			mark := len(b.cmds)
			if err := b.begin(rec, t); err != nil {
				return nil, err
			}
			rec.Outbox = clone(b.cmds[mark:])
			b.putTask(rec)
		case rec.State == RunningDelayed && (rec.Pending == string(TimerRetry) || rec.Pending == string(TimerWaitBefore)):
			// Its timer may have come back while paused and been dropped.
			b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: rec.Exec, Task: rec.Key, Slot: -1,
				Attempt: rec.Attempt, Timer: TimerKind(rec.Pending), Delay: 0})
		}
	}
	p := b.plan()
	// Everything may have finished while paused; only a running execution
	// can be finalised, so look again now.
	p.CheckFinal = true
	return p, nil
}

// Cancel ends an execution as CANCELLED; results that arrive later are ignored.
func (e *Engine) Cancel(ctx context.Context, r Reader, execID string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return nil, fmt.Errorf("cancel execution %s in state %s: %w", execID, b.head.State, ErrInvalidState)
	}
	h := *b.head
	h.State, h.StateInfo = Cancelled, "cancelled by request"
	b.head = &h
	b.putHead = true
	if err := b.endLiveTasks(); err != nil {
		return nil, err
	}
	b.cmds = append(b.cmds, Command{Kind: Finished, Exec: execID, Slot: -1})
	b.cmds = append(b.cmds, ParentReport(&h)...)
	b.cmds = append(b.cmds, resumeParent(&h)...)
	return b.plan(), nil
}

// Rerun runs a failed task again (Mistral's task rerun): a plain task gets a
// new attempt; a with-items task reruns only its failed items. The execution
// returns to RUNNING.
func (e *Engine) Rerun(ctx context.Context, r Reader, execID, key string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State != Error {
		return nil, fmt.Errorf("rerun a task of execution %s in state %s (must be ERROR): %w", execID, b.head.State, ErrInvalidState)
	}
	rec, err := r.Task(ctx, execID, key)
	if err != nil {
		return nil, fmt.Errorf("load task %s of %s: %w", key, execID, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("task %s of %s: %w", key, execID, ErrNotFound)
	}
	if rec.State != Error {
		return nil, fmt.Errorf("rerun task %s in state %s (must be ERROR): %w", key, rec.State, ErrInvalidState)
	}
	t := b.wf.Tasks[rec.Name]
	h := *b.head
	h.State, h.StateInfo, h.ErrorInfo = Running, "", ""
	if h.Errors > 0 {
		h.Errors--
	}
	h.Active++
	b.head = &h
	b.putHead = true
	rec.State, rec.StateInfo, rec.Outbox = Running, "", nil
	rec.Attempt++
	rec.Finished = time.Time{}
	rec.TimeoutAt = 0 // a timer of the failed run must not end the rerun
	if rec.Items > 0 {
		slots, err := r.Slots(ctx, execID, key)
		if err != nil {
			return nil, fmt.Errorf("load items of %s: %w", key, err)
		}
		items, err := b.items(rec, t)
		if err != nil {
			return nil, err
		}
		var failed int64
		for _, s := range slots {
			if s.State != Error || s.Index >= items.n {
				continue
			}
			failed++
			ns := *s
			ns.State, ns.StateInfo, ns.Result = Running, "", nil
			ns.Attempt++
			ns.Rerun = true
			b.ops = append(b.ops, PutSlot{Slot: &ns, IfVersion: s.Version})
			mark := len(b.cmds)
			if err := b.dispatch(rec, t, ns.Index, ns.Attempt, items); err != nil {
				return nil, err
			}
			ns.Outbox = clone(b.cmds[mark:])
		}
		rec.Failed -= failed
	} else {
		mark := len(b.cmds)
		if err := b.runAttempt(rec, t); err != nil {
			return nil, err
		}
		// Kept so the new attempt can be sent again (Recover, Resume).
		rec.Outbox = clone(b.cmds[mark:])
	}
	b.putTask(rec)
	return b.plan(), nil
}

// ---------------------------------------------------------------- helpers

// OwnCommands picks, from a running task's outbox, the commands that start
// its own work (its action, timers, sub-workflow), for a step repeated after
// a crash.
func OwnCommands(t *Task) []Command {
	if t.State != Running && t.State != RunningDelayed {
		return nil
	}
	var out []Command
	for _, c := range t.Outbox {
		if c.Task == t.Key && (c.Kind == RunAction || c.Kind == StartTimer || c.Kind == StartWorkflow) {
			out = append(out, c)
		}
	}
	return out
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DefID is the content hash that identifies a definition source.
func DefID(source []byte) string {
	sum := sha256.Sum256(source)
	return hex.EncodeToString(sum[:16])
}

// Fail ends an execution as ERROR from outside the workflow: a message about
// it could not be processed (it reached a dead-letter queue), so the
// execution is failed with a reason rather than left RUNNING forever.
func (e *Engine) Fail(ctx context.Context, r Reader, execID, reason string) (*Plan, error) {
	b, err := e.load(ctx, r, execID)
	if err != nil {
		return nil, err
	}
	if b.head.State.Terminal() {
		return &Plan{}, nil
	}
	b.finish(Error, reason, nil)
	return b.plan(), nil
}

// versionsKey holds, inside a branch context, how many times each key was
// published along the branch: Mistral's context versioning. When branches
// meet at a join, the value published more often (later) wins, so a value a
// branch published is not overwritten by another branch's stale copy of it.
// Top-level keys only (Mistral also versions the keys of nested maps).
const versionsKey = "__versions"

// keysKey holds, inside a branch context, the record key of the latest run
// of each task that ran in a cycle (see finishTask).
const keysKey = "__task_keys"

// roundsKey holds, inside a branch context, the latest round of each join
// in a cycle that the branch came through (see joinRound). Merges keep the
// highest, so a branch that met an older one on the way still knows it.
const roundsKey = "__join_rounds"

// bookkeeping reports whether k is one of the engine's own context keys,
// which expressions and outputs never see.
func bookkeeping(k string) bool { return k == versionsKey || k == keysKey || k == roundsKey }

func versionOf(ctx map[string]any, k string) int64 {
	v, _ := ctx[versionsKey].(map[string]any)
	n, _ := v[k].(int64)
	if f, ok := v[k].(float64); ok {
		n = int64(f)
	}
	return n
}

// bumpVersions counts one more publication of each key of pub in ctx.
func bumpVersions(ctx, pub map[string]any) {
	old, _ := ctx[versionsKey].(map[string]any)
	vers := make(map[string]any, len(old)+len(pub))
	for k, v := range old {
		vers[k] = v
	}
	for k := range pub {
		vers[k] = versionOf(ctx, k) + 1
	}
	ctx[versionsKey] = vers
}

// mergeBranches merges branch contexts by version (ties: the later one in
// key order wins, which keeps the merge independent of arrival order).
func mergeBranches[C map[string]map[string]any | []map[string]any](ctxs C) map[string]any {
	var list []map[string]any
	var own map[string]any // arrivals: the arriving run of each branch's own task
	switch c := any(ctxs).(type) {
	case map[string]map[string]any:
		froms := make([]string, 0, len(c))
		for f := range c {
			froms = append(froms, f)
		}
		sort.Strings(froms)
		for _, f := range froms {
			list = append(list, c[f])
			if m, ok := c[f][keysKey].(map[string]any); ok {
				if n := baseName(f); m[n] == f {
					if own == nil {
						own = map[string]any{}
					}
					own[n] = f
				}
			}
		}
	case []map[string]any:
		list = c
	}
	out := map[string]any{}
	vers := map[string]int64{}
	var keys, rounds map[string]any
	for _, ctx := range list {
		for k, v := range ctx {
			if k == versionsKey {
				continue
			}
			if k == roundsKey {
				if m, ok := v.(map[string]any); ok {
					if rounds == nil {
						rounds = map[string]any{}
					}
					for n, r := range m {
						cur, _ := rounds[n].(int64)
						if x, ok := r.(int64); ok && x > cur {
							rounds[n] = r
						}
					}
				}
				continue
			}
			if k == keysKey {
				// Each branch knows the latest runs on its own path; the
				// merge knows them all (task(name) after a join).
				if m, ok := v.(map[string]any); ok {
					if keys == nil {
						keys = map[string]any{}
					}
					for n, key := range m {
						keys[n] = key
					}
				}
				continue
			}
			n := versionOf(ctx, k)
			if _, seen := out[k]; !seen || n >= vers[k] {
				out[k], vers[k] = v, n
			}
		}
	}
	var kept map[string]any
	for k, n := range vers {
		if n > 0 {
			if kept == nil {
				kept = map[string]any{}
			}
			kept[k] = n
		}
	}
	if kept != nil {
		out[versionsKey] = kept
	}
	if keys != nil {
		// Another branch may carry an older run of a task whose latest run
		// is the one arriving here: the arriving run wins.
		for n, k := range own {
			keys[n] = k
		}
		out[keysKey] = keys
	}
	if rounds != nil {
		out[roundsKey] = rounds
	}
	return out
}

// baseName is the task name of a record key name#<12 hex digits> (a run in
// a cycle), or the key itself.
func baseName(key string) string {
	if i := len(key) - 13; i > 0 && key[i] == '#' {
		if _, err := hex.DecodeString(key[i+1:]); err == nil {
			return key[:i]
		}
	}
	return key
}

var joinCycles sync.Map // *dsl.Workflow -> map[string]bool

// joinInCycle reports whether the join task name can be reached again
// from itself through transitions, so its runs are rounds (joinRound).
func joinInCycle(wf *dsl.Workflow, name string) bool {
	if m, ok := joinCycles.Load(wf); ok {
		return m.(map[string]bool)[name]
	}
	m := map[string]bool{}
	for n, t := range wf.Tasks {
		if t.Join != dsl.JoinNone && wf.Type != dsl.Reverse {
			m[n] = reaches(wf, n, n)
		}
	}
	joinCycles.Store(wf, m)
	return m[name]
}

// reaches reports whether to can be reached from the successors of from.
func reaches(wf *dsl.Workflow, from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		t := wf.Tasks[n]
		if t == nil {
			continue
		}
		for _, list := range [][]dsl.Transition{t.OnSuccess, t.OnError, t.OnComplete} {
			for _, tr := range list {
				if tr.Task == "" || seen[tr.Task] {
					continue
				}
				if tr.Task == to {
					return true
				}
				seen[tr.Task] = true
				stack = append(stack, tr.Task)
			}
		}
	}
	return false
}

// plainCtx is a branch context without its bookkeeping.
func plainCtx(ctx map[string]any) map[string]any {
	out := make(map[string]any, len(ctx))
	for k, v := range ctx {
		if !bookkeeping(k) {
			out[k] = v
		}
	}
	return out
}
