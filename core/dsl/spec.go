package dsl

import "github.com/lazyflow/lazyflow/core/expr"

// Pos is a place in a definition file.
type Pos struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// Workflow types.
const (
	Direct  = "direct"
	Reverse = "reverse"
)

// Engine commands usable in transitions.
const (
	CmdFail    = "fail"
	CmdSucceed = "succeed"
	CmdPause   = "pause"
	CmdNoop    = "noop" // Mistral's fourth reserved name: a transition that does nothing
)

// Publish scopes of the extended publish / publish-on-error form.
const (
	ScopeBranch = "branch"
	ScopeGlobal = "global"
	ScopeAtomic = "atomic"
)

// Join kinds.
const (
	JoinNone  = ""      // not a join
	JoinAll   = "all"   // every inbound task must arrive
	JoinCount = "count" // N inbound tasks must arrive (Join.N)
	JoinOne   = "one"   // the first arrival fires
)

// Document is a loaded file: one or more workflows and ad-hoc actions.
type Document struct {
	Version   string               `json:"version"`
	Name      string               `json:"name,omitempty"` // workbook name, "" for a plain workflow file
	Workflows map[string]*Workflow `json:"-"`
	Order     []string             `json:"-"` // workflow names in file order
	Actions   map[string]*Action   `json:"-"`
	Source    []byte               `json:"-"` // the YAML text, kept so hosts can store and reload it
	// Warnings are things Mistral accepts and Lazyflow runs the same way,
	// but that look like mistakes (an unknown workflow key, a '<%' never
	// closed); the document is valid.
	Warnings Errors `json:"-"`
}

// Param is one declared input of a workflow or ad-hoc action.
type Param struct {
	Name       string
	HasDefault bool
	Default    *expr.Value
}

// Workflow is one compiled workflow.
type Workflow struct {
	Name          string
	Pos           Pos
	Type          string // Direct or Reverse
	Description   string
	Input         []Param
	Output        *expr.Value
	OutputOnError *expr.Value
	Vars          *expr.Value // map
	Tasks         map[string]*Task
	TaskOrder     []string // task names in file order
	Tags          []string

	// Compiled graph (direct workflows).
	StartTasks []string            // tasks with no inbound transition, in file order
	Inbound    map[string][]string // task -> tasks that have a transition to it (deduplicated, file order)

	spec *specView // what Spec shows, built on first use
}

// Task is one compiled task, with task-defaults already merged in.
type Task struct {
	Name        string
	Pos         Pos
	Description string

	Action   string // action name, "" when Workflow is set
	Workflow string // sub-workflow name
	// NameExpr is set when action: or workflow: is one expression that names
	// the callee at run time (Mistral allows workflow: <% $.name %>); Action or
	// Workflow then holds the expression text.
	NameExpr *expr.Value
	Input    *expr.Value // map; for the inline form "std.echo output=hi" the parsed parameters are merged here

	// What the task publishes when it succeeds (Publish, PublishGlobal) or
	// fails (PublishOnError, PublishOnErrorGlobal), in the branch and in the
	// workflow's variables: its own publish or publish-on-error merged with
	// its on-clauses' publishes as Mistral merges them (mergeClausePublish).
	Publish              *expr.Value
	PublishGlobal        *expr.Value
	PublishOnError       *expr.Value
	PublishOnErrorGlobal *expr.Value
	// clausePub are the publishes of the on-clauses' advanced form
	// (on-success: {publish: ..., next: ...}), which mergeClausePublish
	// merges into the four fields above (and then clears: only loading reads them).
	clausePub [3]clausePublish

	OnSuccess     []Transition
	OnError       []Transition
	OnComplete    []Transition
	OnSkip        []Transition // Mistral's on-skip, taken when the task is skipped
	PublishOnSkip *expr.Value

	Join     string // JoinNone, JoinAll, JoinCount, JoinOne
	JoinN    int    // for JoinCount
	Requires []string

	WithItems   []WithItem
	Concurrency *expr.Value // int

	Retry         *Retry
	Timeout       *expr.Value // seconds
	WaitBefore    *expr.Value // seconds
	WaitAfter     *expr.Value // seconds
	PauseBefore   *expr.Value // bool
	KeepResult    *expr.Value // bool, default true
	SafeRerun     bool
	Target        *expr.Value
	FailOn        *expr.Value // condition: fail the task when true even if the action succeeded (Mistral fail-on)
	Tags          []string
	SafeRerunExpr *expr.Value // set when safe-rerun is an expression rather than a literal

	spec        *specView // what Spec shows, built on first use
	specType    string    // the workflow's type, which Spec shows
	joinPos     Pos       // where join is written, for graph errors
	requiresPos Pos
}

// WithItem is one "x in <% list %>" clause of with-items.
type WithItem struct {
	Var  string
	List *expr.Value
}

// Retry is the retry policy.
type Retry struct {
	Count      *expr.Value // extra attempts after the first
	Delay      *expr.Value // seconds
	BreakOn    *expr.Value // condition; stop retrying when true
	ContinueOn *expr.Value // condition; keep retrying (even on success) while true
}

// Transition is one entry of on-success / on-error / on-complete.
type Transition struct {
	Pos       Pos
	Task      string      // target task; "" when Command is set
	Command   string      // CmdFail, CmdSucceed, CmdPause or ""
	Msg       *expr.Value // for commands: msg="..."
	Condition *expr.Value // nil means always
}

// Action is an ad-hoc action defined in a workbook's actions: section.
type Action struct {
	Name      string
	Pos       Pos
	Base      string
	BaseInput *expr.Value // map, evaluated with the ad-hoc action's input as $
	Input     []Param
	Output    *expr.Value // evaluated with the base action's result as $
}
