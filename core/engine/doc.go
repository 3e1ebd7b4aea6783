// Package engine is Lazyflow's lazy workflow engine: it has no thread and no
// memory of its own. Each operation (Start, Complete, Fire, CheckJoin,
// CheckItems, Finalize, Pause, Resume, Cancel, Rerun) reads what it needs of
// one execution through a Reader, and returns a Plan: conditional writes (Ops)
// to commit atomically, and Commands to carry out after the commit.
//
// The engine never writes. A host (the embedded service, or the Lambda
// functions) commits the plan; if the store reports a conflict, the host
// simply asks again with fresh state. Because the engine is deterministic
// over what it reads, any number of hosts may work on one execution at once.
//
// Cost per step is constant: a completion reads the execution's head, the
// finished task and, for each successor, at most one record, and writes only
// those. Nothing rewrites a growing history.
//
// Counting: Execution.Active is the number of live units of work (task
// executions not finished). It moves only by atomic adds committed together
// with the work they count, so once it is zero it stays zero, and any host
// that observes zero may finalise the execution (Finalize is itself
// conditional on the head's version).
package engine
