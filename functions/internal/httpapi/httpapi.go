// Package httpapi is Lazyflow's HTTP API over a service.Service: register
// workflows, start and steer executions, and accept delegate actions'
// callbacks. The API Lambda function (behind API Gateway) and the local
// all-in-one serve the same Handler, so both answer identically.
//
// The API depends only on the Service interface below, never on a store or
// the engine: every change it asks for is an engine step the service
// commits conditionally. A delegate action's callback is a result like any
// other: POST /callbacks/{token} becomes Service.Callback, which checks the
// token and calls TaskComplete, the result step that runners' results reach
// through the result queue (queue message → Service.TaskComplete → engine
// plan → conditional Commit → carry the plan's commands, the next tasks'
// messages). The response (202) means that step committed.
//
// Every error has one shape, {"error": {"code", "message", "field"}}, bodies
// are size-limited, no panic reaches a client, and the routes are exactly
// those of the embedded OpenAPI document (a test holds them together).
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// DefaultMaxBody is the largest request body accepted unless Options says otherwise.
const DefaultMaxBody = 1 << 20

// Options configures the API.
type Options struct {
	// MaxBody bounds request bodies in bytes (default DefaultMaxBody); a
	// bigger body is refused with 413.
	MaxBody int64
	// MaxDrain bounds how much of a refused (413) body is read and thrown
	// away so the client, still sending, gets the answer rather than a
	// reset connection (default DefaultMaxDrain).
	MaxDrain int64
	Log      *slog.Logger
}

// DefaultMaxDrain is the default Options.MaxDrain.
const DefaultMaxDrain = 16 << 20

// Service is what the API needs of the workflow service, implemented by
// *service.Service. The API reads and changes executions only through it,
// never through a store or the engine, so every change it makes goes
// through the service's conditional commits.
type Service interface {
	// definitions
	RegisterWarn(ctx context.Context, file string, source []byte) ([]string, dsl.Errors, error)
	Workflow(ctx context.Context, name string) (*engine.Definition, error)
	Workflows(ctx context.Context) ([]*engine.Definition, error)
	// UnknownWorkflow is the not-found error for a workflow name, with the
	// registered name it likely means; for not-found paths only.
	UnknownWorkflow(ctx context.Context, name string) *service.UnknownWorkflowError

	// user actions
	PutAction(ctx context.Context, a store.ActionDef) (*store.ActionDef, error)
	Action(ctx context.Context, name string) (*store.ActionDef, error)
	ListActions(ctx context.Context) ([]*store.ActionDef, error)
	DeleteAction(ctx context.Context, name string) error

	// executions
	Start(ctx context.Context, r service.StartRequest) (*engine.Execution, bool, error)
	Execution(ctx context.Context, id string) (*engine.Execution, error)
	ExecutionInput(ctx context.Context, id string) (*value.Map, error)
	ExecutionTasks(ctx context.Context, id string) ([]*engine.Task, error)
	ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error)
	Pause(ctx context.Context, id string) (*engine.Execution, error)
	Resume(ctx context.Context, id string) (*engine.Execution, error)
	Cancel(ctx context.Context, id string) (*engine.Execution, error)
	Rerun(ctx context.Context, id, task string) (*engine.Execution, error)
	DeleteWorkflow(ctx context.Context, name string) error
	DeleteExecution(ctx context.Context, id string, force bool) error

	// delegate actions
	VerifyCallback(token string) (callback.Claims, error)
	Callback(ctx context.Context, token string, ok bool, output any, errMsg string) error
	Heartbeat(ctx context.Context, token string, extend time.Duration) error
	ActionDeadline() time.Duration

	Logger() *slog.Logger
}

var _ Service = (*service.Service)(nil)

// API is the HTTP handler.
type API struct {
	svc    Service
	opt    Options
	mux    *http.ServeMux
	routes []Route
}

// Route is one method and path pattern (net/http pattern syntax, which is
// also OpenAPI's: /executions/{id}).
type Route struct {
	Method string
	Path   string
}

