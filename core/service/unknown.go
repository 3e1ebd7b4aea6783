package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/lazyflow/lazyflow/core/internal/suggest"
	"github.com/lazyflow/lazyflow/core/store"
)

// suggestNames bounds the registered names a not-found workflow is
// compared with: one store page, read only when a name was not found, so
// a typo costs one bounded read and a hit nothing.
const suggestNames = 100

// UnknownWorkflowError is store.ErrNotFound for a workflow name, with the
// registered name it was likely a typo of ("" when none is near).
type UnknownWorkflowError struct {
	Name       string
	Suggestion string
}

func (e *UnknownWorkflowError) Error() string {
	return fmt.Sprintf("workflow %q is not registered%s", e.Name, e.DidYouMean())
}

// DidYouMean is ` (did you mean "order"?)`, or "" without a suggestion,
// for front ends that word the rest of the message their own way.
func (e *UnknownWorkflowError) DidYouMean() string {
	if e.Suggestion == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
}

func (e *UnknownWorkflowError) Unwrap() error { return store.ErrNotFound }

// UnknownWorkflow is the error for workflow name not being registered,
// naming the registered one it likely means. Call it on a not-found path
// only: it reads the first page of names. A failed read only costs the
// suggestion, as the not-found answer is what matters.
func (s *Service) UnknownWorkflow(ctx context.Context, name string) *UnknownWorkflowError {
	e := &UnknownWorkflowError{Name: name}
	names, err := s.Store.DefinitionNames(ctx, suggestNames)
	if err != nil {
		s.Log.Debug("no workflow names for a suggestion", "workflow", name, "err", err.Error())
		return e
	}
	e.Suggestion = suggest.Closest(name, names)
	return e
}

// notFoundWorkflow is err, or UnknownWorkflow when err says workflow name
// is not registered.
func (s *Service) notFoundWorkflow(ctx context.Context, name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return s.UnknownWorkflow(ctx, name)
	}
	return err
}
