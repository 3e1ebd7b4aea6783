package mistralapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// taskID is a task execution's id: "<execution id>.<task key, base64url>"
// (a key may hold '#', which a URL would cut off; an execution id has no '.').
func taskID(exec, key string) string {
	return exec + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}

func parseTaskID(id string) (exec, key string, err error) {
	exec, enc, ok := strings.Cut(id, ".")
	b, derr := base64.RawURLEncoding.DecodeString(enc)
	if !ok || exec == "" || derr != nil || len(b) == 0 {
		return "", "", faultf(http.StatusNotFound, "Task not found [id=%s]: not a task id this API gave", id)
	}
	return exec, string(b), nil
}

// taskSpec is the definition of an execution's task, for its type and
// action name; nil when the definition does not have it any more.
func (a *API) taskSpec(r *http.Request, c docs, e *engine.Execution, name string) *dsl.Task {
	d, err := a.svc.Workflow(r.Context(), e.Workflow)
	if err != nil || d == nil || d.DefID != e.DefID {
		return nil
	}
	doc := c.of(d)
	if doc == nil {
		return nil
	}
	wfName := e.Workflow
	if doc.Name != "" {
		wfName = strings.TrimPrefix(wfName, doc.Name+".")
	}
	wf, err := doc.Workflow(wfName)
	if err != nil {
		return nil
	}
	return wf.Tasks[name]
}

func taskView(e *engine.Execution, t *engine.Task, spec *dsl.Task) map[string]any {
	typ := "ACTION"
	if spec != nil && spec.Workflow != "" {
		typ = "WORKFLOW"
	}
	var result any
	if t.HasResult {
		result = t.Result
	}
	updated := t.Finished
	if updated.IsZero() {
		updated = t.Started
	}
	return map[string]any{"id": taskID(t.Exec, t.Key), "name": t.Name, "type": typ,
		"workflow_name": e.Workflow, "workflow_namespace": "", "workflow_id": workflowID(e.Workflow),
		"workflow_execution_id": t.Exec, "state": string(t.State), "state_info": stateInfo(t.StateInfo),
		"result": resultText(result), "published": jsonText(t.Published), "published_global": jsonText(nil),
		"processed": t.State.Terminal(), "reset": false, "env": jsonText(nil), "tags": []string{},
		"runtime_context": jsonText(map[string]any{"retry_task_policy": map[string]any{"retry_no": t.Attempt - 1}}), "project_id": project,
		"created_at": mtime(t.Started), "updated_at": mtime(updated), "started_at": mtime(t.Started),
		"finished_at": mtime(t.Finished)}
}

// resultText is a result as Mistral shows it: JSON text, "null" for none.
func resultText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func (a *API) execTasks(r *http.Request, exec string) (*engine.Execution, []*engine.Task, error) {
	e, err := a.loadExecution(r, exec)
	if err != nil {
		return nil, nil, err
	}
	tasks, err := a.svc.ExecutionTasks(r.Context(), exec)
	if err != nil {
		return nil, nil, fmt.Errorf("load tasks of %s: %w", exec, err)
	}
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Seq < tasks[j].Seq })
	return e, tasks, nil
}

func (a *API) findTask(r *http.Request, id string) (*engine.Execution, *engine.Task, error) {
	exec, key, err := parseTaskID(id)
	if err != nil {
		return nil, nil, err
	}
	e, tasks, err := a.execTasks(r, exec)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) && f.Status == http.StatusNotFound {
			return nil, nil, faultf(http.StatusNotFound, "Task not found [id=%s]", id)
		}
		return nil, nil, err
	}
	for _, t := range tasks {
		if t.Key == key {
			return e, t, nil
		}
	}
	return nil, nil, faultf(http.StatusNotFound, "Task not found [id=%s]", id)
}

// parent is the id a list is scoped to: the path's, else the query
// parameter's; Lazyflow lists tasks and action executions only so scoped.
func parent(r *http.Request, query, missing string) (string, error) {
	id := r.PathValue("id")
	if id == "" {
		id = r.URL.Query().Get(query)
	}
	if id == "" {
		return "", faultf(http.StatusBadRequest, "%s", missing)
	}
	return id, nil
}

