package mistralapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// executionBody is what POST /v2/executions takes (Mistral's Execution
// resource); input and params are JSON text or objects.
type executionBody struct {
	ID                string          `json:"id"`
	WorkflowName      string          `json:"workflow_name"`
	WorkflowID        string          `json:"workflow_id"`
	WorkflowNamespace string          `json:"workflow_namespace"`
	Description       string          `json:"description"`
	Input             json.RawMessage `json:"input"`
	Params            json.RawMessage `json:"params"`
	SourceExecutionID string          `json:"source_execution_id"`
	State             string          `json:"state"`
	StateInfo         string          `json:"state_info"`
}

// decodeBody decodes a JSON object body, naming the problem in a 400.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err // too big: a 413
	}
	if err := httpapi.CheckJSON(data); err != nil {
		return faultf(http.StatusBadRequest, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return faultf(http.StatusBadRequest, "field %q has the wrong type (%s)", typ.Field, typ.Value)
		}
		return faultf(http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
	}
	return nil
}

// objectField reads a field Mistral sends as JSON text (or a JSON object)
// holding an object, for names looked up.
func objectField(raw json.RawMessage, field string) (map[string]any, error) {
	m, err := orderedField(raw, field)
	if m == nil || err != nil {
		return nil, err
	}
	return m.GoMap(), nil
}

// orderedField is objectField keeping the object's keys in the order the
// client wrote them, for a value shown back as it was given.
func orderedField(raw json.RawMessage, field string) (*value.Map, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, faultf(http.StatusBadRequest, "field %q: %v", field, err)
		}
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		raw = json.RawMessage(text)
	}
	if err := httpapi.CheckJSON(raw); err != nil {
		return nil, faultf(http.StatusBadRequest, "field %q: %v", field, err)
	}
	v, err := value.FromJSONExact(raw)
	var re *value.RangeError
	if errors.As(err, &re) {
		return nil, faultf(http.StatusBadRequest, "field %q: %v", field, re)
	}
	if err != nil {
		return nil, faultf(http.StatusBadRequest, "field %q is not a JSON object: %v", field, err)
	}
	m, ok := value.AsMap(v)
	if !ok {
		return nil, faultf(http.StatusBadRequest, "field %q must be a JSON object, not %s", field, value.TypeName(v))
	}
	return m, nil
}

// clientID is what a client-chosen execution id may be (a UUID fits).
var clientID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// startParams are the params of a new execution Lazyflow acts on.
type startParams struct {
	env     *value.Map
	envName string // a stored environment's name
	target  string
}

func readParams(params map[string]any) (startParams, error) {
	var p startParams
	for k, v := range params {
		switch k {
		case "env":
			switch e := v.(type) {
			case *value.Map, map[string]any:
				p.env, _ = value.AsMap(e)
			case string:
				p.envName = e
			case nil:
			default:
				return p, faultf(http.StatusBadRequest, "field \"params.env\" must be a JSON object or an environment's name, not %s", value.TypeName(v))
			}
		case "task_name":
			s, ok := v.(string)
			if !ok {
				return p, faultf(http.StatusBadRequest, "field \"params.task_name\" must be a string (the task a reverse workflow runs to)")
			}
			p.target = s
		}
		// Other params (notify, evaluate_env...) are accepted and not acted on.
	}
	return p, nil
}

func (a *API) createExecution(w http.ResponseWriter, r *http.Request) error {
	var b executionBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.SourceExecutionID != "" && b.WorkflowName == "" && b.WorkflowID == "" {
		return faultf(http.StatusBadRequest, "field \"source_execution_id\" alone is not supported: name the workflow with workflow_name or workflow_id")
	}
	ident := b.WorkflowName
	if ident == "" {
		ident = b.WorkflowID
	}
	if ident == "" {
		return faultf(http.StatusBadRequest, "field \"workflow_name\" or \"workflow_id\" is required")
	}
	def, err := a.findWorkflow(r, ident)
	if err != nil {
		return err
	}
	input, err := orderedField(b.Input, "input")
	if err != nil {
		return err
	}
	params, err := objectField(b.Params, "params")
	if err != nil {
		return err
	}
	sp, err := readParams(params)
	if err != nil {
		return err
	}
	id := b.ID
	if id != "" && !clientID.MatchString(id) {
		return faultf(http.StatusBadRequest, "field \"id\" %q must be 1 to 64 letters, digits, '-' or '_' (a UUID fits)", id)
	}
	e, created, err := a.svc.Start(r.Context(), service.StartRequest{ID: id, Workflow: def.Name, Input: input, Env: sp.env, EnvName: sp.envName, Target: sp.target})
	if err != nil && e == nil {
		return err
	}
	if err != nil {
		a.log.Error("execution started but its first tasks were not all sent", "execution_id", e.ID, "err", err)
	}
	if !created && (e.Workflow != def.Name) {
		return faultf(http.StatusConflict, "execution %s already exists and runs workflow %s", e.ID, e.Workflow)
	}
	if e.Input == nil {
		if e.Input, err = a.svc.ExecutionInput(r.Context(), e.ID); err != nil {
			return fmt.Errorf("load input of %s: %w", e.ID, err)
		}
	}
	writeJSON(w, http.StatusCreated, executionView(e, b.Description))
	return nil
}

