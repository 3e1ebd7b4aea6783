package service

import (
	"hash/fnv"
	"sync"
)

// gates give an execution's control steps (cancel, pause, resume, rerun)
// priority over its other steps in this process. A control step reads and
// rewrites many records under version checks; without priority, a stream
// of completions and claims, each a small write that bumps a version it
// checks, makes it conflict on every round until it gives up. Steps hold
// their execution's gate shared while they compute and commit (not while
// they carry out commands, which may step other executions or this one
// again); a control step holds it exclusively, and a waiting control step
// keeps new steps out, so it runs as soon as the steps in flight commit.
// Across processes, which share no gate, a control step wins because its
// head write (engine.SetState) does not conflict with the counter adds of
// completions; the gate spares it the conflicts on the other records some
// control steps write (a resume's held tasks, which an arrival at a held
// join may bump). Nothing relies on it for correctness: it saves retries,
// and costs a shared lock per step.
// Gates are striped by execution id: a fixed set, however many executions.
type gates [64]sync.RWMutex

// controlKinds are the steps that take the gate exclusively.
var controlKinds = map[string]bool{"cancel": true, "pause": true, "resume": true, "rerun": true}

// enter takes execution id's gate, exclusively for a control step, and
// returns its release.
func (g *gates) enter(id, kind string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	m := &g[h.Sum32()%uint32(len(g))]
	if controlKinds[kind] {
		m.Lock()
		return m.Unlock
	}
	m.RLock()
	return m.RUnlock
}