func (a *API) listTasks(w http.ResponseWriter, r *http.Request) error {
	exec, err := parent(r, "workflow_execution_id", "listing tasks needs an execution: GET /v2/executions/{id}/tasks or ?workflow_execution_id=")
	if err != nil {
		return err
	}
	e, tasks, err := a.execTasks(r, exec)
	if err != nil {
		return err
	}
	c := docs{}
	name, state := r.URL.Query().Get("name"), r.URL.Query().Get("state")
	out := []map[string]any{}
	for _, t := range tasks {
		if name != "" && t.Name != name || state != "" && !strings.EqualFold(string(t.State), state) {
			continue
		}
		out = append(out, taskView(e, t, a.taskSpec(r, c, e, t.Name)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out})
	return nil
}

func (a *API) getTask(w http.ResponseWriter, r *http.Request) error {
	e, t, err := a.findTask(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, taskView(e, t, a.taskSpec(r, docs{}, e, t.Name)))
	return nil
}

// rerunTask is Mistral's task rerun (PUT {"state": "RUNNING", "reset"}).
// Lazyflow reruns a with-items task's failed items, whatever reset says.
func (a *API) rerunTask(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		State string          `json:"state"`
		Reset *bool           `json:"reset"`
		Env   json.RawMessage `json:"env"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if !strings.EqualFold(b.State, string(engine.Running)) {
		return faultf(http.StatusBadRequest, "field \"state\" must be RUNNING (a rerun), not %q", b.State)
	}
	if env, err := objectField(b.Env, "env"); err != nil {
		return err
	} else if len(env) > 0 {
		return faultf(http.StatusBadRequest, "field \"env\": a rerun with a new env is not supported")
	}
	e, t, err := a.findTask(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.State != engine.Error {
		return faultf(http.StatusBadRequest, "Invalid state transition: only a task in ERROR can be rerun, task %s is %s", t.Name, t.State)
	}
	if _, err := a.svc.Rerun(r.Context(), e.ID, t.Key); err != nil {
		if errors.Is(err, engine.ErrInvalidState) {
			return faultf(http.StatusConflict, "cannot rerun task %s of execution %s (it is %s): %v", t.Name, e.ID, e.State, err)
		}
		return err
	}
	e, t, err = a.findTask(r, taskID(e.ID, t.Key))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, taskView(e, t, a.taskSpec(r, docs{}, e, t.Name)))
	return nil
}

// ---------------------------------------------------------------- action executions

// actionExecutionView shows a task's current attempt as Mistral's action execution.
func actionExecutionView(id string, e *engine.Execution, t *engine.Task, spec *dsl.Task) map[string]any {
	name := ""
	if spec != nil {
		name = spec.Action
	}
	state := t.State
	if state == engine.Waiting || state == engine.RunningDelayed {
		state = engine.Idle
	}
	output := map[string]any{}
	if t.HasResult {
		output["result"] = t.Result
	}
	if t.State == engine.Error && t.StateInfo != "" && !t.HasResult {
		output["result"] = t.StateInfo
	}
	v := taskView(e, t, spec)
	return map[string]any{"id": id, "name": name, "workflow_name": e.Workflow, "workflow_namespace": "",
		"task_name": t.Name, "task_execution_id": v["id"], "state": string(state), "state_info": v["state_info"],
		"tags": []string{}, "accepted": t.State.Terminal(), "input": jsonText(nil), "output": jsonText(output),
		"params": jsonText(nil), "description": "", "created_at": v["created_at"], "updated_at": v["updated_at"],
		"project_id": project}
}

func (a *API) listActionExecutions(w http.ResponseWriter, r *http.Request) error {
	id, err := parent(r, "task_execution_id", "listing action executions needs a task: GET /v2/tasks/{id}/action_executions or ?task_execution_id=")
	if err != nil {
		return err
	}
	e, t, err := a.findTask(r, id)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	spec := a.taskSpec(r, docs{}, e, t.Name)
	// One action execution per plain action task: its current attempt. A
	// sub-workflow task has executions instead, and with-items items are
	// not shown one by one.
	if t.Attempt > 0 && t.Items == 0 && (spec == nil || spec.Workflow == "") {
		tok, err := a.svc.CallbackToken(t.Exec, t.Key, -1, t.Attempt)
		if err != nil {
			return fmt.Errorf("sign action execution id: %w", err)
		}
		out = append(out, actionExecutionView(tok, e, t, spec))
	}
	writeJSON(w, http.StatusOK, map[string]any{"action_executions": out})
	return nil
}

func (a *API) actionTask(r *http.Request, id string) (*engine.Execution, *engine.Task, error) {
	c, err := a.svc.VerifyCallback(id)
	if err != nil {
		return nil, nil, err
	}
	return a.findTask(r, taskID(c.Exec, c.Task))
}

func (a *API) getActionExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	e, t, err := a.actionTask(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, actionExecutionView(id, e, t, a.taskSpec(r, docs{}, e, t.Name)))
	return nil
}

// completeActionExecution is a Mistral delegate's result: PUT {state,
// output} to its Mistral-Callback-URL. The id is the callback token, so the
// checks are POST /callbacks/{token}'s: signature, expiry, and that the
// attempt still runs (a second PUT is refused with 409 and changes nothing).
func (a *API) completeActionExecution(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := a.svc.VerifyCallback(id); err != nil {
		return err
	}
	var b struct {
		State     string          `json:"state"`
		Output    json.RawMessage `json:"output"`
		StateInfo string          `json:"state_info"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	output, err := outputValue(b.Output)
	if err != nil {
		return err
	}
	ok, errMsg := true, ""
	switch strings.ToUpper(b.State) {
	case string(engine.Success):
	case string(engine.Error), string(engine.Cancelled):
		ok, errMsg = false, errorText(output, b.StateInfo, strings.ToUpper(b.State))
		output = nil
	default:
		return faultf(http.StatusBadRequest, "field \"state\": expected one of SUCCESS, ERROR, CANCELLED, not %q", b.State)
	}
	if err := a.svc.Callback(r.Context(), id, ok, output, errMsg); err != nil {
		return err
	}
	e, t, err := a.actionTask(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, actionExecutionView(id, e, t, a.taskSpec(r, docs{}, e, t.Name)))
	return nil
}

// outputValue reads a delegate's output: a JSON value, or JSON text (as
// Mistral's client sends it) holding one; text that is not JSON stays text.
func outputValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := value.FromJSONExact(raw)
	if err != nil {
		return nil, faultf(http.StatusBadRequest, "field \"output\": %v", err)
	}
	if s, ok := v.(string); ok {
		if parsed, err := value.FromJSONExact([]byte(s)); err == nil {
			return parsed, nil
		}
	}
	return v, nil
}

func errorText(output any, stateInfo, state string) string {
	switch {
	case output != nil:
		if s, ok := output.(string); ok {
			return s
		}
		return jsonText(output)
	case stateInfo != "":
		return stateInfo
	case state == string(engine.Cancelled):
		return "the delegate cancelled the action"
	}
	return "Unknown error"
}
