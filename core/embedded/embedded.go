// Package embedded runs the whole service in one process: the engine host
// and a pool of runners, over any store and in-process queues. `lazyflow
// run` uses it with the memory store to run one workflow and wait for its
// end — a synchronous runner built on the lazy engine, not a second engine.
// `lazyflow serve` (functions/local) uses it with the durable stores.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/queue"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// Options configures a Host.
type Options struct {
	Store   store.Store
	Actions *actions.Registry
	Log     *slog.Logger
	// Tasks and Results default to in-memory queues with SQS semantics.
	Tasks, Results queue.Queue
	Runners        int // concurrent actions (default 16)
	Engines        int // concurrent engine steps (default 4)
	// Visibility is how long a received message stays hidden (default 30s).
	Visibility time.Duration
	// MaxReceives sends a message to the dead-letter handling after this many receives (default 5).
	MaxReceives int
}

// Host is a running in-process service.
type Host struct {
	*service.Service
	tasks, results queue.Queue
	opt            Options
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	// Runners stop receiving when stopRunners is cancelled (Drain) and
	// finish what they hold; runnersWG counts them.
	stopRunners context.CancelFunc
	runnersWG   sync.WaitGroup

	mu      sync.Mutex
	waiters map[string][]chan *engine.Execution
	// DeadLetters counts messages given up on after MaxReceives.
	DeadLetters int
}

// New builds a host; call Run to start its workers.
func New(opt Options) *Host {
	if opt.Runners <= 0 {
		opt.Runners = 16
	}
	if opt.Engines <= 0 {
		opt.Engines = 4
	}
	if opt.Visibility <= 0 {
		opt.Visibility = 30 * time.Second
	}
	if opt.MaxReceives <= 0 {
		opt.MaxReceives = 5
	}
	if opt.Actions == nil {
		opt.Actions = actions.New()
	}
	if opt.Tasks == nil {
		opt.Tasks = queue.NewMemory(queue.MemoryOptions{Visibility: opt.Visibility})
	}
	if opt.Results == nil {
		opt.Results = queue.NewMemory(queue.MemoryOptions{Visibility: opt.Visibility})
	}
	svc := service.New(opt.Store, opt.Actions, opt.Log)
	svc.Tasks, svc.Results = opt.Tasks, opt.Results
	h := &Host{Service: svc, tasks: opt.Tasks, results: opt.Results, opt: opt, waiters: map[string][]chan *engine.Execution{}}
	svc.OnFinished = h.finished
	return h
}

// Run starts the workers; they stop when ctx ends or Close is called.
func (h *Host) Run(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	recv, stop := context.WithCancel(ctx)
	h.stopRunners = stop
	for i := 0; i < h.opt.Engines; i++ {
		h.wg.Add(1)
		go h.loop(ctx, ctx, h.results, 10, h.Service.HandleMessage)
	}
	for i := 0; i < h.opt.Runners; i++ {
		h.wg.Add(1)
		h.runnersWG.Add(1)
		go func() {
			defer h.runnersWG.Done()
			h.loop(ctx, recv, h.tasks, 1, h.Service.RunTask)
		}()
	}
}

