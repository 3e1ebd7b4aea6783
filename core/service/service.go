// Package service is the host around the lazy engine: it loads state from a
// store, asks the engine what to do, commits the plan with conditional
// writes (reloading and recomputing on a conflict), and then carries out the
// plan's commands over queues. The Lambda functions and the embedded local
// mode are thin adapters over this package, so both behave the same.
//
// How a result travels: a runner takes a run-action message from the task
// queue (RunTask), claims the attempt, runs the action and puts the result
// on the result queue (SendResult). The engine host takes that message
// (HandleMessage) and calls TaskComplete, the result step: the engine reads
// the records it needs and returns a plan, the records to write and the
// commands that follow. The plan is committed as one conditional write; if
// another step changed a record first, the commit conflicts and the step is
// computed again from the new state, so no result is applied twice or lost.
// Only after the commit are the plan's commands carried out (carry): the
// next tasks' run-action messages, timers, sub-workflow starts, the parent's
// report. A host that dies between commit and carry loses nothing: the
// commands stay in the records' outboxes and recovery (Recover, Sweep)
// sends them again, and runners claim each attempt once.
//
// Trivial actions (std.noop, std.echo, std.fail) skip the queues: carry
// runs them where it is, as a runner would but unclaimed, and applies their
// results at once, within a budget per invocation (InlineSteps). A runner
// may likewise apply its own result (RunnerApplies); a result applied where
// it was produced falls back to the result queue when its commit fails.
//
// Files by role: service.go (Service, New, queues and messages),
// definitions.go, executions.go (Start), control.go (pause, resume, cancel,
// rerun), step.go (applying and carrying out engine plans, TaskComplete),
// inline.go (trivial actions run inline, results applied where they are
// produced), runner.go, callbacks.go (delegate actions), recovery.go (Recover, Sweep,
// Purge), deadletter.go, queries.go (reads for front ends), gate.go (control
// steps go before an execution's other steps in this process). Package
// servicetest holds checks every store driver runs through the service.
package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// Sender is the sending side of a queue.
type Sender interface {
	Send(ctx context.Context, body []byte, delay time.Duration) error
}

// decodeJSON decodes a queue message keeping whole numbers whole, as the
// store does: an action's output 3 must stay 3, not become 3.0.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(v)
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

// BatchSender is a Sender that sends several messages in fewer requests
// (SQS's SendMessageBatch); carry uses it when a step sends several actions.
type BatchSender interface {
	Sender
	SendBatch(ctx context.Context, bodies [][]byte) error
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
	// InlineSteps is how many trivial actions (actions.Registry.Trivial)
	// one invocation runs inline, with their results applied at once,
	// before it sends the next to the task queue; 0 sends them all.
	InlineSteps int
	// RunnerApplies makes RunTask apply the action's result itself (the
	// same TaskComplete, with the same conditional writes) instead of
	// sending it to the result queue, which it still uses for a large
	// result and when applying fails (conflict, throttling).
	RunnerApplies bool
	// OnFinished, if set, is told when an execution reaches a terminal state.
	OnFinished func(e *engine.Execution)
	// OnStep, if set, is told of each committed step (for accounting and tests).
	OnStep func(kind string, ops int)

	outbox *outbox  // set by UseOutbox
	defs   sync.Map // def id -> *dsl.Document
	inputs inputCache
	gates  gates
}

// inputCache keeps executions' inputs, which never change, so an engine step
// does not read and decode a large input again (a with-items over a long
// list would otherwise pay for the whole list on every item).
type inputCache struct {
	mu sync.Mutex
	m  map[string]*value.Map
}

// maxCachedInputs bounds the cache; when full it starts again empty.
const maxCachedInputs = 4096

type cachedReader struct {
	store.Store
	c *inputCache
}

func (r cachedReader) Input(ctx context.Context, exec string) (*value.Map, error) {
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
		r.c.m = map[string]*value.Map{}
	}
	r.c.m[exec] = in
	r.c.mu.Unlock()
	return in, nil
}

// reader is what the engine reads through.
func (s *Service) reader() engine.Reader { return cachedReader{Store: s.Store, c: &s.inputs} }

// New wires a service; the caller sets queues and options.
func New(st store.Store, reg *actions.Registry, log *slog.Logger) *Service {
	s := &Service{Store: st, Actions: reg, Log: log, MaxConflicts: 50, InlineSteps: DefaultInlineSteps, CallbackTTL: 24 * time.Hour}
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
