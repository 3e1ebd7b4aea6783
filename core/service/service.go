// Package service is the host around the lazy engine: it loads state from a
// store, asks the engine what to do, commits the plan with conditional
// writes (reloading and recomputing on a conflict), and then carries out the
// plan's commands over queues. The Lambda functions and the embedded local
// mode are thin adapters over this package, so both behave the same.
package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// Sender is the sending side of a queue.
type Sender interface {
	Send(ctx context.Context, body []byte, delay time.Duration) error
}

// LocalSender is a Sender whose consumer runs in the same process and takes
// messages as values (RunCommand, HandleMessageValue): the service hands it
// the value and skips the JSON encoding a real queue needs.
type LocalSender interface {
	Sender
	SendValue(ctx context.Context, msg any, delay time.Duration) error
}

// decodeJSON decodes a queue message keeping whole numbers whole, as the
// store does: an action's output 3 must stay 3, not become 3.0.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	switch m := v.(type) {
	case *Message:
		if m.Result != nil {
			m.Result.Output = value.Normalize(m.Result.Output)
		}
	case *engine.Command:
		m.Input, _ = value.Normalize(m.Input).(map[string]any)
		if m.Result != nil {
			m.Result.Output = value.Normalize(m.Result.Output)
		}
	}
	return nil
}

// MaxDelay is the longest delay one message can carry (SQS: 15 minutes);
// longer timers are chained.
const MaxDelay = 15 * time.Minute

// Message is what travels on the result queue: an action's result or a timer.
type Message struct {
	Result *engine.Result `json:"result,omitempty"`
	Timer  *engine.Timer  `json:"timer,omitempty"`
	// Due is when a timer is due; a timer that arrives early (its delay was
	// longer than one message can carry) is sent again for the rest.
	Due time.Time `json:"due,omitempty"`
}

// Service hosts the engine over a store and two queues.
type Service struct {
	Store   store.Store
	Engine  *engine.Engine
	Tasks   Sender // run-action commands, consumed by runners
	Results Sender // results and timers, consumed by the engine host
	Actions *actions.Registry
	Log     *slog.Logger

	// CallbackKey signs delegate actions' callback tokens; CallbackURL is
	// the base the token is appended to; CallbackTTL is how long it works.
	CallbackKey []byte
	CallbackURL string
	CallbackTTL time.Duration

	// MaxConflicts bounds reload-and-recompute rounds for one step.
	MaxConflicts int
	// OnFinished, if set, is told when an execution reaches a terminal state.
	OnFinished func(e *engine.Execution)
	// OnStep, if set, is told of each committed step (for accounting and tests).
	OnStep func(kind string, ops int)

	defs   sync.Map // def id -> *dsl.Document
	inputs inputCache
}

// inputCache keeps executions' inputs, which never change, so an engine step
// does not read and decode a large input again (a with-items over a long
// list would otherwise pay for the whole list on every item).
type inputCache struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

// maxCachedInputs bounds the cache; when full it starts again empty.
const maxCachedInputs = 4096

type cachedReader struct {
	store.Store
	c *inputCache
}

func (r cachedReader) Input(ctx context.Context, exec string) (map[string]any, error) {
	r.c.mu.Lock()
	in, ok := r.c.m[exec]
	r.c.mu.Unlock()
	if ok {
		return in, nil
	}
	in, err := r.Store.Input(ctx, exec)
	if err != nil || in == nil {
		return in, err
	}
	r.c.mu.Lock()
	if r.c.m == nil || len(r.c.m) >= maxCachedInputs {
		r.c.m = map[string]map[string]any{}
	}
	r.c.m[exec] = in
	r.c.mu.Unlock()
	return in, nil
}

// reader is what the engine reads through.
func (s *Service) reader() engine.Reader { return cachedReader{Store: s.Store, c: &s.inputs} }

// New wires a service; the caller sets queues and options.
func New(st store.Store, reg *actions.Registry, log *slog.Logger) *Service {
	s := &Service{Store: st, Actions: reg, Log: log, MaxConflicts: 50, CallbackTTL: 24 * time.Hour}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.Engine = &engine.Engine{Defs: defs{s}}
	return s
}

type defs struct{ s *Service }

