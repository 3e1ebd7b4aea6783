package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// ---------------------------------------------------------------- workflows

// WorkflowSummary is one registered workflow.
type WorkflowSummary struct {
	Name    string    `json:"name"`
	DefID   string    `json:"def_id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// WorkflowDetail is a workflow with its source.
type WorkflowDetail struct {
	WorkflowSummary
	Source string `json:"source"`
}

type registerRequest struct {
	Definition string `json:"definition"`
	// File names the definition in error positions (default "workflow.yaml").
	File string `json:"file"`
}

func (a *API) registerWorkflows(w http.ResponseWriter, r *http.Request) error {
	req := registerRequest{File: "workflow.yaml"}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		if _, err := decodeJSON(r, &req); err != nil {
			return err
		}
		if req.File == "" {
			req.File = "workflow.yaml"
		}
	case "", "text/yaml", "application/x-yaml", "application/yaml", "text/x-yaml", "text/plain":
		data, err := readBody(r)
		if err != nil {
			return err
		}
		req.Definition = string(data)
	default:
		return errf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "Content-Type %q is not accepted: send the YAML text as text/yaml or application/x-yaml, or JSON {\"definition\": \"...\"}", ct)
	}
	if strings.TrimSpace(req.Definition) == "" {
		return errf(http.StatusBadRequest, CodeInvalidWorkflow, "definition", "the workflow definition is empty")
	}
	names, warns, err := a.svc.RegisterWarn(r.Context(), req.File, []byte(req.Definition))
	if err != nil {
		return classify(err, "definition")
	}
	out := []WorkflowSummary{}
	for _, n := range names {
		d, err := a.svc.Workflow(r.Context(), n)
		if err != nil {
			return fmt.Errorf("read back workflow %s: %w", n, err)
		}
		out = append(out, summary(d))
	}
	a.opt.Log.Info("workflows registered", "workflows", names)
	resp := map[string]any{"workflows": out}
	if len(warns) > 0 {
		// Accepted as Mistral accepts them, but likely mistakes.
		ws := make([]string, len(warns))
		for i, w := range warns {
			ws[i] = w.Error()
		}
		resp["warnings"] = ws
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func summary(d *engine.Definition) WorkflowSummary {
	return WorkflowSummary{Name: d.Name, DefID: d.DefID, Created: d.Created, Updated: d.Updated}
}

func (a *API) listWorkflows(w http.ResponseWriter, r *http.Request) error {
	defs, err := a.svc.Workflows(r.Context())
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	out := []WorkflowSummary{}
	for _, d := range defs {
		out = append(out, summary(d))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
	return nil
}

func (a *API) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	d, err := a.svc.Workflow(r.Context(), name)
	if err != nil || d == nil {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return a.unknownWorkflow(r, "name", name, err)
		}
		return fmt.Errorf("get workflow %s: %w", name, err)
	}
	writeJSON(w, http.StatusOK, WorkflowDetail{WorkflowSummary: summary(d), Source: d.Source})
	return nil
}

// ---------------------------------------------------------------- executions

type startRequest struct {
	Workflow string          `json:"workflow"`
	Input    json.RawMessage `json:"input"`
	Env      json.RawMessage `json:"env"`
	Target   string          `json:"target"`
}

// objectField decodes an optional JSON object field into a dict in the
// order the client wrote it.
func objectField(raw json.RawMessage, field string) (*value.Map, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	v, err := exactValue(raw, field)
	if err != nil {
		return nil, err
	}
	m, ok := value.AsMap(v)
	if !ok {
		return nil, errf(http.StatusBadRequest, CodeInvalidInput, field, "field %q must be a JSON object, not %s", field, value.TypeName(v))
	}
	return m, nil
}

// exactValue decodes a JSON field into a value, refusing a number it
// cannot keep (out of range, or an integer beyond int64) with an error
// naming where it is.
func exactValue(raw json.RawMessage, field string) (any, error) {
	v, err := value.FromJSONExact(raw)
	var re *value.RangeError
	if errors.As(err, &re) {
		at := field
		if re.At != "" {
			at += "." + re.At
		}
		return nil, errf(http.StatusBadRequest, CodeInvalidInput, at, "field %q: %s", at, re.Problem())
	}
	if err != nil {
		return nil, errf(http.StatusBadRequest, CodeInvalidJSON, field, "field %q: %v", field, err)
	}
	return v, nil
}

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 255

func (a *API) startExecution(w http.ResponseWriter, r *http.Request) error {
	var req startRequest
	if _, err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Workflow == "" {
		return errf(http.StatusBadRequest, CodeInvalidInput, "workflow", "field \"workflow\" is required: the name of a registered workflow")
	}
	input, err := objectField(req.Input, "input")
	if err != nil {
		return err
	}
	env, err := objectField(req.Env, "env")
	if err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > MaxIdempotencyKey {
		return errf(http.StatusBadRequest, CodeBadRequest, "Idempotency-Key", "the Idempotency-Key header is longer than %d characters", MaxIdempotencyKey)
	}
	if _, err := a.svc.Workflow(r.Context(), req.Workflow); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return a.unknownWorkflow(r, "workflow", req.Workflow, err)
		}
		return fmt.Errorf("look up workflow %s: %w", req.Workflow, err)
	}
	e, created, err := a.svc.Start(r.Context(), service.StartRequest{Workflow: req.Workflow, Input: input, Env: env,
		Target: req.Target, IdempotencyKey: key})
	if e != nil {
		info(r).exec = e.ID
	}
	if err != nil && e == nil {
		return classify(err, "input")
	}
	if err != nil {
		// Committed, but sending its first tasks failed: the execution
		// exists and a repeat of the request (or recovery) sends them.
		a.opt.Log.Error("execution started but its first tasks were not all sent", "execution_id", e.ID, "err", err)
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	v := execView(e)
	if v.Input == nil {
		// A repeat found the stored head, which keeps the input beside it.
		if v.Input, err = a.svc.ExecutionInput(r.Context(), e.ID); err != nil {
			return fmt.Errorf("load input of %s: %w", e.ID, err)
		}
	}
	if v.Input == nil {
		v.Input = value.NewMap(0)
	}
	w.Header().Set("Location", "/executions/"+e.ID)
	writeJSON(w, status, v)
	return nil
}

// Execution is an execution as the API shows it.
type Execution struct {
	ID             string       `json:"id"`
	Workflow       string       `json:"workflow"`
	DefID          string       `json:"def_id"`
	State          engine.State `json:"state"`
	StateInfo      string       `json:"state_info,omitempty"`
	Input          *value.Map   `json:"input,omitzero"` // nil in the list: the input is kept beside the head
	Output         any          `json:"output,omitempty"`
	Env            *value.Map   `json:"env,omitempty"`
	Target         string       `json:"target,omitempty"`
	Parent         string       `json:"parent,omitempty"`
	ParentTask     string       `json:"parent_task,omitempty"`
	IdempotencyKey string       `json:"idempotency_key,omitempty"`
	Created        time.Time    `json:"created"`
	Updated        time.Time    `json:"updated"`
	Tasks          []Task       `json:"tasks,omitempty"`
}

// Task is a task execution as the API shows it.
type Task struct {
	ID        string       `json:"id"` // "<execution id>/<task key>", for POST /tasks/{id}/rerun
	Name      string       `json:"name"`
	Key       string       `json:"key"`
	State     engine.State `json:"state"`
	StateInfo string       `json:"state_info,omitempty"`
	Published *value.Map   `json:"published,omitempty"`
	Result    any          `json:"result,omitempty"`
	Attempt   int          `json:"attempt"`
	Items     int          `json:"items,omitempty"`
	Done      int64        `json:"items_done,omitempty"`
	Failed    int64        `json:"items_failed,omitempty"`
	Waiting   string       `json:"waiting_for,omitempty"`
	Started   time.Time    `json:"started"`
	Finished  *time.Time   `json:"finished,omitempty"`
}

func execView(e *engine.Execution) Execution {
	return Execution{ID: e.ID, Workflow: e.Workflow, DefID: e.DefID, State: e.State, StateInfo: e.StateInfo, Input: e.Input,
		Output: e.Output, Env: e.Env, Target: e.Target, Parent: e.Parent, ParentTask: e.ParentTask,
		IdempotencyKey: e.IdempotencyKey, Created: e.Created, Updated: e.Updated}
}

func taskView(t *engine.Task) Task {
	v := Task{ID: t.Exec + "/" + t.Key, Name: t.Name, Key: t.Key, State: t.State, StateInfo: t.StateInfo, Published: t.Published,
		Attempt: t.Attempt, Items: t.Items, Done: t.Done, Failed: t.Failed, Waiting: string(t.Pending), Started: t.Started}
	if t.HasResult {
		v.Result = t.Result
	}
	if !t.Finished.IsZero() {
		f := t.Finished
		v.Finished = &f
	}
	return v
}

func (a *API) loadExecution(r *http.Request, id string) (*engine.Execution, error) {
	info(r).exec = id
	e, err := a.svc.Execution(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load execution %s: %w", id, err)
	}
	if e == nil {
		return nil, errf(http.StatusNotFound, CodeNotFound, "id", "execution %q does not exist", id)
	}
	return e, nil
}

func (a *API) getExecution(w http.ResponseWriter, r *http.Request) error {
	e, err := a.loadExecution(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	tasks, err := a.svc.ExecutionTasks(r.Context(), e.ID)
	if err != nil {
		return fmt.Errorf("load tasks of %s: %w", e.ID, err)
	}
	// The input is kept beside the head; the list view leaves it out.
	if e.Input, err = a.svc.ExecutionInput(r.Context(), e.ID); err != nil {
		return fmt.Errorf("load input of %s: %w", e.ID, err)
	}
	if e.Input == nil {
		e.Input = value.NewMap(0)
	}
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].Seq < tasks[j].Seq })
	v := execView(e)
	v.Tasks = []Task{}
	for _, t := range tasks {
		v.Tasks = append(v.Tasks, taskView(t))
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

var states = []engine.State{engine.Idle, engine.Waiting, engine.Running, engine.RunningDelayed, engine.Paused,
	engine.Success, engine.Error, engine.Cancelled}

func (a *API) listExecutions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := store.ListParams{Workflow: q.Get("workflow"), Limit: 100}
	if c := q.Get("cursor"); c != "" {
		var ok bool
		if p.Cursor, ok = DecodeCursor(c); !ok {
			return errf(http.StatusBadRequest, CodeBadRequest, "cursor", "cursor %q is not a next_cursor this API gave", c)
		}
	}
	if s := q.Get("state"); s != "" {
		st := engine.State(strings.ToUpper(s))
		known := false
		for _, k := range states {
			known = known || k == st
		}
		if !known {
			return errf(http.StatusBadRequest, CodeBadRequest, "state", "state %q is not one of %v", s, states)
		}
		p.State = st
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return errf(http.StatusBadRequest, CodeBadRequest, "limit", "limit must be a whole number from 1 to 1000, not %q", s)
		}
		p.Limit = n
	}
	page, err := a.svc.ListExecutions(r.Context(), p)
	if err != nil {
		if p.Cursor != "" && !errors.Is(err, store.ErrUnavailable) {
			return errf(http.StatusBadRequest, CodeBadRequest, "cursor", "cursor is not valid: %v", err)
		}
		return fmt.Errorf("list executions: %w", err)
	}
	out := struct {
		Executions []Execution `json:"executions"`
		Next       string      `json:"next_cursor,omitempty"`
	}{Executions: []Execution{}, Next: EncodeCursor(page.Next)}
	for _, e := range page.Executions {
		out.Executions = append(out.Executions, execView(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// A store's cursor may hold any bytes ('#' cut it short in a URL, and the
// server then served the same page forever); the API's is URL-safe and
// marked, so one it did not make is refused rather than read as a key.
const cursorMark = "c1."

// EncodeCursor makes a store's cursor URL-safe and marked as the API's.
func EncodeCursor(next string) string {
	if next == "" {
		return ""
	}
	return cursorMark + base64.RawURLEncoding.EncodeToString([]byte(next))
}

// DecodeCursor reads an EncodeCursor cursor; ok is false for one it did not make.
func DecodeCursor(c string) (string, bool) {
	rest, ok := strings.CutPrefix(c, cursorMark)
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// needs says which state each control operation needs, for a 409's message.
var needs = map[string]string{"pause": "RUNNING", "resume": "PAUSED", "cancel": "RUNNING or PAUSED", "rerun": "ERROR"}

func (a *API) control(op string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		cur, err := a.loadExecution(r, id)
		if err != nil {
			return err
		}
		var e *engine.Execution
		switch op {
		case "pause":
			e, err = a.svc.Pause(r.Context(), id)
		case "resume":
			e, err = a.svc.Resume(r.Context(), id)
		case "cancel":
			e, err = a.svc.Cancel(r.Context(), id)
		}
		if err != nil && e == nil {
			return a.controlError(r, op, cur, err)
		}
		if err != nil {
			a.opt.Log.Error(op+" committed but sending follow-up messages failed", "execution_id", id, "err", err)
		}
		writeJSON(w, http.StatusOK, execView(e))
		return nil
	}
}

func (a *API) controlError(r *http.Request, op string, cur *engine.Execution, err error) error {
	if errors.Is(err, engine.ErrInvalidState) {
		// The state that refused the operation may be newer than cur (it
		// changed meanwhile): read it again rather than repeat the
		// engine's own words, which say the same with the id twice.
		if now, lerr := a.loadExecution(r, cur.ID); lerr == nil && now != nil {
			cur = now
		}
		return errf(http.StatusConflict, CodeInvalidState, "", "cannot %s execution %s: it is %s, and %s needs %s",
			op, cur.ID, cur.State, op, needs[op])
	}
	return classify(err, "")
}

func (a *API) rerunTask(w http.ResponseWriter, r *http.Request) error {
	exec, task := r.PathValue("exec"), r.PathValue("task")
	if id := r.PathValue("id"); id != "" {
		var ok bool
		exec, task, ok = strings.Cut(id, "/")
		if !ok || exec == "" || task == "" {
			return errf(http.StatusBadRequest, CodeBadRequest, "id", "task id %q must be \"<execution id>/<task key>\" (escape the slash as %%2F)", id)
		}
	}
	cur, err := a.loadExecution(r, exec)
	if err != nil {
		return err
	}
	info(r).task = task
	e, err := a.svc.Rerun(r.Context(), exec, task)
	if err != nil && e == nil {
		if errors.Is(err, engine.ErrNotFound) {
			return errf(http.StatusNotFound, CodeNotFound, "id", "execution %s has no task %q", exec, task)
		}
		if errors.Is(err, engine.ErrInvalidState) && cur.State == engine.Error {
			// The execution may be rerun; the task may not. Its state is
			// read again rather than the engine's words repeated.
			return errf(http.StatusConflict, CodeInvalidState, "task", "cannot rerun task %q of execution %s: %sonly a task that failed (ERROR) can be rerun",
				task, exec, a.taskStateClause(r, exec, task))
		}
		return a.controlError(r, "rerun", cur, err)
	}
	writeJSON(w, http.StatusOK, execView(e))
	return nil
}

// taskStateClause is "it is SUCCESS, and " for task key of execution exec,
// or "" when its state cannot be read (a refusal's answer matters more).
func (a *API) taskStateClause(r *http.Request, exec, key string) string {
	ts, err := a.svc.ExecutionTasks(r.Context(), exec)
	if err != nil {
		return ""
	}
	for _, t := range ts {
		if t.Key == key {
			return fmt.Sprintf("it is %s, and ", t.State)
		}
	}
	return ""
}

// ---------------------------------------------------------------- callbacks

type callbackRequest struct {
	State  string          `json:"state"`
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
}

// verifyToken checks a callback token before anything else is read, so a
// forged one learns nothing and changes nothing.
func (a *API) verifyToken(r *http.Request) (callback.Claims, error) {
	c, err := a.svc.VerifyCallback(r.PathValue("token"))
	if err != nil {
		return c, classify(err, "token")
	}
	info(r).exec, info(r).task = c.Exec, c.Task
	return c, nil
}

func (a *API) completeCallback(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.verifyToken(r); err != nil {
		return err
	}
	var req callbackRequest
	if _, err := decodeJSON(r, &req); err != nil {
		return err
	}
	var ok bool
	switch strings.ToUpper(req.State) {
	case "SUCCESS":
		ok = true
	case "ERROR":
	default:
		return errf(http.StatusBadRequest, CodeBadRequest, "state", "field \"state\" must be \"SUCCESS\" or \"ERROR\", not %q", req.State)
	}
	var out any
	if len(req.Output) > 0 {
		v, err := exactValue(req.Output, "output")
		if err != nil {
			return err
		}
		out = v
	}
	if !ok && req.Error == "" {
		req.Error = "the delegate action reported an error"
	}
	if err := a.svc.Callback(r.Context(), r.PathValue("token"), ok, out, req.Error); err != nil {
		return classify(err, "output")
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
	return nil
}

// heartbeat keeps a delegate action's attempt alive: its watchdog deadline
// moves to now + extend_seconds (body {"extend_seconds": N}, default the
// deployment's action deadline, else 300 s). A 409 tells the third party the
// attempt is no longer wanted and it should stop.
func (a *API) heartbeat(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.verifyToken(r); err != nil {
		return err
	}
	var req struct {
		Extend *float64 `json:"extend_seconds"`
	}
	if r.ContentLength != 0 {
		if _, err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	extend := 300 * time.Second
	if d := a.svc.ActionDeadline(); d > 0 {
		extend = d
	}
	if req.Extend != nil {
		if *req.Extend <= 0 || *req.Extend > 7*24*3600 {
			return errf(http.StatusBadRequest, CodeBadRequest, "extend_seconds", "field \"extend_seconds\" must be more than 0 and at most 604800 (a week), not %v", *req.Extend)
		}
		extend = time.Duration(*req.Extend * float64(time.Second))
	}
	if err := a.svc.Heartbeat(r.Context(), r.PathValue("token"), extend); err != nil {
		return classify(err, "token")
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
	return nil
}
