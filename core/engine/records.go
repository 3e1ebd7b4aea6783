package engine

// The records below are the engine's: what a store writes for an op that
// creates a record the engine did not send whole, and when a runner may
// claim an attempt. Stores call these instead of restating the rules, so a
// driver written over another database keeps them by construction.

import "github.com/lazyflow/lazyflow/core/value"

// JoinRecord is the join task a CountArrival creates when it is the first
// arrival: WAITING on its join, with no arrival counted yet (the store adds
// the one this op counts). The engine fires it from a later step.
func (o CountArrival) JoinRecord() *Task {
	return &Task{Exec: o.Exec, Key: o.Key, Name: o.Name, State: Waiting, Pending: PendingJoin}
}

// Record is the arrival record a PutArrival writes: a leaf's shape, the task
// the branch came from and its outbound context (never nil, so an arrival
// with an empty context reads back as one).
func (o PutArrival) Record() *Leaf {
	c := o.Ctx
	if c == nil {
		c = value.NewMap(0)
	}
	return &Leaf{Exec: o.Exec, Task: o.From, Ctx: c}
}

// InputRecord is the record a PutInput writes. It has a leaf's shape (the
// input in ctx) so that records written as leaves read the same, and keeps
// the input's keys in the order the execution was given them.
type InputRecord struct {
	Exec  string     `json:"exec"`
	Input *value.Map `json:"ctx,omitempty"`
}

// Record is the input record a PutInput writes.
func (o PutInput) Record() *InputRecord { return &InputRecord{Exec: o.Exec, Input: o.Input} }

// Claimable reports whether a runner may claim attempt of the task: it is
// RUNNING at that attempt, not waiting for anything (a retry's or wait's
// timer, a join), and no runner claimed that attempt yet. A claim succeeds
// once per attempt, so an action delivered twice runs once.
func (t *Task) Claimable(attempt int) bool {
	return t.State == Running && t.Pending == "" && t.Attempt == attempt && t.Claimed < attempt
}

// Claimable reports whether a runner may claim attempt of the with-items
// slot: it is RUNNING at that attempt and no runner claimed it yet.
func (s *Slot) Claimable(attempt int) bool {
	return s.State == Running && s.Attempt == attempt && s.Claimed < attempt
}

// KeepClaim carries the stored record's claim into t, which replaces it:
// claims are written by runners, never by the engine, so a write computed
// from an older read must not take a claim back.
func (t *Task) KeepClaim(stored *Task) {
	if stored != nil && stored.Claimed > t.Claimed {
		t.Claimed = stored.Claimed
	}
}

// KeepClaim is Task.KeepClaim for a with-items slot.
func (s *Slot) KeepClaim(stored *Slot) {
	if stored != nil && stored.Claimed > s.Claimed {
		s.Claimed = stored.Claimed
	}
}