// Doc implements engine.Defs with a cache: a definition id names immutable
// content, so a parsed document never goes stale.
func (d defs) Doc(ctx context.Context, id string) (*dsl.Document, error) {
	if v, ok := d.s.defs.Load(id); ok {
		return v.(*dsl.Document), nil
	}
	def, err := d.s.Store.DefinitionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	doc, err := dsl.Load(def.Name+".yaml", []byte(def.Source))
	if err != nil {
		return nil, fmt.Errorf("stored definition %s no longer loads: %w", id, err)
	}
	d.s.defs.Store(id, doc)
	return doc, nil
}

// ---------------------------------------------------------------- definitions

// Register validates a workflow file and stores every workflow in it under
// its name. It returns the names registered.
func (s *Service) Register(ctx context.Context, file string, source []byte) ([]string, error) {
	names, _, err := s.RegisterWarn(ctx, file, source)
	return names, err
}

// RegisterWarn is Register that also returns the document's warnings
// (accepted, as Mistral accepts them, but likely mistakes).
func (s *Service) RegisterWarn(ctx context.Context, file string, source []byte) ([]string, dsl.Errors, error) {
	names, doc, err := s.register(ctx, file, source)
	if doc == nil {
		return names, nil, err
	}
	return names, doc.Warnings, err
}

func (s *Service) register(ctx context.Context, file string, source []byte) ([]string, *dsl.Document, error) {
	// The registry checks the calls of the actions it knows; a stored
	// definition is loaded again without it, so it never stops loading.
	doc, err := dsl.LoadWith(file, source, dsl.Options{Actions: s.Actions})
	if err != nil {
		return nil, nil, err
	}
	id := engine.DefID(source)
	s.defs.Store(id, doc)
	now := time.Now().UTC()
	var names []string
	for _, name := range doc.Order {
		all := []string{name}
		if doc.Name != "" {
			// Mistral names a workbook's workflows wb.wf; the short name works too.
			all = append(all, doc.Name+"."+name)
		}
		for i, n := range all {
			if doc.Name != "" && i == 0 {
				// The short name is a convenience Mistral does not have: it
				// must not replace a workflow registered on its own.
				taken, err := s.standalone(ctx, n, id)
				if err != nil {
					return names, doc, err
				}
				if taken {
					doc.Warnings = append(doc.Warnings, &dsl.Error{Pos: doc.Workflows[name].Pos,
						Msg: fmt.Sprintf("workflow %q is registered as %s.%s only: a workflow registered on its own already has the name %q", name, doc.Name, name, name)})
					continue
				}
			}
			def := &engine.Definition{Name: n, DefID: id, Source: string(source), Created: now, Updated: now}
			if err := s.Store.PutDefinition(ctx, def); err != nil {
				return names, doc, fmt.Errorf("store workflow %s: %w", n, err)
			}
			names = append(names, n)
		}
	}
	return names, doc, nil
}

// standalone reports whether name is taken by a definition other than id
// that is not a workbook (a workflow registered on its own).
func (s *Service) standalone(ctx context.Context, name, id string) (bool, error) {
	cur, err := s.Store.Definition(ctx, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && (cur == nil || cur.DefID == id) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up workflow %s: %w", name, err)
	}
	doc, err := defs{s}.Doc(ctx, cur.DefID) // parsed once, cached
	if err != nil {
		return false, nil // not loadable any more: replacing it loses nothing
	}
	return doc.Name == "", nil
}

// ---------------------------------------------------------------- executions

// StartRequest asks for a new execution.
type StartRequest struct {
	Workflow       string
	Input          map[string]any
	Env            map[string]any
	Target         string // reverse workflows
	IdempotencyKey string
	// DefID pins a definition (used for sub-workflows); default: the current one of Workflow.
	DefID string
}

