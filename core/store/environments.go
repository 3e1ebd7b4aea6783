package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// Environment is a named set of variables an execution may be started
// with (Mistral's environments): env() reads them, in the order the client
// gave them, as Mistral's JSON column keeps them.
type Environment struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Variables   *value.Map `json:"variables,omitempty"`
	Scope       string     `json:"scope,omitempty"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
}

// ValidEnvName refuses a name an environment cannot be kept or found by.
func ValidEnvName(name string) error {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("invalid environment name %q (it must be non-empty, without \"/\"): %w", name, engine.ErrInvalidInput)
	}
	return nil
}

// PutEnvironment implements Store.
func (p *Portable) PutEnvironment(ctx context.Context, env *Environment, create bool) error {
	if env == nil {
		return fmt.Errorf("put environment: none given: %w", engine.ErrInvalidInput)
	}
	if err := ValidEnvName(env.Name); err != nil {
		return err
	}
	return p.d.PutEnvironment(ctx, env, create)
}

// Environment implements Store.
func (p *Portable) Environment(ctx context.Context, name string) (*Environment, error) {
	var env *Environment
	var err error
	if ValidEnvName(name) == nil {
		env, err = p.d.Environment(ctx, name)
	}
	if err == nil && env == nil {
		err = fmt.Errorf("environment %q: %w", name, ErrNotFound)
	}
	return env, err
}

// ListEnvironments implements Store.
func (p *Portable) ListEnvironments(ctx context.Context) ([]*Environment, error) {
	return p.d.ListEnvironments(ctx)
}

// DeleteEnvironment implements Store.
func (p *Portable) DeleteEnvironment(ctx context.Context, name string) error {
	deleted := false
	var err error
	if ValidEnvName(name) == nil {
		deleted, err = p.d.DeleteEnvironment(ctx, name)
	}
	if err == nil && !deleted {
		err = fmt.Errorf("environment %q: %w", name, ErrNotFound)
	}
	return err
}

// DeleteDefinition implements Store.
func (p *Portable) DeleteDefinition(ctx context.Context, name string) error {
	deleted, err := p.d.DeleteDefinition(ctx, name)
	if err == nil && !deleted {
		err = fmt.Errorf("workflow %q: %w", name, ErrNotFound)
	}
	return err
}

// DeleteExecution implements Store.
func (p *Portable) DeleteExecution(ctx context.Context, id string, force bool) error {
	e, err := p.Execution(ctx, id)
	if err != nil {
		return err
	}
	if e == nil {
		return fmt.Errorf("execution %s: %w", id, ErrNotFound)
	}
	finished := func(e *engine.Execution) bool { return force || e.State.Terminal() }
	if !finished(e) {
		return fmt.Errorf("execution %s is %s, not finished: %w", id, e.State, ErrConflict)
	}
	deleted, err := p.d.DeleteExecutionIf(ctx, id, finished)
	if err != nil {
		return fmt.Errorf("delete execution %s: %w", id, err)
	}
	if !deleted {
		// Gone or woken (a rerun) between the read and the delete.
		return fmt.Errorf("execution %s changed while being deleted: %w", id, ErrConflict)
	}
	return nil
}