// Drain lets the actions that are running finish and report, taking no new
// ones, until they are done (it returns true) or ctx ends (false); Close
// then stops the rest. A graceful shutdown uses it so that a restart does
// not cut short every action in flight. Engine steps go on meanwhile, so
// the drained actions' results are applied (or kept by a durable queue for
// the next start).
func (h *Host) Drain(ctx context.Context) bool {
	if h.stopRunners == nil {
		return true
	}
	h.stopRunners()
	done := make(chan struct{})
	go func() { h.runnersWG.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// Close stops the workers and waits for them.
func (h *Host) Close() {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
}

// loop is one consumer, handling messages as the Lambda event source would:
// delete on success, leave for redelivery on error, give up on poison or
// after MaxReceives.
// recv ends receiving (a drain) while ctx still lets the handler finish.
func (h *Host) loop(ctx, recv context.Context, q queue.Queue, batch int, handle func(context.Context, []byte) error) {
	defer h.wg.Done()
	for recv.Err() == nil {
		msgs, err := q.Receive(recv, batch, time.Second)
		if err != nil {
			if recv.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return
			}
			h.Log.Error("receive", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if len(msgs) == 1 {
			h.handle(ctx, q, msgs[0], handle)
			continue
		}
		// A result step may run a chain of inline actions: handled one
		// after another, the batch's last message would wait for all the
		// chains before it. Steps of one execution handled at once are
		// ordered by the store's conditional writes, as across workers.
		var batchWG sync.WaitGroup
		for _, m := range msgs {
			batchWG.Add(1)
			go func() { defer batchWG.Done(); h.handle(ctx, q, m, handle) }()
		}
		batchWG.Wait()
	}
}

// handle handles one message and settles it with its queue.
func (h *Host) handle(ctx context.Context, q queue.Queue, m queue.Message, handle func(context.Context, []byte) error) {
	// With an outbox, the handler's last write may delete the message.
	hctx, ack := service.Consuming(ctx, m.Receipt)
	err := handle(hctx, m.Body)
	switch {
	case err == nil && ack.Done():
	case err == nil:
		_ = q.Delete(ctx, m.Receipt)
	case errors.Is(err, service.ErrPoison) || m.Receives >= h.opt.MaxReceives:
		h.mu.Lock()
		h.DeadLetters++
		h.mu.Unlock()
		h.Log.Log(ctx, givenUpLevel(err), "message given up", "err", err, "receives", m.Receives, "body", truncate(string(m.Body), 300))
		// As the dlq function does on AWS: the attempt or execution the
		// message was about fails, rather than staying RUNNING forever.
		if derr := h.Service.DeadLetter(ctx, m.Body); derr != nil {
			h.Log.Error("dead letter not applied", "err", derr)
		}
		_ = q.Delete(ctx, m.Receipt)
	default:
		h.Log.Warn("message will be retried", "err", err, "receives", m.Receives)
		_ = q.ChangeVisibility(ctx, m.Receipt, time.Duration(m.Receives)*50*time.Millisecond)
	}
}

// givenUpLevel is the log level of a message given up with err: INFO when
// the work it is about is gone (crash recovery re-sends such messages),
// ERROR when it cannot be read at all, WARN when it kept failing, since
// DeadLetter then fails its attempt or execution and logs that.
func givenUpLevel(err error) slog.Level {
	switch {
	case errors.Is(err, service.ErrGone):
		return slog.LevelInfo
	case errors.Is(err, service.ErrPoison):
		return slog.LevelError
	}
	return slog.LevelWarn
}

// DeadLetterCount is how many messages were given up on.
func (h *Host) DeadLetterCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.DeadLetters
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (h *Host) finished(e *engine.Execution) {
	h.mu.Lock()
	ws := h.waiters[e.ID]
	delete(h.waiters, e.ID)
	h.mu.Unlock()
	for _, w := range ws {
		w <- e
	}
}

// Wait blocks until execution id is in a terminal state (or PAUSED, when
// stopOnPause), or ctx ends.
func (h *Host) Wait(ctx context.Context, id string, stopOnPause bool) (*engine.Execution, error) {
	ch := make(chan *engine.Execution, 1)
	h.mu.Lock()
	h.waiters[id] = append(h.waiters[id], ch)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[id]
		for i, w := range ws {
			if w == ch {
				h.waiters[id] = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(h.waiters[id]) == 0 {
			delete(h.waiters, id)
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		e, err := h.Store.Execution(ctx, id)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, fmt.Errorf("execution %s: %w", id, store.ErrNotFound)
		}
		if e.State.Terminal() || stopOnPause && e.State == engine.Paused {
			return e, nil
		}
		select {
		case <-ctx.Done():
			return e, ctx.Err()
		case <-ch:
		case <-tick.C:
		}
	}
}

// Settle blocks until no action of ended execution id that was started
// with the fail/succeed command that ended it is still running, or ctx
// ends. Mistral runs those actions (on-error: [notify, fail] notifies) and
// records their outcome after the workflow's end; a synchronous run waits
// for them rather than abandon them. Actions a runner had claimed in other
// branches when the execution ended are not waited for: their outcome is
// recorded when they report, but nothing asked for them past the end.
func (h *Host) Settle(ctx context.Context, id string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ts, err := h.Store.Tasks(ctx, id)
		if err != nil {
			return fmt.Errorf("settle %s: %w", id, err)
		}
		if !outliving(ts) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func outliving(ts []*engine.Task) bool {
	for _, t := range ts {
		if t.State != engine.Running {
			continue
		}
		for _, c := range engine.AttemptCommands(t, nil, t.Attempt) {
			if c.PastEnd {
				return true
			}
		}
	}
	return false
}
