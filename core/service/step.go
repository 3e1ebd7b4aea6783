package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// HandleMessage handles one result-queue message. An error means the message
// should come back (the step did not commit).
func (s *Service) HandleMessage(ctx context.Context, body []byte) error {
	s.arm(ctx, func(o *outbox) string { return o.results })
	var m Message
	if err := decodeJSON(body, &m); err != nil {
		return fmt.Errorf("%w: decode result message: %v", ErrPoison, err)
	}
	return s.handleMessage(ctx, m)
}

func (s *Service) handleMessage(ctx context.Context, m Message) error {
	switch {
	case m.Result != nil:
		return s.TaskComplete(ctx, *m.Result)
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

// ErrGone marks (with ErrPoison) a message about work that has ended or no
// longer exists: recovery after a crash re-sends such messages, so giving
// one up is routine, not an operator's business.
var ErrGone = errors.New("the work this message is about has ended")

// TaskComplete is the result step: it applies one result of a task's
// attempt (an action's, a sub-workflow's end, a delegate's callback, or the
// error result of a dead-lettered action) as one engine step, committed
// conditionally and then carried out. A result for an execution that no
// longer exists is ErrPoison: no retry can apply it.
func (s *Service) TaskComplete(ctx context.Context, r engine.Result) error {
	_, err := s.taskComplete(ctx, r)
	return err
}

// taskComplete is TaskComplete, returning the plan it committed: its
// Duplicate tells whether this result was the one applied or one that found
// the attempt already settled.
func (s *Service) taskComplete(ctx context.Context, r engine.Result) (*engine.Plan, error) {
	p, err := s.apply(ctx, r.Exec, "result", func() (*engine.Plan, error) { return s.Engine.TaskComplete(ctx, s.reader(), r) })
	if errors.Is(err, store.ErrTooLarge) && r.OK {
		// A result the store cannot hold fails its task with a clear error;
		// retrying the same message would only fail the same way.
		s.Log.Warn("result too large for the store; failing the task", "execution_id", r.Exec, "task", r.Task, "err", err)
		r.OK, r.Output = false, nil
		r.Error = fmt.Sprintf("the action's result is too large to store: %v", err)
		p, err = s.apply(ctx, r.Exec, "result", func() (*engine.Plan, error) { return s.Engine.TaskComplete(ctx, s.reader(), r) })
	}
	if errors.Is(err, engine.ErrNotFound) {
		return p, fmt.Errorf("%w: %w: %w", ErrPoison, ErrGone, err)
	}
	return p, err
}

// purged reports whether execution id no longer exists: only a purge
// deletes one, and it deletes only finished executions, so nothing of its
// work is left to carry out.
func (s *Service) purged(ctx context.Context, id string) bool {
	e, err := s.Store.Execution(ctx, id)
	return err == nil && e == nil
}

// apply runs one engine step to a committed plan and carries it out.
func (s *Service) apply(ctx context.Context, execID, kind string, fn func() (*engine.Plan, error)) (*engine.Plan, error) {
	limit := s.maxConflicts(ctx)
	// The limit is this step's: the steps its commands set off retry as usual.
	ctx = context.WithValue(ctx, ownApplyKey{}, nil)
	// The budget is taken before the commit: with an outbox, the commit
	// leaves out the messages of the actions this step runs inline.
	ctx = s.WithInlineBudget(ctx)
	ack, ctx := takeAck(ctx)
	for round := 0; ; round++ {
		p, sent, err := s.decide(ctx, execID, kind, fn, ack)
		if p == nil {
			return nil, err
		}
		if len(p.Ops) > 0 {
			if errors.Is(err, store.ErrConflict) && round < limit {
				backoff(ctx, round)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s for execution %s: commit: %w", kind, execID, err)
			}
			s.step(kind, len(p.Ops))
		}
		return p, s.carryRest(ctx, execID, p, sent)
	}
}

// decide computes one step and commits it inside the execution's gate. It
// returns a nil plan when the step could not be computed, else the plan,
// what of its commands went with the commit, and the commit's error.
func (s *Service) decide(ctx context.Context, execID, kind string, fn func() (*engine.Plan, error), ack *Ack) (*engine.Plan, *sentWith, error) {
	defer s.gates.enter(execID, kind)()
	p, err := fn()
	if err != nil {
		return nil, nil, err
	}
	if len(p.Ops) > 0 {
		sent, err := s.commit(ctx, p, ack)
		return p, sent, err
	}
	return p, nil, nil
}

// sentWith tells carryRest what a commit through the outbox did with the
// plan's sending commands: those not marked inline went with the commit and
// must not be sent again; those marked run here.
type sentWith struct {
	inline []bool // by command index
}

// carried reports whether command i of a plan committed as sent is
// carried out by carryRest, and whether it runs inline.
func (w *sentWith) carried(i int, c engine.Command) (carry, inline bool) {
	if w == nil || c.Kind != engine.RunAction && c.Kind != engine.StartTimer {
		return true, false
	}
	in := i < len(w.inline) && w.inline[i]
	return in, in
}

// commit commits a plan's ops. With an outbox (UseOutbox) its run-action
// messages and timers are committed with them, and the result says so:
// they are on their queues exactly when the records are, and carryRest
// must not send them again. A trivial action within the inline budget gets
// no message: it runs here once the commit returns, as it does without an
// outbox, and if the process dies first its attempt is pending and
// unclaimed, which recovery (Recover, Sweep) sends again. ack, if not nil,
// is acknowledged with the commit when the commit leaves nothing to carry.
func (s *Service) commit(ctx context.Context, p *engine.Plan, ack *Ack) (*sentWith, error) {
	if s.outbox == nil {
		return nil, s.Store.Commit(ctx, p.Ops)
	}
	var msgs []store.Outgoing
	w := &sentWith{}
	for i, c := range p.Commands {
		if s.inline(ctx, c) {
			if w.inline == nil {
				w.inline = make([]bool, len(p.Commands))
			}
			w.inline[i] = true
			continue
		}
		m, ok, err := s.outgoing(c)
		if err != nil {
			return w, err
		}
		if ok {
			msgs = append(msgs, m)
		}
	}
	folded := ack != nil && completes(p, w)
	if folded {
		msgs = append(msgs, ack.outgoing())
	}
	if err := s.outbox.store.CommitSending(ctx, p.Ops, msgs); err != nil {
		return w, err
	}
	if folded {
		ack.done = true
	}
	return w, nil
}

// outgoing is the message a command sends, if it is one that sends.
func (s *Service) outgoing(c engine.Command) (store.Outgoing, bool, error) {
	switch c.Kind {
	case engine.RunAction:
		body, err := actionMessage(c)
		return store.Outgoing{Queue: s.outbox.tasks, Body: body}, err == nil, err
	case engine.StartTimer:
		d := time.Duration(c.Delay * float64(time.Second))
		body, d, err := timerMessage(timerOf(c), d, time.Now().Add(d))
		if err != nil {
			return store.Outgoing{}, false, err
		}
		return store.Outgoing{Queue: s.outbox.results, Body: body, Delay: d}, true, nil
	}
	return store.Outgoing{}, false, nil
}

// outbox is where a step's messages go with its commit.
type outbox struct {
	store          store.Outbox
	tasks, results string
}

// UseOutbox commits each step's run-action messages and timers in the
// transaction of its records (a transactional outbox), on the queues named
// tasks and results in the store's own database, which must be the queues
// Tasks and Results consume. It fails if the store cannot (store.Outbox).
func (s *Service) UseOutbox(tasks, results string) error {
	ob, ok := s.Store.(store.Outbox)
	if !ok || !ob.CanSend(tasks) || !ob.CanSend(results) {
		return fmt.Errorf("use outbox: the store's database does not hold the queues %q and %q", tasks, results)
	}
	s.outbox = &outbox{store: ob, tasks: tasks, results: results}
	return nil
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

// carry carries out a committed plan's commands: the actions for runners
// first, in as few sends as the queue allows, then the rest in order, with
// trivial actions run inline within the invocation's budget.
func (s *Service) carry(ctx context.Context, execID string, p *engine.Plan) error {
	return s.carryRest(ctx, execID, p, nil)
}

// carryRest is carry, leaving out the sends the commit carried (the
// outbox, sent not nil) and running inline the actions it left to this.
func (s *Service) carryRest(ctx context.Context, execID string, p *engine.Plan, sent *sentWith) error {
	ctx = s.WithInlineBudget(ctx)
	var errs []error
	var bodies [][]byte
	rest := make([]engine.Command, 0, len(p.Commands))
	for i, c := range p.Commands {
		carry, inline := sent.carried(i, c)
		if !carry {
			continue
		}
		if c.Kind != engine.RunAction || inline || sent == nil && s.inline(ctx, c) {
			rest = append(rest, c)
			continue
		}
		body, err := actionMessage(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bodies = append(bodies, body)
	}
	if err := s.sendTasks(ctx, bodies); err != nil {
		errs = append(errs, err)
	}
	for _, c := range rest {
		var err error
		if c.Kind == engine.RunAction {
			err = s.runInline(ctx, c)
		} else {
			err = s.command(ctx, c)
		}
		if err != nil {
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
		body, err := actionMessage(c)
		if err != nil {
			return err
		}
		return s.Tasks.Send(ctx, body, 0)
	case engine.StartTimer:
		d := time.Duration(c.Delay * float64(time.Second))
		return s.sendTimer(ctx, timerOf(c), d, time.Now().Add(d))
	case engine.CheckJoin:
		_, err := s.apply(ctx, c.Exec, "join", func() (*engine.Plan, error) {
			return s.Engine.CheckJoin(ctx, s.reader(), c.Exec, c.Task, c.From, c.Need)
		})
		return err
	case engine.CheckItems:
		_, err := s.apply(ctx, c.Exec, "items", func() (*engine.Plan, error) { return s.Engine.CheckItems(ctx, s.reader(), c.Exec, c.Task) })
		return err
	case engine.StartWorkflow:
		return s.startChild(ctx, c)
	case engine.CancelWorkflow:
		_, err := s.apply(ctx, c.Exec, "cancel", func() (*engine.Plan, error) { return s.Engine.Cancel(ctx, s.reader(), c.Exec) })
		return ignoreNotRunning(err) // already finished, or never started
	case engine.PauseWorkflow:
		_, err := s.apply(ctx, c.Exec, "pause", func() (*engine.Plan, error) { return s.Engine.PauseWith(ctx, s.reader(), c.Exec, c.From) })
		return ignoreNotRunning(err) // paused already, finished, or never started
	case engine.ResumeWorkflow:
		return s.resumeWorkflow(ctx, c)
	case engine.ReportParent:
		if c.Result == nil {
			return nil
		}
		return s.TaskComplete(ctx, *c.Result)
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

// ignoreNotRunning drops the error of a control step whose execution is
// not in a state it applies to (or does not exist): the command asked for
// something that has already happened or can no longer matter.
func ignoreNotRunning(err error) error {
	if errors.Is(err, engine.ErrInvalidState) || errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	return err
}

// startChild starts the sub-workflow a StartWorkflow command names, under
// its deterministic id, so a re-sent command finds the child it started.
func (s *Service) startChild(ctx context.Context, c engine.Command) error {
	root, depth := c.Exec, 1
	var env *value.Map
	if head, err := s.Store.Execution(ctx, c.Exec); err == nil && head != nil {
		if head.Root != "" {
			root = head.Root
		}
		depth = head.Depth + 1
		// Mistral 23.0.0 passes the parent's env on to its sub-workflows.
		env = head.Env
	}
	defID, err := s.calleeDef(ctx, c.DefID, c.Workflow)
	if err == nil {
		_, _, err = s.startID(ctx, c.ChildID, engine.StartParams{ID: c.ChildID, DefID: defID, Workflow: c.Workflow,
			Input: c.Input, Env: env, Parent: c.Exec, ParentTask: c.Task, ParentAttempt: c.Attempt, ParentSlot: c.Slot, Root: root, Depth: depth})
	}
	if errors.Is(err, errStartRefused) || errors.Is(err, store.ErrNotFound) {
		// A child that cannot start (unknown workflow, bad input) is an
		// error result of the parent's task. Any other failure (the child
		// exists but a send failed, the store was unavailable) is retried
		// with the message.
		return s.TaskComplete(ctx, engine.Result{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt,
			Error: fmt.Sprintf("start sub-workflow %s: %v", c.Workflow, err)})
	}
	return err
}

// resumeWorkflow resumes an execution on a command: a parent resumed with
// its paused child (From set: the child ended or resumed), or a child
// resumed with its parent.
func (s *Service) resumeWorkflow(ctx context.Context, c engine.Command) error {
	_, err := s.apply(ctx, c.Exec, "resume", func() (*engine.Plan, error) {
		if c.From != "" {
			return s.Engine.ResumeAfterChild(ctx, s.reader(), c.Exec)
		}
		return s.Engine.Resume(ctx, s.reader(), c.Exec)
	})
	if err != nil {
		return ignoreNotRunning(err)
	}
	// As Service.Resume does: runners dropped its actions while paused.
	return s.Recover(ctx, c.Exec)
}

// sendTasks sends run-action messages to the task queue, batched when the
// queue can.
func (s *Service) sendTasks(ctx context.Context, bodies [][]byte) error {
	if b, ok := s.Tasks.(BatchSender); ok && len(bodies) > 1 {
		return b.SendBatch(ctx, bodies)
	}
	var errs []error
	for _, body := range bodies {
		if err := s.Tasks.Send(ctx, body, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) sendTimer(ctx context.Context, t engine.Timer, d time.Duration, due time.Time) error {
	body, d, err := timerMessage(t, d, due)
	if err != nil {
		return err
	}
	return s.Results.Send(ctx, body, d)
}

// actionMessage is the task-queue message of a RunAction command.
func actionMessage(c engine.Command) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode action of task %s: %w", c.Task, err)
	}
	return body, nil
}

func timerOf(c engine.Command) engine.Timer {
	return engine.Timer{Exec: c.Exec, Task: c.Task, Slot: c.Slot, Attempt: c.Attempt, Kind: c.Timer, Due: c.Due}
}

// timerMessage is the result-queue message of timer t due in d (at due),
// and the delay to send it with: at most MaxDelay, the rest chained.
func timerMessage(t engine.Timer, d time.Duration, due time.Time) ([]byte, time.Duration, error) {
	m := Message{Timer: &t}
	if d > MaxDelay {
		d, m.Due = MaxDelay, due
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, 0, fmt.Errorf("encode timer of task %s: %w", t.Task, err)
	}
	return body, d, nil
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
	if errors.Is(err, engine.ErrNotFound) && s.purged(ctx, id) {
		// Another step (a sweep's) finalised it since the read above and a
		// short retention purged it: it ended, as this check wanted.
		return nil
	}
	return err
}
