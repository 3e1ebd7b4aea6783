package mistralapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// deleteWorkflow is Mistral's workflow-delete (204). A workbook's
// workflow also loses the short name Lazyflow gives it when that name is
// the same definition. Executions running it go on.
func (a *API) deleteWorkflow(w http.ResponseWriter, r *http.Request) error {
	d, err := a.findWorkflow(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	names := []string{d.Name}
	if doc := (docs{}).of(d); doc != nil && doc.Name != "" {
		if short, ok := strings.CutPrefix(d.Name, doc.Name+"."); ok {
			if alias, err := a.svc.Workflow(r.Context(), short); err == nil && alias.DefID == d.DefID {
				names = append(names, short)
			}
		}
	}
	if err := a.deleteWorkflows(r, names); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteWorkflows(r *http.Request, names []string) error {
	for _, n := range names {
		if err := a.svc.DeleteWorkflow(r.Context(), n); err != nil {
			return fmt.Errorf("delete workflow %s: %w", n, err)
		}
	}
	return nil
}

// deleteWorkbook is Mistral's workbook-delete (204): every workflow the
// workbook defined goes with it, short names included.
func (a *API) deleteWorkbook(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, err := a.findWorkbook(r, name); err != nil {
		return err
	}
	defs, err := a.svc.Workflows(r.Context())
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	c := docs{}
	var names []string
	for _, d := range defs {
		if doc := c.of(d); doc != nil && doc.Name == name {
			names = append(names, d.Name)
		}
	}
	if err := a.deleteWorkflows(r, names); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteExecution is Mistral's execution-delete (204): a finished
// execution goes with every record it owns. An unfinished one is refused
// with 403, as Mistral's NotAllowedException, unless ?force=true (the
// client's --force), which cancels it and deletes it.
func (a *API) deleteExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	force, err := httpapi.QueryBool(r, "force")
	if err != nil {
		return faultf(http.StatusBadRequest, "%v", err)
	}
	err = a.svc.DeleteExecution(r.Context(), id, force)
	if errors.Is(err, engine.ErrInvalidState) {
		return faultf(http.StatusForbidden, "Only completed executions can be deleted. Use --force to override this. %v", err)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