// Start starts an execution. With an idempotency key the execution id is
// derived from the key, so a repeated request finds the first execution
// (created=false) instead of making a second one.
func (s *Service) Start(ctx context.Context, r StartRequest) (exec *engine.Execution, created bool, err error) {
	defID := r.DefID
	if defID == "" {
		def, err := s.Store.Definition(ctx, r.Workflow)
		if err != nil {
			return nil, false, err
		}
		defID = def.DefID
	}
	id := newID()
	// Go callers pass ints and nested typed maps; the engine sees only JSON-like values.
	input, _ := value.Normalize(r.Input).(map[string]any)
	env, _ := value.Normalize(r.Env).(map[string]any)
	sp := engine.StartParams{ID: id, DefID: defID, Workflow: r.Workflow, Input: input,
		Env: env, Target: r.Target, IdempotencyKey: r.IdempotencyKey}
	if r.IdempotencyKey != "" {
		sp.ID = "ex-" + hashKey(r.Workflow+"\x00"+r.IdempotencyKey)
		// encoding/json sorts map keys, so equal requests hash equal.
		req, _ := json.Marshal([]any{r.Workflow, input, env, r.Target})
		sp.RequestHash = hashKey(string(req))
		cur, err := s.Store.Execution(ctx, sp.ID)
		if err != nil {
			return nil, false, err
		}
		if cur != nil && cur.RequestHash != sp.RequestHash {
			return nil, false, fmt.Errorf("%w: execution %s was started with this key and a different request", ErrIdempotencyMismatch, cur.ID)
		}
	}
	return s.startID(ctx, sp.ID, sp)
}

func (s *Service) startID(ctx context.Context, id string, sp engine.StartParams) (*engine.Execution, bool, error) {
	if cur, err := s.Store.Execution(ctx, id); err != nil {
		return nil, false, err
	} else if cur != nil {
		// A repeat: make sure its first tasks were sent (the first request
		// may have died between its commit and its sends), and that a
		// finished sub-workflow's parent heard of its end.
		if err := s.carry(ctx, id, &engine.Plan{Commands: engine.ParentReport(cur)}); err != nil {
			return cur, false, err
		}
		return cur, false, s.Recover(ctx, id)
	}
	p, err := s.Engine.Start(ctx, s.reader(), sp)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", errStartRefused, err)
	}
	if err := s.Store.Commit(ctx, p.Ops); err != nil {
		if errors.Is(err, store.ErrConflict) {
			cur, gerr := s.Store.Execution(ctx, id)
			if gerr == nil && cur != nil {
				return cur, false, nil
			}
		}
		return nil, false, fmt.Errorf("commit start of %s: %w", id, err)
	}
	s.step("start", len(p.Ops))
	s.Log.Info("execution started", "execution_id", id, "workflow", sp.Workflow)
	if err := s.carry(ctx, id, p); err != nil {
		return p.Exec, true, err
	}
	return p.Exec, true, nil
}

// Recover re-sends the pending commands of every running, unclaimed task of
// an execution. It is safe at any time: runners claim each attempt once.
func (s *Service) Recover(ctx context.Context, id string) error {
	return s.recover(ctx, id, time.Time{})
}

// Purge deletes finished executions last updated more than retention ago,
// with everything stored about them, at most max of them per call (0: no
// limit); running and paused executions are kept however old. Run it on a
// schedule beside Sweep. It returns how many executions it deleted.
func (s *Service) Purge(ctx context.Context, retention time.Duration, max int) (int, error) {
	if retention <= 0 {
		return 0, nil
	}
	n, err := s.Store.PurgeExecutions(ctx, store.PurgeParams{Before: time.Now().Add(-retention), Max: max})
	if n > 0 {
		s.Log.Info("finished executions purged", "executions", n, "retention_hours", int(retention.Hours()))
	}
	if err != nil {
		return n, fmt.Errorf("purge executions older than %s: %w", retention, err)
	}
	return n, nil
}

