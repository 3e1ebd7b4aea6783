package mistralapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// environmentBody is Mistral's Environment resource as a client sends it;
// variables come as JSON text (the client's way) or as an object.
type environmentBody struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Variables   json.RawMessage `json:"variables"`
	Scope       string          `json:"scope"`
}

func environmentView(e *store.Environment) map[string]any {
	vars := e.Variables
	if vars == nil {
		vars = value.NewMap(0)
	}
	scope := e.Scope
	if scope == "" {
		scope = "private"
	}
	return map[string]any{"id": workflowID("environment\x00" + e.Name), "name": e.Name, "description": e.Description,
		"variables": vars, "scope": scope, "project_id": project,
		"created_at": mtime(e.Created), "updated_at": mtime(e.Updated)}
}

// readEnvironment decodes a create or update body.
func readEnvironment(r *http.Request) (environmentBody, error) {
	var b environmentBody
	if err := decodeBody(r, &b); err != nil {
		return b, err
	}
	if b.Name == "" {
		return b, faultf(http.StatusBadRequest, "field \"name\" is required")
	}
	return b, nil
}

// over is base with the fields the body gives: on update, fields left out
// keep the stored environment's values.
func (b environmentBody) over(base store.Environment) (store.Environment, error) {
	env := base
	env.Name = b.Name
	if b.Description != nil {
		env.Description = *b.Description
	}
	if len(b.Variables) > 0 {
		vars, err := orderedField(b.Variables, "variables")
		if err != nil {
			return base, err
		}
		env.Variables = vars
	}
	switch b.Scope {
	case "":
	case "private", "public":
		env.Scope = b.Scope
	default:
		return base, faultf(http.StatusBadRequest, "field \"scope\" must be \"private\" or \"public\", not %q", b.Scope)
	}
	return env, nil
}

func (a *API) createEnvironment(w http.ResponseWriter, r *http.Request) error {
	b, err := readEnvironment(r)
	if err != nil {
		return err
	}
	env, err := b.over(store.Environment{Scope: "private"})
	if err != nil {
		return err
	}
	stored, err := a.svc.PutEnvironment(r.Context(), env, true)
	if errors.Is(err, store.ErrConflict) {
		return faultf(http.StatusConflict, "Duplicate entry for Environment ['name', 'project_id']: %s, %s (use update to replace it)", env.Name, project)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, environmentView(stored))
	return nil
}

// updateEnvironment is PUT /v2/environments with the name in the body, as
// the client sends it.
func (a *API) updateEnvironment(w http.ResponseWriter, r *http.Request) error {
	b, err := readEnvironment(r)
	if err != nil {
		return err
	}
	cur, err := a.environment(r, b.Name)
	if err != nil {
		return err
	}
	env, err := b.over(*cur)
	if err != nil {
		return err
	}
	stored, err := a.svc.PutEnvironment(r.Context(), env, false)
	if errors.Is(err, store.ErrNotFound) {
		return faultf(http.StatusNotFound, "Environment not found [name=%s]", b.Name)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, environmentView(stored))
	return nil
}

// environment reads environment name, 404 in Mistral's words if unknown.
func (a *API) environment(r *http.Request, name string) (*store.Environment, error) {
	env, err := a.svc.Environment(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, faultf(http.StatusNotFound, "Environment not found [name=%s]", name)
	}
	return env, err
}

func (a *API) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	envs, err := a.svc.Environments(r.Context())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, e := range envs {
		out = append(out, environmentView(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"environments": out})
	return nil
}

func (a *API) getEnvironment(w http.ResponseWriter, r *http.Request) error {
	env, err := a.environment(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, environmentView(env))
	return nil
}

func (a *API) deleteEnvironment(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	err := a.svc.DeleteEnvironment(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return faultf(http.StatusNotFound, "Environment not found [name=%s]", name)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