func executionView(e *engine.Execution, description string) map[string]any {
	params := map[string]any{"namespace": ""}
	if e.Env != nil {
		params["env"] = e.Env
	}
	if e.Target != "" {
		params["task_name"] = e.Target
	}
	var taskEx any
	if e.Parent != "" {
		taskEx = taskID(e.Parent, e.ParentTask)
	}
	root := e.Root
	if root == "" {
		root = e.ID
	}
	out := map[string]any{"id": e.ID, "workflow_id": workflowID(e.Workflow), "workflow_name": e.Workflow,
		"workflow_namespace": "", "description": description, "tags": []string{}, "params": jsonText(params),
		"task_execution_id": taskEx, "root_execution_id": root, "source_execution_id": nil,
		"state": string(e.State), "state_info": stateInfo(e.StateInfo), "input": jsonText(e.Input),
		"output": jsonText(e.Output), "created_at": mtime(e.Created), "updated_at": mtime(e.Updated),
		"project_id": project, "published_global": jsonText(nil)}
	if e.Input == nil {
		delete(out, "input") // the list leaves it out: it is kept beside the head
	}
	return out
}

func stateInfo(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *API) loadExecution(r *http.Request, id string) (*engine.Execution, error) {
	e, err := a.svc.Execution(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	if e == nil {
		return nil, faultf(http.StatusNotFound, "WorkflowExecution not found [id=%s]", id)
	}
	return e, nil
}

func (a *API) getExecution(w http.ResponseWriter, r *http.Request) error {
	e, err := a.loadExecution(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if e.Input, err = a.svc.ExecutionInput(r.Context(), e.ID); err != nil {
		return fmt.Errorf("load input of %s: %w", e.ID, err)
	}
	if e.Input == nil {
		e.Input = value.NewMap(0)
	}
	writeJSON(w, http.StatusOK, executionView(e, ""))
	return nil
}

// listExecutions pages with the HTTP API's cursor as Mistral's marker: the
// `next` link carries it, and a marker this API did not give is refused.
func (a *API) listExecutions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := store.ListParams{Workflow: q.Get("workflow_name"), Limit: 100}
	if id := q.Get("workflow_id"); id != "" && p.Workflow == "" {
		d, err := a.findWorkflow(r, id)
		if err != nil {
			return err
		}
		p.Workflow = d.Name
	}
	if s := q.Get("state"); s != "" {
		p.State = engine.State(strings.ToUpper(s))
		if !knownState(p.State) {
			return faultf(http.StatusBadRequest, "query parameter \"state\": %q is not a state (IDLE, RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED...)", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < -1 || n == 0 || n > 1000 {
			return faultf(http.StatusBadRequest, "query parameter \"limit\" must be a whole number from 1 to 1000, not %q", s)
		}
		if n > 0 {
			p.Limit = n
		}
	}
	if m := q.Get("marker"); m != "" {
		c, ok := httpapi.DecodeCursor(m)
		if !ok {
			return faultf(http.StatusBadRequest, "query parameter \"marker\" %q is not a marker from this API's \"next\" link", m)
		}
		p.Cursor = c
	}
	page, err := a.svc.ListExecutions(r.Context(), p)
	if err != nil {
		return fmt.Errorf("list executions: %w", err)
	}
	out := []map[string]any{}
	for _, e := range page.Executions {
		v := executionView(e, "")
		delete(v, "input")
		out = append(out, v)
	}
	resp := map[string]any{"executions": out}
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("limit", strconv.Itoa(p.Limit))
		nq.Set("marker", httpapi.EncodeCursor(page.Next))
		resp["next"] = baseURL(r) + Prefix + "/executions?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func knownState(s engine.State) bool {
	for _, k := range []engine.State{engine.Idle, engine.Waiting, engine.Running, engine.RunningDelayed, engine.Paused,
		engine.Success, engine.Error, engine.Cancelled} {
		if k == s {
			return true
		}
	}
	return false
}

// updateExecution is Mistral's state change: PAUSED, RUNNING (resume),
// CANCELLED, ERROR (fail, with state_info as the reason).
func (a *API) updateExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var b struct {
		State       string          `json:"state"`
		StateInfo   string          `json:"state_info"`
		Description string          `json:"description"`
		Params      json.RawMessage `json:"params"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	cur, err := a.loadExecution(r, id)
	if err != nil {
		return err
	}
	if len(b.Params) > 0 && string(b.Params) != "null" {
		return faultf(http.StatusBadRequest, "field \"params\" (changing an execution's env) is not supported")
	}
	var e *engine.Execution
	switch strings.ToUpper(b.State) {
	case "":
		if b.Description == "" {
			return faultf(http.StatusBadRequest, "field \"state\" is required: PAUSED, RUNNING, CANCELLED or ERROR")
		}
		return faultf(http.StatusBadRequest, "field \"description\": changing an execution's description is not supported")
	case string(engine.Paused):
		e, err = a.svc.Pause(r.Context(), id)
	case string(engine.Running):
		e, err = a.svc.Resume(r.Context(), id)
	case string(engine.Cancelled):
		e, err = a.svc.Cancel(r.Context(), id)
	case string(engine.Error):
		reason := b.StateInfo
		if reason == "" {
			reason = "failed by request"
		}
		if cur.State.Terminal() {
			return faultf(http.StatusConflict, "execution %s is already %s", id, cur.State)
		}
		e, err = a.svc.Fail(r.Context(), id, reason)
	default:
		return faultf(http.StatusBadRequest, "field \"state\": %q is not a state an execution can be set to (PAUSED, RUNNING, CANCELLED, ERROR)", b.State)
	}
	if err != nil && e == nil {
		if errors.Is(err, engine.ErrInvalidState) {
			return faultf(http.StatusConflict, "cannot set execution %s to %s: it is %s (%v)", id, strings.ToUpper(b.State), cur.State, err)
		}
		return err
	}
	if err != nil {
		a.log.Error("state change committed but sending follow-up messages failed", "execution_id", id, "err", err)
	}
	if e.Input, err = a.svc.ExecutionInput(r.Context(), id); err != nil {
		return fmt.Errorf("load input of %s: %w", id, err)
	}
	writeJSON(w, http.StatusOK, executionView(e, ""))
	return nil
}
