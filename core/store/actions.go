package store

import (
	"context"
	"fmt"
	"time"
)

// ActionDef is a user action: a named action bound to a Lambda function or
// an HTTP endpoint, with the input names it takes, registered at run time
// (POST /actions) rather than compiled into the runner. Deleting one keeps
// a tombstone (Deleted), so a delete needs no more than the write
// permission every host already has.
type ActionDef struct {
	Name string `json:"name"`
	// Kind is how it runs: "http" (POST the input as JSON to Target) or
	// "lambda" (invoke function Target with the input as payload).
	Kind        string    `json:"kind"`
	Target      string    `json:"target"`
	Required    []string  `json:"required,omitempty"`
	Optional    []string  `json:"optional,omitempty"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Deleted     bool      `json:"deleted,omitempty"`
}

// ActionPK is the partition of user actions; like DefPK it cannot collide
// with an execution id.
const ActionPK = "~act"

// ActionPrefix starts the sort key of every user action.
const ActionPrefix = "N#"

// ActionSK is the sort key of user action name.
func ActionSK(name string) string { return ActionPrefix + name }

// PutAction implements Store.
func (p *Portable) PutAction(ctx context.Context, a *ActionDef) error {
	if a == nil || a.Name == "" {
		return fmt.Errorf("put action: no name: %w", ErrInvalidAction)
	}
	return p.d.PutAction(ctx, a)
}

// Action implements Store: ErrNotFound for a name never registered or
// deleted.
func (p *Portable) Action(ctx context.Context, name string) (*ActionDef, error) {
	a, err := p.d.Action(ctx, name)
	if err != nil {
		return nil, err
	}
	if a == nil || a.Deleted {
		return nil, fmt.Errorf("action %s: %w", name, ErrNotFound)
	}
	return a, nil
}

// ListActions implements Store: the actions not deleted, by name.
func (p *Portable) ListActions(ctx context.Context) ([]*ActionDef, error) {
	all, err := p.d.ListActions(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if !a.Deleted {
			out = append(out, a)
		}
	}
	return out, nil
}

// DeleteAction implements Store: it leaves a tombstone; ErrNotFound when
// there is nothing to delete.
func (p *Portable) DeleteAction(ctx context.Context, name string) error {
	a, err := p.Action(ctx, name)
	if err != nil {
		return err
	}
	t := *a
	t.Deleted, t.Updated = true, time.Now().UTC()
	return p.d.PutAction(ctx, &t)
}
