package mistralapi

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// The project every resource belongs to: Lazyflow has no Keystone projects.
const project = "<default-project>"

// workflowID is a workflow's stable id: a UUID-shaped hash of its name, so
// an update keeps it, as Mistral's does.
func workflowID(name string) string {
	h := sha256.Sum256([]byte("workflow\x00" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// docs parses stored definitions once per request.
type docs map[string]*dsl.Document

func (c docs) of(d *engine.Definition) *dsl.Document {
	if doc, ok := c[d.DefID]; ok {
		return doc
	}
	doc, err := dsl.Load(d.Name+".yaml", []byte(d.Source))
	if err != nil {
		doc = nil
	}
	c[d.DefID] = doc
	return doc
}

// shortAlias reports whether d is the short name Lazyflow also gives a
// workbook's workflow (wf beside wb.wf): Mistral has only wb.wf.
func (c docs) shortAlias(d *engine.Definition) bool {
	doc := c.of(d)
	return doc != nil && doc.Name != "" && !strings.HasPrefix(d.Name, doc.Name+".")
}

func (a *API) workflowView(c docs, d *engine.Definition) map[string]any {
	input, tags := "", []string{}
	if doc := c.of(d); doc != nil {
		short := d.Name
		if doc.Name != "" {
			short = strings.TrimPrefix(d.Name, doc.Name+".")
		}
		if wf, err := doc.Workflow(short); err == nil {
			input = inputText(wf.Input)
			tags = append(tags, wf.Tags...)
		}
	}
	return map[string]any{"id": workflowID(d.Name), "name": d.Name, "namespace": "", "definition": d.Source,
		"input": input, "tags": tags, "scope": "private", "project_id": project,
		"created_at": mtime(d.Created), "updated_at": mtime(d.Updated)}
}

// inputText is a workflow's input as Mistral lists it: "a, b=null".
func inputText(ps []dsl.Param) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.HasDefault {
			b, _ := json.Marshal(p.Default.Source())
			parts = append(parts, p.Name+"="+string(b))
		} else {
			parts = append(parts, p.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// readDefinition reads a YAML definition body (text/plain, as the client sends it).
func readDefinition(r *http.Request) ([]byte, *dsl.Document, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read definition: %w", err)
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, nil, faultf(http.StatusBadRequest, "the definition is empty: send the YAML text as the request body")
	}
	doc, err := dsl.Load("definition.yaml", data)
	if err != nil {
		return nil, nil, err
	}
	return data, doc, nil
}

// register stores a definition; with create set, a name already registered
// is refused with 409 as Mistral refuses a duplicate.
func (a *API) register(r *http.Request, data []byte, names []string, create bool) ([]*engine.Definition, error) {
	if create {
		for _, n := range names {
			if _, err := a.svc.Workflow(r.Context(), n); err == nil {
				return nil, faultf(http.StatusConflict, "Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: %s, , %s (use update to replace it)", n, project)
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("look up workflow %s: %w", n, err)
			}
		}
	}
	stored, _, err := a.svc.RegisterWarn(r.Context(), "definition.yaml", data)
	if err != nil {
		return nil, err
	}
	var out []*engine.Definition
	for _, n := range stored {
		d, err := a.svc.Workflow(r.Context(), n)
		if err != nil {
			return nil, fmt.Errorf("read back workflow %s: %w", n, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// validate is Mistral's validation: 200 with {"valid": false, "error"}
// for a definition with problems (each at file:line:column).
func (a *API) validate(w http.ResponseWriter, r *http.Request) error {
	_, _, err := readDefinition(r)
	var des dsl.Errors
	var f *Fault
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"valid": true})
	case errors.As(err, &des):
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "error": des.Error()})
	case errors.As(err, &f) && f.Status == http.StatusBadRequest:
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "error": f.Message})
	default:
		return err
	}
	return nil
}

// ---------------------------------------------------------------- workflows

func (a *API) createWorkflows(w http.ResponseWriter, r *http.Request) error {
	data, doc, err := readDefinition(r)
	if err != nil {
		return err
	}
	if doc.Name != "" {
		return faultf(http.StatusBadRequest, "the definition is a workbook (it has a name: %q): create it with POST /v2/workbooks", doc.Name)
	}
	create := r.Method == http.MethodPost
	defs, err := a.register(r, data, doc.Order, create)
	if err != nil {
		return err
	}
	c := docs{}
	out := []map[string]any{}
	for _, d := range defs {
		out = append(out, a.workflowView(c, d))
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"workflows": out})
	return nil
}

