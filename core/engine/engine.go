package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

// Reader is what the engine may read of an execution. A nil record with a nil
// error means "absent".
type Reader interface {
	// Execution returns the head without its input (Input is nil).
	Execution(ctx context.Context, id string) (*Execution, error)
	// Input returns an execution's input (immutable: callers may cache it).
	Input(ctx context.Context, exec string) (*value.Map, error)
	Task(ctx context.Context, exec, key string) (*Task, error)
	Slot(ctx context.Context, exec, task string, index int) (*Slot, error)
	// Slots returns every slot of a with-items task in index order.
	Slots(ctx context.Context, exec, task string) ([]*Slot, error)
	// Arrivals returns the outbound context of every branch that arrived at
	// join task key, by the key of the task it came from.
	Arrivals(ctx context.Context, exec, key string) (map[string]*value.Map, error)
	// Tasks returns every task record of an execution (used only on rare
	// paths: resume, rerun, the tasks() function).
	Tasks(ctx context.Context, exec string) ([]*Task, error)
	// TasksAfter returns up to limit task records of an execution whose
	// keys follow after ("": from the first), in key order: a cancel's
	// pages read only their own part of a big execution.
	TasksAfter(ctx context.Context, exec, after string, limit int) ([]*Task, error)
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
// It is ErrInvalidInput to errors.Is. Target marks a refused target task:
// the input is checked first, so a caller's remedy depends on which it is.
type InputError struct {
	Msg    string
	Target bool
}

func (e *InputError) Error() string { return e.Msg + ": invalid input" }

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
	// MaxDepth bounds how deep sub-workflows nest (default DefaultMaxDepth):
	// a workflow that calls itself fails at that depth instead of filling
	// the store.
	MaxDepth int
	// MaxSpawned bounds how many sub-workflow executions one root
	// execution's tree starts (default DefaultMaxSpawned).
	MaxSpawned int64

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
	Input          *value.Map
	Env            *value.Map
	Target         string // reverse workflows: task to reach (default: the workflow's last task)
	Parent         string
	ParentTask     string
	ParentAttempt  int
	ParentSlot     int // with-items item of the parent task, -1 for none
	Root           string
	Depth          int // sub-workflow level: the parent's Depth + 1
	IdempotencyKey string
	RequestHash    string
}

// DefaultMaxDepth and DefaultMaxSpawned are Engine.MaxDepth's and
// Engine.MaxSpawned's defaults.
const (
	DefaultMaxDepth   = 32
	DefaultMaxSpawned = 10000
)

func (e *Engine) maxSpawned() int64 {
	if e.MaxSpawned > 0 {
		return e.MaxSpawned
	}
	return DefaultMaxSpawned
}

func (e *Engine) maxDepth() int {
	if e.MaxDepth > 0 {
		return e.MaxDepth
	}
	return DefaultMaxDepth
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
	// control: the head's write is a SetState, conditional on the state
	// the step was computed for (base's) rather than on its version.
	control bool
	base    *Execution // the head as loaded
	// finishing holds the tasks whose end is being decided (finishTask, and
	// failRun of a successor it schedules), which endLiveTasks must leave
	// to their callers.
	finishing map[string]bool
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
	b := (&builder{e: e, ctx: ctx, r: r, head: head, base: head, now: e.now()}).init()
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
	b.mergeArrivals()
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
		if b.control {
			p.Ops = b.headFirst(b.setState(&h))
		} else {
			p.Ops = b.headFirst(PutExecution{Exec: &h, IfVersion: b.head.Version})
		}
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

// setState is the SetState that turns the head as loaded into h, which may
// differ from it only in its state, state info, counters and error info.
func (b *builder) setState(h *Execution) SetState {
	return SetState{ID: h.ID, State: h.State, StateInfo: h.StateInfo, IfState: b.base.State,
		Active: h.Active - b.base.Active, Errors: h.Errors - b.base.Errors, Seq: h.Seq - b.base.Seq,
		ClearErrorInfo: h.ErrorInfo == "" && b.base.ErrorInfo != "", Updated: h.Updated}
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

// putTask writes rec, conditional on the version it was read at (0: new).
// A with-items task's outbox keeps only its own commands, not one per
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

// DefID is the content hash that identifies a definition source.
func DefID(source []byte) string {
	sum := sha256.Sum256(source)
	return hex.EncodeToString(sum[:16])
}

// mergeArrivals makes the arrivals this plan counts at one join record one
// write of it: a step in which several branches reach a join (with-items
// tasks over no items end at once), or a resume that starts a join that
// fired while paused together with a held task that ends at once and
// arrives there. Two writes of one record in one commit make the later one
// conflict with the earlier on every try (DynamoDB refuses them outright),
// so the step could never commit. Arrivals at a record the plan also puts
// are counted in that put: it holds only against the record as read, so
// the count is exact; the others are summed into one CountArrival.
func (b *builder) mergeArrivals() {
	n := 0
	for _, op := range b.ops {
		if _, ok := op.(CountArrival); ok {
			n++
		}
	}
	if n == 0 {
		return
	}
	kept := make([]Op, 0, len(b.ops))
	for _, op := range b.ops {
		o, ok := op.(CountArrival)
		switch {
		case !ok:
			kept = append(kept, op)
		case b.countInPut(o):
		case !countInEarlier(kept, o):
			kept = append(kept, op)
		}
	}
	b.ops = kept
}

// countInPut adds o's count to a put of its record in this plan, if any.
func (b *builder) countInPut(o CountArrival) bool {
	for _, op := range b.ops {
		if x, ok := op.(PutTask); ok && x.Task.Exec == o.Exec && x.Task.Key == o.Key {
			x.Task.Arrived += o.Count()
			return true
		}
	}
	return false
}

// countInEarlier adds o's count to a CountArrival of its record in ops, if any.
func countInEarlier(ops []Op, o CountArrival) bool {
	for i, op := range ops {
		if x, ok := op.(CountArrival); ok && x.Exec == o.Exec && x.Key == o.Key {
			x.N = x.Count() + o.Count()
			ops[i] = x
			return true
		}
	}
	return false
}
