package engine

import (
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

// State is the state of an execution, a task execution or an action attempt,
// with Mistral's names.
type State string

// Mistral's states.
const (
	Idle           State = "IDLE"
	Waiting        State = "WAITING"
	Running        State = "RUNNING"
	RunningDelayed State = "RUNNING_DELAYED"
	Paused         State = "PAUSED"
	Success        State = "SUCCESS"
	Error          State = "ERROR"
	Cancelled      State = "CANCELLED"
)

// Terminal reports whether nothing more can happen in state s (short of a rerun).
func (s State) Terminal() bool { return s == Success || s == Error || s == Cancelled }

// Execution is the head record of one workflow execution. It stays small: the
// per-task records live beside it, so a completion never rewrites history.
type Execution struct {
	ID        string     `json:"id"`
	Workflow  string     `json:"workflow"`
	DefID     string     `json:"def_id"` // content hash of the definition source the execution runs
	State     State      `json:"state"`
	StateInfo string     `json:"state_info,omitempty"`
	Input     *value.Map `json:"input,omitempty"` // kept apart from the head by stores: see PutInput
	Vars      *value.Map `json:"vars,omitempty"`  // workflow vars, then global-scope publishes, in the order set
	Env       *value.Map `json:"env,omitempty"`
	Output    any        `json:"output,omitempty"`
	Target    string     `json:"target,omitempty"` // reverse workflows: the task to reach

	// A sub-workflow knows the task that started it, so its end can complete that task.
	Parent        string `json:"parent,omitempty"`
	ParentTask    string `json:"parent_task,omitempty"`
	ParentAttempt int    `json:"parent_attempt,omitempty"`
	ParentSlot    int    `json:"parent_slot"` // with-items item of the parent task (-1: none)
	Root          string `json:"root,omitempty"`
	// Depth is how many sub-workflow levels lie above this execution (0:
	// a root); Engine.MaxDepth bounds it.
	Depth int `json:"depth,omitempty"`
	// StartsNext is the index of the next page of first tasks to start
	// (0: all started); see StartPage.
	StartsNext int `json:"starts_next,omitempty"`

	// Active counts units of work that can still change the execution: task
	// executions not yet finished plus join arrivals not yet resolved. It is
	// changed only by atomic adds in the same commit that creates or finishes
	// the work, so Active == 0 is stable and whoever sees it may finalise.
	Active    int64  `json:"active"`
	Errors    int64  `json:"errors"`               // unhandled task errors
	ErrorInfo string `json:"error_info,omitempty"` // state_info of the first unhandled error
	Seq       int64  `json:"seq"`                  // task start counter, for ordering
	// Spawned (a root's) counts the sub-workflow executions started in its
	// tree; Engine.MaxSpawned bounds it.
	Spawned int64 `json:"spawned,omitempty"`

	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	RequestHash    string    `json:"request_hash,omitempty"` // what the idempotent request asked for
	Version        int64     `json:"version"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// Pending is why a task waits: what a RUNNING_DELAYED task's next step
// waits for, or that a WAITING record is a join gathering arrivals. The
// delays carry the name of the timer that ends them, so a timer fires only
// the wait it was set for. Stored as is (a JSON string).
type Pending string

// Why a task waits.
const (
	PendingNone       Pending = ""                       // not waiting
	PendingWaitBefore Pending = Pending(TimerWaitBefore) // wait-before delay, then the first attempt
	PendingRetry      Pending = Pending(TimerRetry)      // retry delay, then the next attempt
	PendingWaitAfter  Pending = Pending(TimerWaitAfter)  // wait-after delay, then the task finishes
	PendingPaused     Pending = "paused"                 // held by its own pause-before until Resume
	PendingJoin       Pending = "join"                   // a join record waiting for its branches (written by stores)
)

// Task is one task execution. A task that runs again in a cycle gets a new
// record with a new key (name, name#2, ...).
type Task struct {
	Exec      string     `json:"exec"`
	Key       string     `json:"key"`
	Name      string     `json:"name"`
	State     State      `json:"state"`
	StateInfo string     `json:"state_info,omitempty"`
	Ctx       *value.Map `json:"ctx,omitempty"`       // branch-scope data the task started with, in publication order
	Published *value.Map `json:"published,omitempty"` // what the task published, in the clause's order
	Result    any        `json:"result,omitempty"`
	HasResult bool       `json:"has_result,omitempty"`
	Attempt   int        `json:"attempt"`           // current action attempt, from 1
	Claimed   int        `json:"claimed,omitempty"` // highest attempt a runner has claimed
	Reruns    int        `json:"reruns,omitempty"`  // attempts run again by safe-rerun, not counted by retry
	// Deadline (unix milliseconds) is when the running attempt's watchdog may
	// fail it; a delegate's heartbeat moves it later. 0: as dispatched.
	Deadline int64 `json:"deadline,omitempty"`
	// TimeoutAt (unix milliseconds) is when the task's timeout policy ends
	// this run; its timer carries the same value.
	TimeoutAt int64   `json:"timeout_at,omitempty"`
	Seq       int64   `json:"seq"`
	Pending   Pending `json:"pending,omitempty"` // why a RUNNING_DELAYED/WAITING task waits

	// with-items
	Items       int   `json:"items,omitempty"`
	Concurrency int   `json:"concurrency,omitempty"`
	Done        int64 `json:"done,omitempty"`   // items finished with success
	Failed      int64 `json:"failed,omitempty"` // items finished with error

	// join
	Arrived int64  `json:"arrived,omitempty"` // branches arrived (their contexts are separate records: Reader.Arrivals)
	Fired   bool   `json:"fired,omitempty"`
	FiredBy string `json:"fired_by,omitempty"` // the arrival whose check fired it

	// Outbox holds the commands decided by the step that last wrote this
	// record, so a host that crashed before carrying them out can do so again
	// when the input of that step is redelivered.
	Outbox []Command `json:"outbox,omitempty"`

	Version  int64     `json:"version"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
}

// Slot is one item of a with-items task.
type Slot struct {
	Exec      string    `json:"exec"`
	Task      string    `json:"task"`
	Index     int       `json:"index"`
	State     State     `json:"state"`
	StateInfo string    `json:"state_info,omitempty"`
	Attempt   int       `json:"attempt"`
	Claimed   int       `json:"claimed,omitempty"`
	Deadline  int64     `json:"deadline,omitempty"` // as Task.Deadline
	Result    any       `json:"result,omitempty"`
	Rerun     bool      `json:"rerun,omitempty"`  // started again by Rerun: its window successor already ran
	Outbox    []Command `json:"outbox,omitempty"` // commands of the step that last wrote the slot
	Version   int64     `json:"version"`
}

// Leaf records the outbound context of a task after which its branch ended;
// the workflow's final context is built from these when it finishes.
type Leaf struct {
	Exec string     `json:"exec"`
	Seq  int64      `json:"seq"`
	Task string     `json:"task"`
	Ctx  *value.Map `json:"ctx,omitempty"`
	// Error is the state_info of an unhandled task error that ended the
	// branch; Finalize picks the execution's state_info among these.
	Error string `json:"error,omitempty"`
	// ErrorOnly: the branch went on (on-complete) after the unhandled
	// error; the leaf records the error alone, not a branch end, so the
	// state_info Finalize picks does not depend on which error arrived
	// first.
	ErrorOnly bool `json:"error_only,omitempty"`
}

// Definition is a stored workflow source (a file that may hold several workflows).
type Definition struct {
	Name    string    `json:"name"` // workflow name
	DefID   string    `json:"def_id"`
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}