// Sweep repairs what a lost message could leave waiting, where nothing else
// would: for each RUNNING execution (at most max) it re-sends the actions of
// tasks started before now-minAge that no runner has claimed, and finalises
// executions whose work is done. Run it on a schedule (the sweeper function
// on AWS). It returns how many executions it looked at.
func (s *Service) Sweep(ctx context.Context, minAge time.Duration, max int) (int, error) {
	before := time.Now().Add(-minAge)
	n, cursor := 0, ""
	for n < max {
		page, err := s.Store.ListExecutions(ctx, store.ListParams{State: engine.Running, Limit: 100, Cursor: cursor})
		if err != nil {
			return n, fmt.Errorf("sweep: list running executions: %w", err)
		}
		for _, e := range page.Executions {
			if n == max {
				break
			}
			n++
			if err := s.recover(ctx, e.ID, before); err != nil {
				s.Log.Error("sweep: recover failed", "execution_id", e.ID, "err", err)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	return n, nil
}

// recover re-sends unclaimed work; with a non-zero before, only that of tasks
// started before it (and no timers, whose own delay may be long).
func (s *Service) recover(ctx context.Context, id string, before time.Time) error {
	head, err := s.Store.Execution(ctx, id)
	if err != nil || head == nil || head.State != engine.Running {
		return err
	}
	tasks, err := s.Store.Tasks(ctx, id)
	if err != nil {
		return fmt.Errorf("recover %s: %w", id, err)
	}
	for _, t := range tasks {
		if !before.IsZero() && (!t.Started.Before(before) || t.State == engine.RunningDelayed) {
			continue
		}
		if t.State == engine.Running && t.Items == 0 && t.Claimed < t.Attempt || t.State == engine.RunningDelayed {
			// Timers of delayed tasks are sent again too: a duplicate timer
			// is ignored by the engine (it checks the attempt and what the
			// task waits for).
			if err := s.carry(ctx, id, &engine.Plan{Commands: engine.OwnCommands(t)}); err != nil {
				return err
			}
		}
		if t.State == engine.Running && t.Items > 0 {
			slots, err := s.Store.Slots(ctx, id, t.Key)
			if err != nil {
				return err
			}
			for _, sl := range slots {
				if sl.State != engine.Running || sl.Claimed >= sl.Attempt {
					continue
				}
				// An item running a sub-workflow is never claimed: its start
				// is sent again (idempotent by the child's id), not an action.
				var again []engine.Command
				for _, c := range sl.Outbox {
					if c.Kind == engine.StartWorkflow && c.Slot == sl.Index && c.Attempt == sl.Attempt {
						again = append(again, c)
					}
				}
				if len(again) == 0 {
					again = []engine.Command{{Kind: engine.RunAction, Exec: id, Task: t.Key, Slot: sl.Index, Attempt: sl.Attempt}}
				}
				if err := s.carry(ctx, id, &engine.Plan{Commands: again}); err != nil {
					return err
				}
			}
		}
	}
	return s.checkFinal(ctx, id)
}

// Pause, Resume, Cancel and Rerun change an execution on request.
func (s *Service) Pause(ctx context.Context, id string) (*engine.Execution, error) {
	return s.control(ctx, id, "pause", func() (*engine.Plan, error) { return s.Engine.Pause(ctx, s.reader(), id) })
}

// Resume continues a paused execution.
func (s *Service) Resume(ctx context.Context, id string) (*engine.Execution, error) {
	e, err := s.control(ctx, id, "resume", func() (*engine.Plan, error) { return s.Engine.Resume(ctx, s.reader(), id) })
	if err != nil {
		return nil, err
	}
	// Tasks whose messages runners dropped while paused are sent again.
	return e, s.Recover(ctx, id)
}

// Cancel cancels an execution.
func (s *Service) Cancel(ctx context.Context, id string) (*engine.Execution, error) {
	return s.control(ctx, id, "cancel", func() (*engine.Plan, error) { return s.Engine.Cancel(ctx, s.reader(), id) })
}

// Rerun runs a failed task of a failed execution again.
func (s *Service) Rerun(ctx context.Context, id, task string) (*engine.Execution, error) {
	return s.control(ctx, id, "rerun", func() (*engine.Plan, error) { return s.Engine.Rerun(ctx, s.reader(), id, task) })
}

func (s *Service) control(ctx context.Context, id, kind string, fn func() (*engine.Plan, error)) (*engine.Execution, error) {
	p, err := s.apply(ctx, id, kind, fn)
	if err != nil {
		return nil, err
	}
	s.Log.Info("execution "+kind, "execution_id", id)
	if p.Exec != nil {
		return p.Exec, nil
	}
	return s.Store.Execution(ctx, id)
}

// ---------------------------------------------------------------- engine host

// HandleMessage handles one result-queue message. An error means the message
// should come back (the step did not commit).
func (s *Service) HandleMessage(ctx context.Context, body []byte) error {
	var m Message
	if err := decodeJSON(body, &m); err != nil {
		return fmt.Errorf("%w: decode result message: %v", ErrPoison, err)
	}
	return s.HandleMessageValue(ctx, m)
}

// HandleMessageValue handles a result-queue message already decoded (from a
// LocalSender).
func (s *Service) HandleMessageValue(ctx context.Context, m Message) error {
	switch {
	case m.Result != nil:
		return s.HandleResult(ctx, *m.Result)
	case m.Timer != nil:
		if !m.Due.IsZero() {
			if left := time.Until(m.Due); left > time.Second {
				return s.sendTimer(ctx, *m.Timer, left, m.Due)
			}
		}
		_, err := s.apply(ctx, m.Timer.Exec, "timer", func() (*engine.Plan, error) { return s.Engine.Fire(ctx, s.reader(), *m.Timer) })
		return err
	}
	return fmt.Errorf("%w: result message has neither result nor timer", ErrPoison)
}

// ErrPoison marks a message that can never be processed; hosts delete it
// (or let it reach the dead-letter queue) instead of retrying.
var ErrPoison = errors.New("unprocessable message")

// HandleResult applies one action result.
func (s *Service) HandleResult(ctx context.Context, r engine.Result) error {
	_, err := s.apply(ctx, r.Exec, "result", func() (*engine.Plan, error) { return s.Engine.TaskComplete(ctx, s.reader(), r) })
	if errors.Is(err, store.ErrTooLarge) && r.OK {
		// A result the store cannot hold fails its task with a clear error;
		// retrying the same message would only fail the same way.
		s.Log.Warn("result too large for the store; failing the task", "execution_id", r.Exec, "task", r.Task, "err", err)
		r.OK, r.Output = false, nil
		r.Error = fmt.Sprintf("the action's result is too large to store: %v", err)
		_, err = s.apply(ctx, r.Exec, "result", func() (*engine.Plan, error) { return s.Engine.TaskComplete(ctx, s.reader(), r) })
	}
	if errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrPoison, err)
	}
	return err
}

// apply runs one engine step to a committed plan and carries it out.
func (s *Service) apply(ctx context.Context, execID, kind string, fn func() (*engine.Plan, error)) (*engine.Plan, error) {
	for round := 0; ; round++ {
		p, err := fn()
		if err != nil {
			return nil, err
		}
		if len(p.Ops) > 0 {
			err = s.Store.Commit(ctx, p.Ops)
			if errors.Is(err, store.ErrConflict) && round < s.MaxConflicts {
				backoff(ctx, round)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s for execution %s: commit: %w", kind, execID, err)
			}
			s.step(kind, len(p.Ops))
		}
		return p, s.carry(ctx, execID, p)
	}
}

func (s *Service) step(kind string, ops int) {
	if s.OnStep != nil {
		s.OnStep(kind, ops)
	}
}

// backoff sleeps a jittered, growing, bounded time before a recompute.
func backoff(ctx context.Context, round int) {
	max := int64(1) << min(round, 7) // up to 128 ms
	n, _ := rand.Int(rand.Reader, big.NewInt(max*1000))
	t := time.NewTimer(time.Duration(n.Int64()) * time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// carry carries out a committed plan's commands.
func (s *Service) carry(ctx context.Context, execID string, p *engine.Plan) error {
	var errs []error
	for _, c := range p.Commands {
		if err := s.command(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	if p.CheckFinal {
		if err := s.checkFinal(ctx, execID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) command(ctx context.Context, c engine.Command) error {
	switch c.Kind {
	case engine.RunAction:
		if l, ok := s.Tasks.(LocalSender); ok {
			return l.SendValue(ctx, c, 0)
		}
		body, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode action of task %s: %w", c.Task, err)
		}
		return s.Tasks.Send(ctx, body, 0)
	case engine.StartTimer:
		d := time.Duration(c.Delay * float64(time.Second))
		return s.sendTimer(ctx, engine.Timer{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, Kind: c.Timer, Due: c.Due}, d, time.Now().Add(d))
	case engine.CheckJoin:
		_, err := s.apply(ctx, c.Exec, "join", func() (*engine.Plan, error) {
			return s.Engine.CheckJoin(ctx, s.reader(), c.Exec, c.Task, c.From, c.Need)
		})
		return err
	case engine.CheckItems:
		_, err := s.apply(ctx, c.Exec, "items", func() (*engine.Plan, error) { return s.Engine.CheckItems(ctx, s.reader(), c.Exec, c.Task) })
		return err
	case engine.StartWorkflow:
		root := c.Exec
		if head, err := s.Store.Execution(ctx, c.Exec); err == nil && head != nil && head.Root != "" {
			root = head.Root
		}
		defID, err := s.calleeDef(ctx, c.DefID, c.Workflow)
		if err == nil {
			_, _, err = s.startID(ctx, c.ChildID, engine.StartParams{ID: c.ChildID, DefID: defID, Workflow: c.Workflow,
				Input: c.Input, Parent: c.Exec, ParentTask: c.Task, ParentAttempt: c.Attempt, ParentSlot: c.Slot, Root: root})
		}
		if errors.Is(err, errStartRefused) || errors.Is(err, store.ErrNotFound) {
			// A child that cannot start (unknown workflow, bad input) is an
			// error result of the parent's task. Any other failure (the child
			// exists but a send failed, the store was unavailable) is retried
			// with the message.
			return s.HandleResult(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt,
				Error: fmt.Sprintf("start sub-workflow %s: %v", c.Workflow, err)})
		}
		return err
	case engine.CancelWorkflow:
		_, err := s.apply(ctx, c.Exec, "cancel", func() (*engine.Plan, error) { return s.Engine.Cancel(ctx, s.reader(), c.Exec) })
		if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
			return nil // already finished, or never started
		}
		return err
	case engine.PauseWorkflow:
		_, err := s.apply(ctx, c.Exec, "pause", func() (*engine.Plan, error) { return s.Engine.PauseWith(ctx, s.reader(), c.Exec, c.From) })
		if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
			return nil // not running: paused already, finished, or never started
		}
		return err
	case engine.ResumeWorkflow:
		_, err := s.apply(ctx, c.Exec, "resume", func() (*engine.Plan, error) {
			if c.From != "" {
				return s.Engine.ResumeAfterChild(ctx, s.reader(), c.Exec)
			}
			return s.Engine.Resume(ctx, s.reader(), c.Exec)
		})
		if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// As Service.Resume does: runners dropped its actions while paused.
		return s.Recover(ctx, c.Exec)
	case engine.ReportParent:
		if c.Result == nil {
			return nil
		}
		return s.HandleResult(ctx, *c.Result)
	case engine.Finished:
		e, err := s.Store.Execution(ctx, c.Exec)
		if err != nil {
			return err
		}
		if e != nil {
			s.Log.Info("execution finished", "execution_id", e.ID, "workflow", e.Workflow, "state", e.State, "state_info", e.StateInfo)
			if s.OnFinished != nil {
				s.OnFinished(e)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", c.Kind)
}

func (s *Service) sendTimer(ctx context.Context, t engine.Timer, d time.Duration, due time.Time) error {
	m := Message{Timer: &t}
	if d > MaxDelay {
		d, m.Due = MaxDelay, due
	}
	if l, ok := s.Results.(LocalSender); ok {
		return l.SendValue(ctx, m, d)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.Results.Send(ctx, body, d)
}

// checkFinal finalises an execution whose work count reached zero.
func (s *Service) checkFinal(ctx context.Context, id string) error {
	st, ok, err := store.ReadStatus(ctx, s.Store, id)
	if err != nil {
		return fmt.Errorf("check end of %s: %w", id, err)
	}
	if !ok || st.State != engine.Running || st.Active != 0 {
		return nil
	}
	_, err = s.apply(ctx, id, "finalize", func() (*engine.Plan, error) { return s.Engine.Finalize(ctx, s.reader(), id) })
	return err
}

// ---------------------------------------------------------------- runner

// RunTask is the runner's side: check the attempt is still wanted, claim it,
// run the action, and send its result — success or error — to the engine.
func (s *Service) RunTask(ctx context.Context, body []byte) error {
	var c engine.Command
	if err := decodeJSON(body, &c); err != nil || c.Kind != engine.RunAction {
		return fmt.Errorf("%w: decode task message: %v", ErrPoison, err)
	}
	return s.RunCommand(ctx, c)
}

// RunCommand is RunTask for a run-action command already decoded (from a
// LocalSender).
func (s *Service) RunCommand(ctx context.Context, c engine.Command) error {
	st, ok, err := store.ReadStatus(ctx, s.Store, c.Exec)
	if err != nil {
		return fmt.Errorf("load execution %s: %w", c.Exec, err)
	}
	if !ok || st.State != engine.Running && !(c.PastEnd && st.State.Terminal()) {
		// Paused: Resume sends it again; finished or gone: nothing to do
		// (unless the action was started with the end: the claim decides).
		s.logAction(ctx, c, "action not run: execution not running")
		return nil
	}
	if c.Action == "" {
		// A recovery message names only the attempt; its details are on the record.
		if err := s.fillCommand(ctx, &c); err != nil {
			return err
		}
	}
	err = s.Store.ClaimAttempt(ctx, store.ClaimParams{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt})
	if errors.Is(err, store.ErrConflict) {
		s.logAction(ctx, c, "action not run: attempt already claimed or superseded")
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim %s/%s attempt %d: %w", c.Exec, c.Task, c.Attempt, err)
	}
	actx := ctx
	if c.Deadline > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, time.Duration(c.Deadline)*time.Second)
		defer cancel()
	}
	started := time.Now()
	out, async, aerr := s.Actions.Run(actx, c.Action, c.Input, func() (actions.Callback, error) { return s.callbackFor(c) })
	if async && aerr == nil {
		s.logAction(ctx, c, "delegate action started", slog.Int64("duration_ms", time.Since(started).Milliseconds()))
		return nil
	}
	res := engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: aerr == nil, Output: out}
	if aerr != nil {
		res.Error = aerr.Error()
	}
	s.logAction(ctx, c, "action done", slog.Bool("ok", res.OK), slog.Int64("duration_ms", time.Since(started).Milliseconds()))
	return s.SendResult(ctx, res)
}

// logAction logs one line about an action attempt at Info. The attributes
// are built only when Info is enabled: a runner logs per attempt, and a
// quiet host should not pay for lines nobody reads.
func (s *Service) logAction(ctx context.Context, c engine.Command, msg string, extra ...slog.Attr) {
	if !s.Log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := append([]slog.Attr{slog.String("execution_id", c.Exec), slog.String("task", c.Task), slog.Int("slot", c.Slot),
		slog.Int("attempt", c.Attempt), slog.String("action", c.Action)}, extra...)
	s.Log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}

// SendResult puts a result on the result queue.
func (s *Service) SendResult(ctx context.Context, r engine.Result) error {
	if l, ok := s.Results.(LocalSender); ok {
		r.Output = value.Normalize(r.Output) // what the JSON round trip would have made of it
		return l.SendValue(ctx, Message{Result: &r}, 0)
	}
	body, err := json.Marshal(Message{Result: &r})
	if err != nil {
		// An output that cannot be encoded is the action's error, not a lost result.
		body, _ = json.Marshal(Message{Result: &engine.Result{Exec: r.Exec, Task: r.Task, Slot: r.Slot, Attempt: r.Attempt,
			Error: fmt.Sprintf("action output cannot be encoded as JSON: %v", err)}})
	}
	return s.Results.Send(ctx, body, 0)
}

func (s *Service) fillCommand(ctx context.Context, c *engine.Command) error {
	t, err := s.Store.Task(ctx, c.Exec, c.Task)
	if err != nil || t == nil {
		return fmt.Errorf("load task %s of %s: %v", c.Task, c.Exec, err)
	}
	outbox := t.Outbox
	if c.Slot >= 0 {
		sl, err := s.Store.Slot(ctx, c.Exec, c.Task, c.Slot)
		if err != nil || sl == nil {
			return fmt.Errorf("load item %d of %s: %v", c.Slot, c.Task, err)
		}
		outbox = append(append([]engine.Command(nil), sl.Outbox...), outbox...)
	}
	for _, o := range outbox {
		if o.Kind == engine.RunAction && o.Task == c.Task && o.Slot == c.Slot && o.Attempt == c.Attempt {
			*c = o
			return nil
		}
	}
	return fmt.Errorf("%w: no pending action for %s/%s item %d attempt %d", ErrPoison, c.Exec, c.Task, c.Slot, c.Attempt)
}

func (s *Service) callbackFor(c engine.Command) (actions.Callback, error) {
	if len(s.CallbackKey) == 0 {
		return actions.Callback{}, errors.New("delegate actions need a callback key (LAZYFLOW_CALLBACK_KEY or the deployment secret)")
	}
	exp := time.Now().Add(s.CallbackTTL).Unix()
	tok, err := callback.Sign(s.CallbackKey, callback.Claims{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, Expires: exp})
	if err != nil {
		return actions.Callback{}, err
	}
	return actions.Callback{URL: s.CallbackURL + tok, Token: tok, Expires: exp}, nil
}

// errStartRefused marks an execution the engine would not start (unknown
// workflow, bad input): no retry can change that.
var errStartRefused = errors.New("execution refused")

// calleeDef is the definition a sub-workflow runs: the parent's own file when
// it defines the callee, else the callee's current registered definition, as
// Mistral resolves sub-workflows by name among all registered workflows.
func (s *Service) calleeDef(ctx context.Context, parentDef, workflow string) (string, error) {
	if doc, err := (defs{s}).Doc(ctx, parentDef); err == nil {
		if _, err := doc.Workflow(workflow); err == nil {
			return parentDef, nil
		}
	}
	def, err := s.Store.Definition(ctx, workflow)
	if err != nil {
		return "", err
	}
	return def.DefID, nil
}

// ErrIdempotencyMismatch: an idempotency key was reused for a different request.
var ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")

// Callback errors.
var (
	ErrCallbackRejected = errors.New("callback rejected")
	ErrCallbackStale    = errors.New("callback for an attempt that is no longer running")
)

// Callback completes a delegate action from a signed token.
func (s *Service) Callback(ctx context.Context, token string, ok bool, output any, errMsg string) error {
	c, err := callback.Verify(s.CallbackKey, token, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCallbackRejected, err)
	}
	if err := s.attemptRunning(ctx, c); err != nil {
		return err
	}
	return s.HandleResult(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, OK: ok, Output: output, Error: errMsg})
}

// Heartbeat keeps a delegate action's attempt alive: its watchdog deadline
// moves to now+extend. A stale attempt gets ErrCallbackStale.
func (s *Service) Heartbeat(ctx context.Context, token string, extend time.Duration) error {
	c, err := callback.Verify(s.CallbackKey, token, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCallbackRejected, err)
	}
	_, err = s.apply(ctx, c.Exec, "heartbeat", func() (*engine.Plan, error) {
		return s.Engine.Heartbeat(ctx, s.reader(), c.Exec, c.Task, c.Slot, c.Attempt, extend)
	})
	if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("%w: %v", ErrCallbackStale, err)
	}
	return err
}

