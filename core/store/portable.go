package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// Driver is what a database driver implements: the storage itself, without
// the checks every driver must make. Hosts never use a Driver directly;
// Open wraps it in a Portable, which makes those checks once and hands the
// driver only arguments that passed them (as go-cloud's docstore does over
// its driver.Collection).
type Driver interface {
	// The engine.Reader methods are called with valid execution ids only.
	engine.Reader

	// Commit is Store.Commit for a non-empty list of known ops whose
	// execution ids are valid. The records an op creates beyond what it
	// carries (a join's, an arrival's) and the conditions it checks are the
	// engine's (engine/records.go, the ops' Holds methods).
	Commit(ctx context.Context, ops []engine.Op) error

	// ClaimAttempt is Store.ClaimAttempt; the rule is engine.Task.Claimable
	// (engine.Slot.Claimable for a slot), checked atomically with the write.
	ClaimAttempt(ctx context.Context, p ClaimParams) error

	// PutDefinition is Store.PutDefinition.
	PutDefinition(ctx context.Context, def *engine.Definition) error
	// Definition returns nil, nil when workflow name has no definition.
	Definition(ctx context.Context, name string) (*engine.Definition, error)
	// DefinitionByID returns nil, nil when no definition has content id id.
	DefinitionByID(ctx context.Context, id string) (*engine.Definition, error)
	// ListDefinitions is Store.ListDefinitions.
	ListDefinitions(ctx context.Context) ([]*engine.Definition, error)
	// DefinitionNames is Store.DefinitionNames.
	DefinitionNames(ctx context.Context, limit int) ([]string, error)
	// PutAction is Store.PutAction, tombstones included.
	PutAction(ctx context.Context, a *ActionDef) error
	// Action returns nil, nil when user action name was never stored; a
	// deleted one comes back with Deleted set.
	Action(ctx context.Context, name string) (*ActionDef, error)
	// ListActions lists every user action record, tombstones included.
	ListActions(ctx context.Context) ([]*ActionDef, error)

	// ListExecutions returns up to p.Limit (1 to MaxListLimit) executions
	// newest first, filtered, starting after p.Cursor, which is "" or the
	// Next of an earlier page as the driver returned it (the driver's own
	// index key, raw: Portable encodes it for callers).
	ListExecutions(ctx context.Context, p ListParams) (*ExecutionPage, error)

	// PurgeCandidates calls yield with the id of each execution that may be
	// Purgeable before before, oldest first as far as the driver's indexes
	// allow, until yield reports false or an error (which it returns). It
	// may yield executions that are not purgeable: the rule is checked again
	// when each is deleted.
	PurgeCandidates(ctx context.Context, before time.Time, yield func(id string) (more bool, err error)) error
	// DeleteExecutionIf deletes execution id with every record it owns if
	// its head, read at the time of the delete, satisfies cond, and reports
	// whether it did. A driver deletes the head last or atomically with the
	// rest, so a delete cut short is finished by the next purge.
	DeleteExecutionIf(ctx context.Context, id string, cond func(*engine.Execution) bool) (bool, error)

	// DeleteDefinition deletes the definition by name of workflow name (not
	// the one by content id) and reports whether there was one.
	DeleteDefinition(ctx context.Context, name string) (bool, error)

	// PutEnvironment is Store.PutEnvironment for a valid name, the check
	// and the write atomic: ErrConflict (create) or ErrNotFound (update).
	PutEnvironment(ctx context.Context, env *Environment, create bool) error
	// Environment returns nil, nil when there is no environment name.
	Environment(ctx context.Context, name string) (*Environment, error)
	// ListEnvironments returns every environment, by name.
	ListEnvironments(ctx context.Context) ([]*Environment, error)
	// DeleteEnvironment deletes environment name and reports whether there was one.
	DeleteEnvironment(ctx context.Context, name string) (bool, error)

	Close() error
}

// MaxListLimit is the largest page ListExecutions returns; DefaultListLimit
// is the page size when ListParams.Limit is 0 or out of range.
const (
	MaxListLimit     = 1000
	DefaultListLimit = 100
)

// Purgeable reports whether PurgeExecutions may delete execution e:
// finished (SUCCESS, ERROR, CANCELLED) and last updated before before. An
// execution that is running, paused or idle is never purgeable, however old.
func Purgeable(e *engine.Execution, before time.Time) bool {
	return e != nil && e.State.Terminal() && e.Updated.Before(before)
}

// Portable is the Store over a Driver: it validates arguments, applies the
// defaults and runs the loops every driver would otherwise repeat, then
// delegates. It implements StatusReader, through the driver's when it has
// one.
type Portable struct {
	d Driver
}

var (
	_ Store        = (*Portable)(nil)
	_ StatusReader = (*Portable)(nil)
)

// Open returns the Store over d.
func Open(d Driver) *Portable { return &Portable{d: d} }

// opExec returns the execution id op writes to, and false for an op this
// package does not know (a driver could not write it either).
func opExec(op engine.Op) (string, bool) {
	switch o := op.(type) {
	case engine.PutExecution:
		if o.Exec == nil {
			return "", true
		}
		return o.Exec.ID, true
	case engine.AddExecution:
		return o.ID, true
	case engine.SetState:
		return o.ID, true
	case engine.PutInput:
		return o.Exec, true
	case engine.PutTask:
		if o.Task == nil {
			return "", true
		}
		return o.Task.Exec, true
	case engine.AddItems:
		return o.Exec, true
	case engine.PutArrival:
		return o.Exec, true
	case engine.CountArrival:
		return o.Exec, true
	case engine.PutSlot:
		if o.Slot == nil {
			return "", true
		}
		return o.Slot.Exec, true
	case engine.PutLeaf:
		if o.Leaf == nil {
			return "", true
		}
		return o.Leaf.Exec, true
	}
	return "", false
}

