package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// deleteWorkflow removes a workflow from the registered ones (204);
// executions already running it go on.
func (a *API) deleteWorkflow(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := a.svc.DeleteWorkflow(r.Context(), name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return a.unknownWorkflow(r, "name", name, err)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unknownWorkflow is the 404 for workflow name, naming the registered one
// it likely means: the service's error when err is one, else asked for.
func (a *API) unknownWorkflow(r *http.Request, field, name string, err error) error {
	var uw *service.UnknownWorkflowError
	if !errors.As(err, &uw) {
		uw = a.svc.UnknownWorkflow(r.Context(), name)
	}
	return errf(http.StatusNotFound, CodeNotFound, field, "%s", uw.Error())
}

// deleteExecution deletes a finished execution with every record it owns
// (204); an unfinished one is refused with 409 unless ?force=true.
func (a *API) deleteExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	force, err := QueryBool(r, "force")
	if err != nil {
		return errf(http.StatusBadRequest, CodeInvalidInput, "force", "%v", err)
	}
	if err := a.svc.DeleteExecution(r.Context(), id, force); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errf(http.StatusNotFound, CodeNotFound, "id", "execution %q not found", id)
		}
		if errors.Is(err, engine.ErrInvalidState) {
			// Say what to send, not the service's words: the state as
			// read now, and the query that overrides the refusal.
			state := "not finished"
			if e, lerr := a.loadExecution(r, id); lerr == nil {
				state = string(e.State)
			}
			return errf(http.StatusConflict, CodeInvalidState, "", "cannot delete execution %s: it is %s, and only a finished execution can be deleted; DELETE /executions/%s?force=true cancels it and deletes it",
				id, state, id)
		}
		return fmt.Errorf("delete execution: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// QueryBool reads a boolean query parameter (false when absent), for both APIs.
func QueryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("query parameter %q must be true or false, not %q", name, v)
	}
	return b, nil
}
