package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// User actions are named actions bound to a Lambda function or an HTTP
// endpoint, registered at run time (POST /actions) and kept in the store,
// so every host — the API that validates workflows, the runners that run
// them — sees the same ones without being rebuilt. Built-in and
// Go-registered actions take precedence: a user action cannot shadow them.

// FieldError is bad input that names the request field it is about.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes a FieldError an engine.ErrInvalidInput.
func (e *FieldError) Unwrap() error { return engine.ErrInvalidInput }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// PutAction validates and stores a user action, replacing one of the same
// name. Its name must have a pack ("my_pack.resize_image"), must not be
// std.* or aws.*, nor the name of an action the host has built in; its
// kind must be one the host can bind (http everywhere, lambda on AWS or
// when lazyflow serve has an AWS region); its input names must be distinct.
func (s *Service) PutAction(ctx context.Context, a store.ActionDef) (*store.ActionDef, error) {
	if err := s.checkAction(&a); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	a.Created, a.Updated, a.Deleted = now, now, false
	if err := s.Store.PutAction(ctx, &a); err != nil {
		return nil, fmt.Errorf("store action %s: %w", a.Name, err)
	}
	return s.Store.Action(ctx, a.Name)
}

func (s *Service) checkAction(a *store.ActionDef) error {
	if p := dsl.NameProblem(a.Name); p != "" {
		return fieldErr("name", "action name %q %s", a.Name, p)
	}
	pack, _, ok := strings.Cut(a.Name, ".")
	switch {
	case !ok:
		return fieldErr("name", "action name %q needs a pack: write it pack.name, e.g. my_pack.%s", a.Name, a.Name)
	case pack == "std" || pack == "aws":
		return fieldErr("name", "action name %q is in the %s pack, which Lazyflow keeps for its own actions", a.Name, pack)
	case s.Actions.Has(a.Name):
		return fieldErr("name", "action %q is built into this host and cannot be replaced", a.Name)
	}
	if !slices.Contains(s.Actions.Kinds(), a.Kind) {
		return fieldErr("kind", "kind %q is not one this host can run (it runs %s)", a.Kind, strings.Join(s.Actions.Kinds(), ", "))
	}
	if _, err := s.Actions.BindUser(a.Kind, a.Target); err != nil {
		return fieldErr("target", "%v", err)
	}
	seen := map[string]bool{}
	for _, list := range []struct {
		field string
		names []string
	}{{"required", a.Required}, {"optional", a.Optional}} {
		for i, n := range list.names {
			switch {
			case n == "" || strings.ContainsFunc(n, func(r rune) bool { return r <= ' ' }):
				return fieldErr(fmt.Sprintf("%s[%d]", list.field, i), "input name %q must be non-empty and without whitespace", n)
			case seen[n]:
				return fieldErr(fmt.Sprintf("%s[%d]", list.field, i), "input name %q is listed twice", n)
			}
			seen[n] = true
		}
	}
	return nil
}

// Action returns a user action (store.ErrNotFound when there is none).
func (s *Service) Action(ctx context.Context, name string) (*store.ActionDef, error) {
	return s.Store.Action(ctx, name)
}

// ListActions lists the user actions.
func (s *Service) ListActions(ctx context.Context) ([]*store.ActionDef, error) {
	return s.Store.ListActions(ctx)
}

// DeleteAction deletes a user action. Workflows that call it fail their
// task when it runs ("unknown action"), as with any action that is gone.
func (s *Service) DeleteAction(ctx context.Context, name string) error {
	return s.Store.DeleteAction(ctx, name)
}

// catalog is what workflow validation checks calls against: the registry,
// then the user actions in the store.
type catalog struct {
	ctx context.Context
	s   *Service
}

// ActionInputs implements dsl.ActionCatalog.
func (c catalog) ActionInputs(name string) (required, optional []string, declared, exists bool) {
	if required, optional, declared, exists = c.s.Actions.ActionInputs(name); exists {
		return
	}
	a, err := c.s.Store.Action(c.ctx, name)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.s.Log.Warn("look up user action for validation", "action", name, "error", err)
		}
		return nil, nil, false, false
	}
	return a.Required, a.Optional, true, true
}

// Names implements dsl.ActionCatalog.
func (c catalog) Names() []string {
	names := c.s.Actions.Names()
	if list, err := c.s.Store.ListActions(c.ctx); err == nil {
		for _, a := range list {
			names = append(names, a.Name)
		}
	}
	return names
}

// runUser runs user action name, or reports ok=false when there is none
// (the caller then reports the unknown action as before).
func (s *Service) runUser(ctx context.Context, name string, input *value.Map) (out any, ok bool, err error) {
	a, err := s.Store.Action(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("look up action %s: %w", name, err)
	}
	fn, err := s.Actions.BindUser(a.Kind, a.Target)
	if err != nil {
		return nil, true, fmt.Errorf("action %s: %w", name, err)
	}
	out, err = s.Actions.RunUser(ctx, name, actions.Params{Required: a.Required, Optional: a.Optional}, fn, input)
	return out, true, err
}