func (a *API) listWorkflows(w http.ResponseWriter, r *http.Request) error {
	defs, err := a.svc.Workflows(r.Context())
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	c := docs{}
	name := r.URL.Query().Get("name")
	out := []map[string]any{}
	for _, d := range defs {
		if c.shortAlias(d) || name != "" && d.Name != name {
			continue
		}
		out = append(out, a.workflowView(c, d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
	return nil
}

// findWorkflow finds a workflow by name or by id.
func (a *API) findWorkflow(r *http.Request, ident string) (*engine.Definition, error) {
	d, err := a.svc.Workflow(r.Context(), ident)
	if err == nil && d != nil {
		return d, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("look up workflow %s: %w", ident, err)
	}
	defs, err := a.svc.Workflows(r.Context())
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	for _, d := range defs {
		if workflowID(d.Name) == ident {
			return d, nil
		}
	}
	return nil, faultf(http.StatusNotFound, "Workflow not found [workflow_identifier=%s]%s", ident, a.svc.UnknownWorkflow(r.Context(), ident).DidYouMean())
}

func (a *API) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	d, err := a.findWorkflow(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.workflowView(docs{}, d))
	return nil
}

// ---------------------------------------------------------------- workbooks

func workbookView(name string, d *engine.Definition) map[string]any {
	return map[string]any{"id": workflowID("workbook\x00" + name), "name": name, "namespace": "", "definition": d.Source,
		"tags": []string{}, "scope": "private", "project_id": project,
		"created_at": mtime(d.Created), "updated_at": mtime(d.Updated)}
}

func (a *API) createWorkbook(w http.ResponseWriter, r *http.Request) error {
	data, doc, err := readDefinition(r)
	if err != nil {
		return err
	}
	if doc.Name == "" {
		return faultf(http.StatusBadRequest, "a workbook needs a name: add \"name: <workbook>\" at the top, or create the workflows with POST /v2/workflows")
	}
	create := r.Method == http.MethodPost
	names := make([]string, len(doc.Order))
	for i, n := range doc.Order {
		names[i] = doc.Name + "." + n
	}
	if create {
		if _, err := a.findWorkbook(r, doc.Name); err == nil {
			return faultf(http.StatusConflict, "Duplicate entry for Workbook ['name', 'namespace', 'project_id']: %s, , %s", doc.Name, project)
		}
	}
	defs, err := a.register(r, data, names, create)
	if err != nil {
		return err
	}
	if len(defs) == 0 {
		return faultf(http.StatusBadRequest, "workbook %q has no workflows", doc.Name)
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	writeJSON(w, status, workbookView(doc.Name, defs[0]))
	return nil
}

// workbooks maps each workbook name to the definition of its latest version.
func (a *API) workbooks(r *http.Request) (map[string]*engine.Definition, error) {
	defs, err := a.svc.Workflows(r.Context())
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	c := docs{}
	out := map[string]*engine.Definition{}
	for _, d := range defs {
		doc := c.of(d)
		if doc == nil || doc.Name == "" || !strings.HasPrefix(d.Name, doc.Name+".") {
			continue
		}
		if cur, ok := out[doc.Name]; !ok || d.Updated.After(cur.Updated) {
			out[doc.Name] = d
		}
	}
	return out, nil
}

func (a *API) findWorkbook(r *http.Request, name string) (*engine.Definition, error) {
	wbs, err := a.workbooks(r)
	if err != nil {
		return nil, err
	}
	if d, ok := wbs[name]; ok {
		return d, nil
	}
	return nil, faultf(http.StatusNotFound, "Workbook not found [name=%s]", name)
}

func (a *API) listWorkbooks(w http.ResponseWriter, r *http.Request) error {
	wbs, err := a.workbooks(r)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(wbs))
	for n := range wbs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, workbookView(n, wbs[n]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"workbooks": out})
	return nil
}

func (a *API) getWorkbook(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := a.findWorkbook(r, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, workbookView(name, d))
	return nil
}

// ---------------------------------------------------------------- actions

func actionView(name string) map[string]any {
	return map[string]any{"id": workflowID("action\x00" + name), "name": name, "namespace": "", "is_system": true,
		"input": "", "description": "", "tags": []string{}, "scope": "public", "project_id": project,
		"created_at": nil, "updated_at": nil}
}

func (a *API) listActions(w http.ResponseWriter, r *http.Request) error {
	out := []map[string]any{}
	for _, n := range a.svc.ActionNames() {
		out = append(out, actionView(n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": out})
	return nil
}

func (a *API) getAction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	for _, n := range a.svc.ActionNames() {
		if n == name {
			writeJSON(w, http.StatusOK, actionView(n))
			return nil
		}
	}
	return faultf(http.StatusNotFound, "Action not found [name=%s]", name)
}
