package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

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
func (b *builder) joinRound(name string, rec *Task, ctx *value.Map) (string, int64, string, error) {
	t, ok := b.wf.Tasks[name]
	if !ok || b.graph.joinNeed(b.wf, t) == 0 {
		return name, 0, "", nil
	}
	rounds, _ := value.AsGoMap(ctx.Value(roundsKey))
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
func withRound(ctx *value.Map, name string, n int64) *value.Map {
	out := copyMap(ctx)
	out.Set(roundsKey, roundsWith(ctx, name, n))
	return out
}

// roundsWith is a copy of ctx's join rounds with round n of join name.
func roundsWith(ctx *value.Map, name string, n int64) *value.Map {
	rounds := copyMap(ctx.Value(roundsKey))
	rounds.Set(name, n)
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
func knowsRound(ctx *value.Map, task string) bool {
	rounds, ok := value.AsMap(ctx.Value(roundsKey))
	return ok && rounds.Value(task) != nil
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
