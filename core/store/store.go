// Package store defines what Lazyflow needs from a database: the engine's
// Reader, an atomic conditional Commit of the engine's ops, and the few
// queries the API and the runners make.
//
// Hosts use a Store; a database implements the narrower Driver, and Open
// puts the portable layer (Portable) in front of it, which makes the checks
// every driver would otherwise repeat (execution ids, list limits and
// cursors, the purge loop, not-found errors). Every driver keys its records
// by the one scheme in keys.go and leaves the engine's rules (records.go in
// package engine) to the engine. Drivers: kvstore's memory driver (tests
// and `lazyflow run`), boltstore (the durable embedded default) and,
// outside core, the DynamoDB driver; each constructor returns its driver
// already opened. Every driver passes the suite in storetest.
//
// Drivers return the sentinel errors below, never a raw database error, so
// hosts can decide what to retry.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
)

// Sentinel errors every driver returns (wrapped with context).
var (
	// ErrConflict: a condition of a commit or claim failed; reload and recompute.
	ErrConflict = errors.New("conflict")
	// ErrNotFound: the record does not exist.
	ErrNotFound = engine.ErrNotFound
	// ErrTooLarge: a value exceeds what the store accepts, even offloaded.
	ErrTooLarge = errors.New("value too large")
	// ErrInvalidAction: a user action record without a name.
	ErrInvalidAction = errors.New("invalid action")
	// ErrUnavailable: the database could not be reached or throttled us past
	// the retries; the operation may be retried later.
	ErrUnavailable = errors.New("store unavailable")
	// ErrCorrupt: a stored record cannot be decoded. Retrying does not help;
	// the record needs repair, so the error names it.
	ErrCorrupt = errors.New("stored record cannot be read")
)

// Store is what hosts use: a Driver behind Open.
type Store interface {
	engine.Reader

	// Commit applies ops atomically: all conditions hold and every op is
	// written, or nothing is written and the error wraps ErrConflict.
	Commit(ctx context.Context, ops []engine.Op) error

	// ClaimAttempt marks attempt of a task (slot < 0) or of one with-items
	// slot as taken by a runner. It succeeds once per attempt, and only while
	// the record is RUNNING at that attempt; otherwise ErrConflict.
	ClaimAttempt(ctx context.Context, p ClaimParams) error

	// PutDefinition stores a workflow source under its name (replacing the
	// previous one) and under its content id (never replaced: running
	// executions keep the definition they started with).
	PutDefinition(ctx context.Context, def *engine.Definition) error
	// Definition returns the current definition of a workflow name.
	Definition(ctx context.Context, name string) (*engine.Definition, error)
	// DefinitionByID returns a definition by content id.
	DefinitionByID(ctx context.Context, defID string) (*engine.Definition, error)
	ListDefinitions(ctx context.Context) ([]*engine.Definition, error)
	// DefinitionNames returns the first limit workflow names in name
	// order, read from the keys alone (no definition is decoded): it is
	// cheap enough for an error path, as ListDefinitions is not.
	DefinitionNames(ctx context.Context, limit int) ([]string, error)

	// PutAction stores a user action under its name, replacing the previous
	// one (its Created is kept).
	PutAction(ctx context.Context, a *ActionDef) error
	// Action returns user action name (ErrNotFound when absent or deleted).
	Action(ctx context.Context, name string) (*ActionDef, error)
	// ListActions lists the user actions that are not deleted.
	ListActions(ctx context.Context) ([]*ActionDef, error)
	// DeleteAction deletes user action name (ErrNotFound when absent).
	DeleteAction(ctx context.Context, name string) error

	// ListExecutions lists heads newest first, filtered, one page at a time.
	ListExecutions(ctx context.Context, p ListParams) (*ExecutionPage, error)

	// PurgeExecutions deletes finished executions (SUCCESS, ERROR,
	// CANCELLED) last updated before p.Before, with every record they own,
	// at most p.Max of them (0: no limit), oldest first, and returns how many
	// it deleted. An execution that is running, paused or idle is never
	// touched, however old.
	PurgeExecutions(ctx context.Context, p PurgeParams) (int, error)

	// DeleteDefinition removes workflow name's current definition; the
	// definition stays readable by content id, so executions already
	// running it go on. ErrNotFound when name has none.
	DeleteDefinition(ctx context.Context, name string) error
	// DeleteExecution deletes execution id with every record it owns. An
	// unfinished execution is refused with ErrConflict unless force is set.
	DeleteExecution(ctx context.Context, id string, force bool) error

	// PutEnvironment stores an environment. With create set, a name already
	// stored is refused with ErrConflict; without it, an unknown name is
	// ErrNotFound. Either way Created is kept from the stored one.
	PutEnvironment(ctx context.Context, env *Environment, create bool) error
	// Environment returns environment name, or ErrNotFound.
	Environment(ctx context.Context, name string) (*Environment, error)
	// ListEnvironments lists environments by name.
	ListEnvironments(ctx context.Context) ([]*Environment, error)
	// DeleteEnvironment deletes environment name, or returns ErrNotFound.
	DeleteEnvironment(ctx context.Context, name string) error

	Close() error
}

// ClaimParams names one action attempt.
type ClaimParams struct {
	Exec    string
	Task    string
	Slot    int
	Attempt int
}

// ListParams filters and pages ListExecutions.
type ListParams struct {
	Workflow string // "" for all
	State    engine.State
	Limit    int    // default 100
	Cursor   string // from the previous page
}

// PurgeParams selects the executions PurgeExecutions deletes.
type PurgeParams struct {
	Before time.Time
	Max    int
}

// ExecutionPage is one page of executions.
type ExecutionPage struct {
	Executions []*engine.Execution
	Next       string // "" on the last page
}

// Status is what a host checks before it runs an action or finalises an
// execution: its state and its count of unfinished work.
type Status struct {
	State  engine.State
	Active int64
}

// StatusReader is implemented by drivers that read an execution's Status
// without decoding the rest of its head (variables, environment, output),
// which a runner would otherwise copy once per action only to look at the
// state. Optional: ReadStatus falls back to the head.
type StatusReader interface {
	// ExecutionStatus reports ok == false when the execution does not exist.
	ExecutionStatus(ctx context.Context, id string) (st Status, ok bool, err error)
}

// ReadStatus returns the Status of execution id from r, through its
// StatusReader when it has one.
func ReadStatus(ctx context.Context, r engine.Reader, id string) (Status, bool, error) {
	if sr, ok := r.(StatusReader); ok {
		return sr.ExecutionStatus(ctx, id)
	}
	e, err := r.Execution(ctx, id)
	if err != nil || e == nil {
		return Status{}, false, err
	}
	return Status{State: e.State, Active: e.Active}, true, nil
}
