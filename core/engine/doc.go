// Package engine is Lazyflow's lazy workflow engine: it has no thread and no
// memory of its own. Each operation (Start, TaskComplete, Fire, CheckJoin,
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
//
// The result of an action attempt goes through one chain, whoever delivers
// it (a runner's result, a timer, a sub-workflow's end):
//
//   - TaskComplete checks that the result is for the attempt the task is
//     waiting on (a duplicate or late one changes nothing) and routes a
//     with-items item to itemResult;
//   - settleResult decides what the attempt's outcome means for the task:
//     another attempt (retry, safe-rerun), a wait-after delay, or the end;
//   - finishTask ends the task: publishes, then follows its transitions
//     (engine commands, successors, join arrivals) and ends its unit of work.
//
// Fire re-enters the chain at the step a timer stands for, and the
// with-items and join checks (CheckItems, CheckJoin) end in finishTask.
//
// Files hold the engine by role: engine.go (Engine, builder, loading and
// planning), start.go, schedule.go (starting a task's attempts),
// taskcomplete.go and retry.go (the chain above), transitions.go, join.go,
// items.go, timers.go, finalize.go (the execution's end), control.go
// (pause, resume, cancel, rerun, fail; their head write is a SetState),
// endpages.go (a cancelled execution's live tasks ended page by page),
// context.go and branchcontext.go (expression scopes and branch-context
// bookkeeping).
package engine
