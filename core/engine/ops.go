package engine

import (
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

// An Op is one conditional write of a commit. A commit's ops succeed or fail
// together; when any condition fails the whole commit is refused with a
// conflict, and the host reloads and asks the engine again. The ops are few
// and fixed in kind so each store can map them to its own conditional writes
// (DynamoDB: one UpdateItem/PutItem, or TransactWriteItems for several).
type Op interface{ op() }

// PutExecution writes the head record if its stored version is IfVersion
// (0: must not exist yet). The stored version becomes IfVersion+1.
type PutExecution struct {
	Exec      *Execution
	IfVersion int64
}

// AddExecution changes the head's counters atomically without a version check,
// so parallel branches of one execution never conflict with each other. It
// fails when the execution's state is not IfState, which makes a completion
// computed for a running execution conflict with a concurrent pause or cancel.
type AddExecution struct {
	ID        string
	Active    int64
	Errors    int64
	ErrorInfo string // set if none is set yet
	Seq       int64
	// Spawned counts sub-workflow executions started under this root.
	Spawned int64
	IfState State
}

// SetState moves the head to State (with StateInfo) if its stored state is
// IfState, without a version check, and adds Active and Errors to its
// counters: the write of a control operation (cancel, pause, resume, rerun).
// It touches nothing else of the head, so it does not conflict with the
// counter adds (AddExecution) that parallel completions make, and a control
// operation wins however many of them run, in any process. Those
// completions, computed for the state it replaced, then conflict on their
// IfState and are computed again against the new state. It bumps the
// stored version, so a version-checked put computed before it conflicts.
type SetState struct {
	ID        string
	State     State
	StateInfo string
	IfState   State
	Active    int64
	Errors    int64
	Seq       int64
	// ClearErrorInfo forgets the first unhandled error (a rerun).
	ClearErrorInfo bool
	Updated        time.Time
}

// PutInput writes an execution's input, once, beside its head: the input
// never changes, so hosts may cache it, and the head that every step reads
// and writes stays small however big the input is.
type PutInput struct {
	Exec  string
	Input *value.Map
}

// PutTask writes a task record if its stored version is IfVersion (0: must not exist).
type PutTask struct {
	Task      *Task
	IfVersion int64
}

// AddItems counts finished with-items items atomically; it requires the task
// to be running.
type AddItems struct {
	Exec, Key    string
	Done, Failed int64
}

// PutArrival records that the branch ending in task From reached join Join,
// with its outbound context, as a record of its own. It fails if that branch
// already arrived, so an arrival is counted once however often its result is
// applied.
type PutArrival struct {
	Exec, Join, From string
	Ctx              *value.Map
}

// CountArrival adds Count() to the join record's arrival count (creating
// the record, WAITING, if needed) and bumps its version, so a firing
// decided on an older count conflicts. It comes with a PutArrival per
// arrival it counts.
type CountArrival struct {
	Exec, Key, Name string
	// N is how many arrivals it counts: several branches of one step that
	// arrive at one join are one write of its record (0 counts one).
	N int64
}

// Count is how many arrivals o counts.
func (o CountArrival) Count() int64 { return max(o.N, 1) }

// PutSlot writes a with-items slot if its stored version is IfVersion (0: must not exist).
type PutSlot struct {
	Slot      *Slot
	IfVersion int64
}

// PutLeaf records a branch end (idempotent: same Seq, same content).
type PutLeaf struct{ Leaf *Leaf }

// versionHolds is the condition of the versioned puts: the record's stored
// version is ifVersion, where 0 means the record must not exist yet.
func versionHolds(exists bool, stored, ifVersion int64) bool {
	if !exists {
		return ifVersion == 0
	}
	return stored == ifVersion
}

// Holds reports whether the op's condition holds against the stored head
// (nil: absent).
func (o PutExecution) Holds(stored *Execution) bool {
	if stored == nil {
		return versionHolds(false, 0, o.IfVersion)
	}
	return versionHolds(true, stored.Version, o.IfVersion)
}

// Holds reports whether the op's condition holds against the stored task
// (nil: absent).
func (o PutTask) Holds(stored *Task) bool {
	if stored == nil {
		return versionHolds(false, 0, o.IfVersion)
	}
	return versionHolds(true, stored.Version, o.IfVersion)
}

// Holds reports whether the op's condition holds against the stored slot
// (nil: absent).
func (o PutSlot) Holds(stored *Slot) bool {
	if stored == nil {
		return versionHolds(false, 0, o.IfVersion)
	}
	return versionHolds(true, stored.Version, o.IfVersion)
}

// Holds reports whether the op's condition holds against the stored head:
// it exists and is in state IfState.
func (o AddExecution) Holds(stored *Execution) bool {
	return stored != nil && stored.State == o.IfState
}

// Holds reports whether the op's condition holds against the stored head:
// it exists and is in state IfState.
func (o SetState) Holds(stored *Execution) bool {
	return stored != nil && stored.State == o.IfState
}

// Apply changes stored as the op does (the caller checked Holds).
func (o SetState) Apply(stored *Execution) {
	stored.State, stored.StateInfo = o.State, o.StateInfo
	stored.Active += o.Active
	stored.Errors += o.Errors
	stored.Seq += o.Seq
	if o.ClearErrorInfo {
		stored.ErrorInfo = ""
	}
	if !o.Updated.IsZero() {
		stored.Updated = o.Updated
	}
	stored.Version++
}

// Holds reports whether the op's condition holds against the stored task:
// it exists and is RUNNING.
func (o AddItems) Holds(stored *Task) bool { return stored != nil && stored.State == Running }

func (PutExecution) op() {}
func (PutInput) op()     {}
func (AddExecution) op() {}
func (SetState) op()     {}
func (PutTask) op()      {}
func (AddItems) op()     {}
func (PutArrival) op()   {}
func (CountArrival) op() {}
func (PutSlot) op()      {}
func (PutLeaf) op()      {}

// Command is something the host carries out after a commit. Commands carry
// deterministic ids so carrying one out twice is harmless.
type Command struct {
	Kind CommandKind `json:"kind"`

	Exec    string `json:"exec"`
	Task    string `json:"task,omitempty"` // task key
	Slot    int    `json:"slot"`           // with-items index, -1 for a plain task
	From    string `json:"from,omitempty"` // CheckJoin: the arriving task's key; Pause/ResumeWorkflow: the execution it comes from
	Attempt int    `json:"attempt,omitempty"`
	// Need (CheckJoin) is how many arrivals fire the join, known when the
	// arrival was scheduled; 0 (an older outbox) means look it up.
	Need int `json:"need,omitempty"`

	// RunAction
	Action   string     `json:"action,omitempty"`
	Input    *value.Map `json:"input,omitempty"`
	Deadline int        `json:"deadline,omitempty"` // seconds the action may run before the watchdog fails it
	// PastEnd: the action runs although the execution has ended, as it was
	// started in the same step as the fail/succeed command that ended it.
	PastEnd bool `json:"past_end,omitempty"`

	// StartTimer
	Timer TimerKind `json:"timer,omitempty"`
	Delay float64   `json:"delay,omitempty"` // seconds
	Due   int64     `json:"due,omitempty"`   // watchdog: the deadline (unix milliseconds) it enforces

	// StartWorkflow
	Workflow string `json:"workflow,omitempty"`
	DefID    string `json:"def_id,omitempty"`
	ChildID  string `json:"child_id,omitempty"`

	// ReportParent / StartWorkflow input
	Result *Result `json:"result,omitempty"`
}

// CommandKind names what a command asks for.
type CommandKind string

// Command kinds.
const (
	RunAction      CommandKind = "run_action"      // send the action to a runner
	StartTimer     CommandKind = "start_timer"     // deliver a Timer back to the engine after Delay
	StartWorkflow  CommandKind = "start_workflow"  // start a sub-workflow execution
	ReportParent   CommandKind = "report_parent"   // deliver Result to the parent execution
	CheckJoin      CommandKind = "check_join"      // decide whether the join Task fires
	CheckItems     CommandKind = "check_items"     // decide whether the with-items Task is finished
	CancelWorkflow CommandKind = "cancel_workflow" // cancel the (sub-workflow) execution Exec, if it still runs
	// PauseWorkflow and ResumeWorkflow spread a pause or resume to the
	// execution Exec, a sub-workflow or the parent of From (as in Mistral).
	PauseWorkflow  CommandKind = "pause_workflow"
	ResumeWorkflow CommandKind = "resume_workflow"
	Finished       CommandKind = "finished" // the execution reached a terminal state
)

// TimerKind says what a timer is for.
type TimerKind string

// Timer kinds.
const (
	TimerRetry      TimerKind = "retry"
	TimerWaitBefore TimerKind = "wait_before"
	TimerWaitAfter  TimerKind = "wait_after"
	TimerTimeout    TimerKind = "timeout"
	TimerWatchdog   TimerKind = "watchdog"
	TimerStartPage  TimerKind = "start_page" // the next page of first tasks (Attempt: its first index)
	TimerEndTasks   TimerKind = "end_tasks"  // the next page of a cancelled execution's live tasks (Task: the last key ended)
)

// Result is the outcome of one action attempt. Errors are ordinary results.
type Result struct {
	Exec    string `json:"exec"`
	Task    string `json:"task"`
	Slot    int    `json:"slot"`
	Attempt int    `json:"attempt"`
	OK      bool   `json:"ok"`
	Output  any    `json:"output,omitempty"`
	Error   string `json:"error,omitempty"`
	// Interrupted: the action did not end; its runner was lost (a stopped
	// process, the watchdog). A task with safe-rerun runs it again.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Timer is a timer coming back.
type Timer struct {
	Exec    string    `json:"exec"`
	Task    string    `json:"task"`
	Slot    int       `json:"slot"`
	Attempt int       `json:"attempt"`
	Kind    TimerKind `json:"kind"`
	Due     int64     `json:"due,omitempty"` // watchdog: the deadline it was set for
}
