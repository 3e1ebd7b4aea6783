package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
)

// ActionRequest is the body of POST /actions: a user action bound to an
// HTTP endpoint (kind http, target a URL the runner POSTs the input to)
// or a Lambda function (kind lambda, target its name or ARN), with the
// input names it requires and accepts.
type ActionRequest struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Target      string   `json:"target"`
	Required    []string `json:"required"`
	Optional    []string `json:"optional"`
	Description string   `json:"description"`
}

// ActionView is a user action as the API shows it.
type ActionView struct {
	ActionRequest
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

func actionView(a *store.ActionDef) ActionView {
	return ActionView{ActionRequest: ActionRequest{Name: a.Name, Kind: a.Kind, Target: a.Target, Required: nonNil(a.Required),
		Optional: nonNil(a.Optional), Description: a.Description}, Created: a.Created, Updated: a.Updated}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) putAction(w http.ResponseWriter, r *http.Request) error {
	var req ActionRequest
	if _, err := decodeJSON(r, &req); err != nil {
		return err
	}
	for field, v := range map[string]string{"name": req.Name, "kind": req.Kind, "target": req.Target} {
		if v == "" {
			return errf(http.StatusBadRequest, CodeInvalidInput, field, "field %q is required", field)
		}
	}
	def, err := a.svc.PutAction(r.Context(), store.ActionDef{Name: req.Name, Kind: req.Kind, Target: req.Target,
		Required: req.Required, Optional: req.Optional, Description: req.Description})
	var fe *service.FieldError
	if errors.As(err, &fe) {
		return errf(http.StatusBadRequest, CodeInvalidInput, fe.Field, "%s", fe.Msg)
	}
	if err != nil {
		return fmt.Errorf("register action %s: %w", req.Name, err)
	}
	writeJSON(w, http.StatusOK, actionView(def))
	return nil
}

func (a *API) listActions(w http.ResponseWriter, r *http.Request) error {
	list, err := a.svc.ListActions(r.Context())
	if err != nil {
		return fmt.Errorf("list actions: %w", err)
	}
	out := []ActionView{}
	for _, d := range list {
		out = append(out, actionView(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": out})
	return nil
}

func (a *API) getAction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := a.svc.Action(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return errf(http.StatusNotFound, CodeNotFound, "name", "action %q is not registered", name)
	}
	if err != nil {
		return fmt.Errorf("get action %s: %w", name, err)
	}
	writeJSON(w, http.StatusOK, actionView(d))
	return nil
}

func (a *API) deleteAction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	err := a.svc.DeleteAction(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return errf(http.StatusNotFound, CodeNotFound, "name", "action %q is not registered", name)
	}
	if err != nil {
		return fmt.Errorf("delete action %s: %w", name, err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": name})
	return nil
}