// New returns the API over svc.
func New(svc Service, opt Options) *API {
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.MaxDrain <= 0 {
		opt.MaxDrain = DefaultMaxDrain
	}
	if opt.Log == nil {
		opt.Log = svc.Logger()
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	a := &API{svc: svc, opt: opt, mux: http.NewServeMux()}
	a.handle("GET", "/healthz", a.healthz)
	a.handle("GET", "/openapi.json", a.openapi)
	a.handle("POST", "/workflows", a.registerWorkflows)
	a.handle("GET", "/workflows", a.listWorkflows)
	a.handle("GET", "/workflows/{name}", a.getWorkflow)
	a.handle("DELETE", "/workflows/{name}", a.deleteWorkflow)
	a.handle("POST", "/actions", a.putAction)
	a.handle("GET", "/actions", a.listActions)
	a.handle("GET", "/actions/{name}", a.getAction)
	a.handle("DELETE", "/actions/{name}", a.deleteAction)
	a.handle("POST", "/executions", a.startExecution)
	a.handle("GET", "/executions", a.listExecutions)
	a.handle("GET", "/executions/{id}", a.getExecution)
	a.handle("DELETE", "/executions/{id}", a.deleteExecution)
	a.handle("POST", "/executions/{id}/pause", a.control("pause"))
	a.handle("POST", "/executions/{id}/resume", a.control("resume"))
	a.handle("POST", "/executions/{id}/cancel", a.control("cancel"))
	// A task id is "<execution id>/<task key>": sent as one escaped segment
	// (%2F) or, as API Gateway's REST payload delivers it decoded, as two.
	a.handle("POST", "/tasks/{id}/rerun", a.rerunTask)
	a.handle("POST", "/tasks/{exec}/{task}/rerun", a.rerunTask)
	a.handle("POST", "/callbacks/{token}", a.completeCallback)
	a.handle("POST", "/callbacks/{token}/heartbeat", a.heartbeat)
	a.mux.HandleFunc("/", a.noRoute)
	return a
}

// noRoute answers paths no route serves, and methods a path does not
// accept, in the API's error shape rather than ServeMux's plain text.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := a.mux.Handler(r2); p != "" && p != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		a.writeError(w, r, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed on %s; use %s",
			r.Method, r.URL.Path, strings.Join(allowed, " or ")))
		return
	}
	a.writeError(w, r, errf(http.StatusNotFound, CodeNotFound, "", "no route %s %s", r.Method, r.URL.Path))
}

// Routes lists the routes the API serves.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(method, path string, h handlerFunc) {
	a.routes = append(a.routes, Route{Method: method, Path: path})
	a.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// reqInfo collects what the access log line says about a request; handlers
// add the execution id they worked on.
type reqInfo struct {
	status int
	exec   string
	task   string
	err    *Error
	body   io.ReadCloser // the body before the size limit, to drain a refused one
}

type infoKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

type statusWriter struct {
	http.ResponseWriter
	ri    *reqInfo
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.ri.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP limits the body, recovers panics and logs one line per request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
	sw := &statusWriter{ResponseWriter: w, ri: ri}
	if r.Body != nil {
		ri.body = r.Body
		r.Body = http.MaxBytesReader(sw, r.Body, a.opt.MaxBody)
	}
	defer func() {
		if p := recover(); p != nil {
			a.opt.Log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !sw.wrote {
				a.writeError(sw, r, errf(http.StatusInternalServerError, CodeInternal, "", "internal error"))
			}
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", ri.status, "duration_ms", time.Since(start).Milliseconds()}
		if ri.exec != "" {
			attrs = append(attrs, "execution_id", ri.exec)
		}
		if ri.task != "" {
			attrs = append(attrs, "task", ri.task)
		}
		level := slog.LevelInfo
		if ri.err != nil {
			attrs = append(attrs, "error_code", ri.err.Code, "error", ri.err.Message)
			if ri.status >= 500 {
				level = slog.LevelError
			}
		}
		a.opt.Log.Log(r.Context(), level, "http request", attrs...)
	}()
	a.mux.ServeHTTP(sw, r)
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err, "")
	ri := info(r)
	ri.err = ae
	if ae.Status >= 500 {
		// The client sees a generic message; the log keeps the cause.
		a.opt.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err.Error(), "execution_id", ri.exec)
	}
	if ae.Status == http.StatusRequestEntityTooLarge {
		a.drainRefused(w, ri.body)
	}
	writeJSON(w, ae.Status, errorBody{Error: ae})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	WriteJSON(w, status, v, fmt.Sprintf(`{"error":{"code":%q,"message":"response could not be encoded as JSON"}}`+"\n", CodeInternal))
}

// WriteJSON writes v as JSON (HTML characters as they are); if v cannot be
// encoded it writes failed, an error body of the caller's shape, with 500.
func WriteJSON(w http.ResponseWriter, status int, v any, failed string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(failed)
		if sw, ok := w.(*statusWriter); ok {
			// The request's log line carries the cause at ERROR level.
			sw.ri.err = &Error{Status: status, Code: CodeInternal, Message: "response could not be encoded as JSON: " + err.Error()}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readBody reads the whole (already size-limited) body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, classify(err, "")
	}
	return data, nil
}

// decodeJSON decodes a JSON object body into v, refusing unknown fields so
// a typo ("inputs") is named instead of silently ignored.
func decodeJSON(r *http.Request, v any) ([]byte, error) {
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if e := checkJSON(data); e != nil {
		return data, e
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return data, jsonError(err, data, v)
	}
	if dec.More() {
		return data, errf(http.StatusBadRequest, CodeInvalidJSON, "", "request body has data after the JSON object")
	}
	return data, nil
}