func (s *Service) attemptRunning(ctx context.Context, c callback.Claims) error {
	if c.Slot >= 0 {
		sl, err := s.Store.Slot(ctx, c.Exec, c.Task, c.Slot)
		if err != nil {
			return err
		}
		if sl == nil || sl.State != engine.Running || sl.Attempt != c.Attempt {
			return ErrCallbackStale
		}
		return nil
	}
	t, err := s.Store.Task(ctx, c.Exec, c.Task)
	if err != nil {
		return err
	}
	if t == nil || t.State != engine.Running || t.Attempt != c.Attempt {
		return ErrCallbackStale
	}
	return nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "ex-" + hex.EncodeToString(b[:])
}

func hashKey(s string) string { return engine.DefID([]byte(s)) }

// DeadLetter handles a message that a queue gave up on. A task message
// becomes an error result of its attempt (so retry and on-error apply); a
// result or timer message that could not be applied fails its execution
// with a reason. Either way nothing stays RUNNING forever.
func (s *Service) DeadLetter(ctx context.Context, body []byte) error {
	var c engine.Command
	if json.Unmarshal(body, &c) == nil && c.Kind == engine.RunAction && c.Exec != "" {
		s.Log.Error("action message dead-lettered", "execution_id", c.Exec, "task", c.Task, "attempt", c.Attempt)
		return s.HandleResult(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt,
			Error: "the action's message could not be processed and was moved to the dead-letter queue"})
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		s.Log.Error("undecodable dead letter dropped", "body", string(body[:min(len(body), 300)]))
		return nil
	}
	exec := ""
	switch {
	case m.Result != nil:
		exec = m.Result.Exec
	case m.Timer != nil:
		exec = m.Timer.Exec
	}
	if exec == "" {
		return nil
	}
	s.Log.Error("engine message dead-lettered; failing execution", "execution_id", exec)
	_, err := s.apply(ctx, exec, "dead-letter", func() (*engine.Plan, error) {
		return s.Engine.Fail(ctx, s.reader(), exec, "a message of this execution could not be processed and was moved to the dead-letter queue")
	})
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	return err
}