// Commit implements Store.
func (p *Portable) Commit(ctx context.Context, ops []engine.Op) error {
	if len(ops) == 0 {
		return nil
	}
	if err := CheckOps(ops); err != nil {
		return err
	}
	return p.d.Commit(ctx, ops)
}

// CheckOps makes Commit's checks of a list of ops (known ops, valid
// execution ids), for drivers that commit ops by another way (Outbox).
func CheckOps(ops []engine.Op) error {
	for _, op := range ops {
		id, known := opExec(op)
		if !known {
			return fmt.Errorf("commit: unknown op %T", op)
		}
		if err := ValidID(id); err != nil {
			return fmt.Errorf("commit %T: %w", op, err)
		}
	}
	return nil
}

// ClaimAttempt implements Store.
func (p *Portable) ClaimAttempt(ctx context.Context, c ClaimParams) error {
	return p.d.ClaimAttempt(ctx, c)
}

// Execution implements engine.Reader: an invalid id names no execution.
func (p *Portable) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	if ValidID(id) != nil {
		return nil, nil
	}
	return p.d.Execution(ctx, id)
}

// ExecutionStatus implements StatusReader.
func (p *Portable) ExecutionStatus(ctx context.Context, id string) (Status, bool, error) {
	if ValidID(id) != nil {
		return Status{}, false, nil
	}
	return ReadStatus(ctx, p.d, id)
}

// Input implements engine.Reader.
func (p *Portable) Input(ctx context.Context, exec string) (*value.Map, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Input(ctx, exec)
}

// Task implements engine.Reader.
func (p *Portable) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Task(ctx, exec, key)
}

// Tasks implements engine.Reader.
func (p *Portable) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Tasks(ctx, exec)
}

// TasksAfter implements engine.Reader.
func (p *Portable) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	if ValidID(exec) != nil || limit <= 0 {
		return nil, nil
	}
	return p.d.TasksAfter(ctx, exec, after, limit)
}

// Slot implements engine.Reader.
func (p *Portable) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Slot(ctx, exec, task, i)
}

// Slots implements engine.Reader.
func (p *Portable) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Slots(ctx, exec, task)
}

// Arrivals implements engine.Reader.
func (p *Portable) Arrivals(ctx context.Context, exec, join string) (map[string]*value.Map, error) {
	if ValidID(exec) != nil {
		return map[string]*value.Map{}, nil
	}
	return p.d.Arrivals(ctx, exec, join)
}

// Leaves implements engine.Reader.
func (p *Portable) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	if ValidID(exec) != nil {
		return nil, nil
	}
	return p.d.Leaves(ctx, exec)
}

// PutDefinition implements Store.
func (p *Portable) PutDefinition(ctx context.Context, def *engine.Definition) error {
	if def == nil {
		return fmt.Errorf("put definition: none given: %w", engine.ErrInvalidInput)
	}
	return p.d.PutDefinition(ctx, def)
}

// Definition implements Store.
func (p *Portable) Definition(ctx context.Context, name string) (*engine.Definition, error) {
	d, err := p.d.Definition(ctx, name)
	if err == nil && d == nil {
		err = fmt.Errorf("workflow %q: %w", name, ErrNotFound)
	}
	return d, err
}

// DefinitionByID implements Store.
func (p *Portable) DefinitionByID(ctx context.Context, id string) (*engine.Definition, error) {
	d, err := p.d.DefinitionByID(ctx, id)
	if err == nil && d == nil {
		err = fmt.Errorf("definition %s: %w", id, ErrNotFound)
	}
	return d, err
}

// ListDefinitions implements Store.
func (p *Portable) ListDefinitions(ctx context.Context) ([]*engine.Definition, error) {
	return p.d.ListDefinitions(ctx)
}

// DefinitionNames implements Store.
func (p *Portable) DefinitionNames(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	return p.d.DefinitionNames(ctx, limit)
}

// ListExecutions implements Store. Cursors are opaque to callers: the
// driver's index key, hex-encoded so it travels in a URL unchanged.
func (p *Portable) ListExecutions(ctx context.Context, lp ListParams) (*ExecutionPage, error) {
	if lp.Limit <= 0 || lp.Limit > MaxListLimit {
		lp.Limit = DefaultListLimit
	}
	if lp.Cursor != "" {
		b, err := hex.DecodeString(lp.Cursor)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("list executions: bad cursor: %w", engine.ErrInvalidInput)
		}
		lp.Cursor = string(b)
	}
	page, err := p.d.ListExecutions(ctx, lp)
	if err != nil {
		return nil, err
	}
	if page.Next != "" {
		page.Next = hex.EncodeToString([]byte(page.Next))
	}
	return page, nil
}

// PurgeExecutions implements Store: the driver finds candidates, and each
// is deleted only if it is Purgeable when its delete runs (a rerun may have
// woken it since it was found).
func (p *Portable) PurgeExecutions(ctx context.Context, pp PurgeParams) (int, error) {
	purgeable := func(e *engine.Execution) bool { return Purgeable(e, pp.Before) }
	n := 0
	err := p.d.PurgeCandidates(ctx, pp.Before, func(id string) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if ValidID(id) != nil {
			return true, nil
		}
		deleted, err := p.d.DeleteExecutionIf(ctx, id, purgeable)
		if err != nil {
			return false, fmt.Errorf("purge execution %s: %w", id, err)
		}
		if deleted {
			n++
		}
		return pp.Max <= 0 || n < pp.Max, nil
	})
	if err != nil {
		return n, fmt.Errorf("purge executions: %w", err)
	}
	return n, nil
}

// Close implements Store.
func (p *Portable) Close() error { return p.d.Close() }
