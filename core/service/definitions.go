package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Register validates a workflow file and stores every workflow in it under
// its name. It returns the names registered.
func (s *Service) Register(ctx context.Context, file string, source []byte) ([]string, error) {
	names, _, err := s.RegisterWarn(ctx, file, source)
	return names, err
}

// RegisterWarn is Register that also returns the document's warnings
// (accepted, as Mistral accepts them, but likely mistakes).
func (s *Service) RegisterWarn(ctx context.Context, file string, source []byte) ([]string, dsl.Errors, error) {
	names, doc, err := s.register(ctx, file, source)
	if doc == nil {
		return names, nil, err
	}
	return names, doc.Warnings, err
}

func (s *Service) register(ctx context.Context, file string, source []byte) ([]string, *dsl.Document, error) {
	// The registry and the user actions check the calls of the actions
	// they know; a stored
	// definition is loaded again without it, so it never stops loading.
	doc, err := dsl.LoadWith(file, source, dsl.Options{Actions: catalog{ctx: ctx, s: s}})
	if err != nil {
		return nil, nil, err
	}
	id := engine.DefID(source)
	s.defs.Store(id, doc)
	now := time.Now().UTC()
	var names []string
	for _, name := range doc.Order {
		for i, n := range namesOf(doc, name) {
			if doc.Name != "" && i == 0 {
				// The short name is a convenience Mistral does not have: it
				// must not replace a workflow registered on its own.
				taken, err := s.standalone(ctx, n, id)
				if err != nil {
					return names, doc, err
				}
				if taken {
					doc.Warnings = append(doc.Warnings, &dsl.Error{Pos: doc.Workflows[name].Pos,
						Msg: fmt.Sprintf("workflow %q is registered as %s.%s only: a workflow registered on its own already has the name %q", name, doc.Name, name, name)})
					continue
				}
			}
			def := &engine.Definition{Name: n, DefID: id, Source: string(source), Created: now, Updated: now}
			if err := s.Store.PutDefinition(ctx, def); err != nil {
				return names, doc, fmt.Errorf("store workflow %s: %w", n, err)
			}
			names = append(names, n)
		}
	}
	return names, doc, nil
}

// Unregister removes the workflows that registering file's source stored, each only while
// its name still holds this source: a name registered since by another source keeps that
// one. It returns the names removed. Executions already running go on, as with
// DeleteWorkflow. A deployment calls it when a workflow file leaves the app or changes.
func (s *Service) Unregister(ctx context.Context, file string, source []byte) ([]string, error) {
	doc, err := dsl.Load(file, source)
	if err != nil {
		return nil, err
	}
	id := engine.DefID(source)
	var removed []string
	for _, name := range doc.Order {
		for _, n := range namesOf(doc, name) {
			cur, err := s.Store.Definition(ctx, n)
			if errors.Is(err, store.ErrNotFound) || err == nil && (cur == nil || cur.DefID != id) {
				continue
			}
			if err != nil {
				return removed, fmt.Errorf("unregister workflow %s: %w", n, err)
			}
			if err := s.DeleteWorkflow(ctx, n); err != nil && !errors.Is(err, store.ErrNotFound) {
				return removed, err
			}
			removed = append(removed, n)
		}
	}
	return removed, nil
}

// namesOf lists the names workflow name of doc is registered under: its own, and in a
// workbook also wb.name, as Mistral names a workbook's workflows (the short name works too).
func namesOf(doc *dsl.Document, name string) []string {
	if doc.Name == "" {
		return []string{name}
	}
	return []string{name, doc.Name + "." + name}
}

// standalone reports whether name is taken by a definition other than id
// that is not a workbook (a workflow registered on its own).
func (s *Service) standalone(ctx context.Context, name, id string) (bool, error) {
	cur, err := s.Store.Definition(ctx, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && (cur == nil || cur.DefID == id) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up workflow %s: %w", name, err)
	}
	doc, err := defs{s}.Doc(ctx, cur.DefID) // parsed once, cached
	if err != nil {
		return false, nil // not loadable any more: replacing it loses nothing
	}
	return doc.Name == "", nil
}

// calleeDef is the definition a sub-workflow runs: the parent's own file when
// it defines the callee, else the callee's current registered definition, as
// Mistral resolves sub-workflows by name among all registered workflows.
func (s *Service) calleeDef(ctx context.Context, parentDef, workflow string) (string, error) {
	if doc, err := (defs{s}).Doc(ctx, parentDef); err == nil {
		if _, err := doc.Workflow(workflow); err == nil {
			return parentDef, nil
		}
	}
	def, err := s.Store.Definition(ctx, workflow)
	if err != nil {
		return "", err
	}
	return def.DefID, nil
}
