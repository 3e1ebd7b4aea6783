// Package mistralapi is OpenStack Mistral's REST API v2 over the same
// service the HTTP API uses, so Mistral's clients (python-mistralclient, its
// `mistral` command) and delegate services work against Lazyflow unchanged.
// It is mounted at /v2 beside Lazyflow's own API (Mount) by `lazyflow serve`
// and by the API Lambda function.
//
// It speaks Mistral's shapes: ids, created_at/updated_at as "2006-01-02
// 15:04:05" (UTC), `input`/`output`/`params`/`published`/`result` as JSON
// text, lists as {"<resource>s": [...], "next": url}, and errors as
// {"faultstring": ...} with 400, 404 and 409. Like the HTTP API it changes
// executions only through the service's conditional commits, and no panic
// reaches a client.
//
// Ids. A workflow's id is a UUID derived from its name (stable across
// updates); an execution's is Lazyflow's (or the one the client chose); a
// task's is "<execution id>.<task key in base64url>"; an action
// execution's is the signed, expiring callback token of that attempt, so a
// delegate completing it with PUT /v2/action_executions/{id} is checked
// exactly as POST /callbacks/{token} is.
package mistralapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// Prefix is where the API is mounted.
const Prefix = "/v2"

// Service is what the Mistral API needs: the HTTP API's service and a few
// reads and changes only Mistral's shapes ask for.
type Service interface {
	httpapi.Service
	// Fail ends an execution as ERROR (Mistral's PUT state=ERROR).
	Fail(ctx context.Context, id, reason string) (*engine.Execution, error)
	// CallbackToken signs an attempt's token: its action execution id.
	CallbackToken(exec, task string, slot, attempt int) (string, error)
	// ActionNames lists the action catalogue.
	ActionNames() []string
	// Environments are Mistral's named sets of env() variables.
	Environment(ctx context.Context, name string) (*store.Environment, error)
	Environments(ctx context.Context) ([]*store.Environment, error)
	PutEnvironment(ctx context.Context, env store.Environment, create bool) (*store.Environment, error)
	DeleteEnvironment(ctx context.Context, name string) error
}

var _ Service = (*service.Service)(nil)

// API serves /v2.
type API struct {
	svc     Service
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
}

// New returns the API over svc; maxBody bounds request bodies (0: httpapi.DefaultMaxBody).
func New(svc Service, log *slog.Logger, maxBody int64) *API {
	if log == nil {
		log = svc.Logger()
	}
	if log == nil {
		log = slog.Default()
	}
	if maxBody <= 0 {
		maxBody = httpapi.DefaultMaxBody
	}
	a := &API{svc: svc, log: log, maxBody: maxBody, mux: http.NewServeMux()}
	a.routes()
	return a
}

func (a *API) routes() {
	a.handle("GET /v2", a.root)
	a.handle("GET /v2/{$}", a.root)
	a.handle("POST /v2/workbooks", a.createWorkbook)
	a.handle("PUT /v2/workbooks", a.createWorkbook)
	a.handle("GET /v2/workbooks", a.listWorkbooks)
	a.handle("GET /v2/workbooks/{name}", a.getWorkbook)
	a.handle("POST /v2/workbooks/validate", a.validate)
	a.handle("POST /v2/workflows/validate", a.validate)
	a.handle("POST /v2/workflows", a.createWorkflows)
	a.handle("PUT /v2/workflows", a.createWorkflows)
	a.handle("GET /v2/workflows", a.listWorkflows)
	a.handle("GET /v2/workflows/{id}", a.getWorkflow)
	a.handle("POST /v2/executions", a.createExecution)
	a.handle("GET /v2/executions", a.listExecutions)
	a.handle("GET /v2/executions/{id}", a.getExecution)
	a.handle("PUT /v2/executions/{id}", a.updateExecution)
	a.handle("GET /v2/executions/{id}/tasks", a.listTasks)
	a.handle("GET /v2/tasks", a.listTasks)
	a.handle("GET /v2/tasks/{id}", a.getTask)
	a.handle("PUT /v2/tasks/{id}", a.rerunTask)
	a.handle("GET /v2/tasks/{id}/action_executions", a.listActionExecutions)
	a.handle("GET /v2/action_executions", a.listActionExecutions)
	a.handle("GET /v2/action_executions/{id}", a.getActionExecution)
	a.handle("PUT /v2/action_executions/{id}", a.completeActionExecution)
	a.handle("GET /v2/actions", a.listActions)
	a.handle("GET /v2/actions/{name}", a.getAction)
	a.handle("DELETE /v2/workbooks/{name}", a.deleteWorkbook)
	a.handle("DELETE /v2/workflows/{id}", a.deleteWorkflow)
	a.handle("DELETE /v2/executions/{id}", a.deleteExecution)
	a.handle("POST /v2/environments", a.createEnvironment)
	a.handle("PUT /v2/environments", a.updateEnvironment)
	a.handle("GET /v2/environments", a.listEnvironments)
	a.handle("GET /v2/environments/{name}", a.getEnvironment)
	a.handle("DELETE /v2/environments/{name}", a.deleteEnvironment)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.fault(w, r, faultf(http.StatusNotFound, "Lazyflow's Mistral API has no %s %s", r.Method, r.URL.Path))
	})
}

// Mount serves /v2 with v2 and everything else with v1 (Lazyflow's own API).
func Mount(v1 http.Handler, v2 *API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix || strings.HasPrefix(r.URL.Path, Prefix+"/") {
			v2.ServeHTTP(w, r)
			return
		}
		v1.ServeHTTP(w, r)
	})
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fault(w, r, err)
		}
	})
}

// ServeHTTP limits the body, recovers panics and logs one line per request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	if r.Body != nil {
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(sw, r.Body, a.maxBody), orig: r.Body}
	}
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if sw.status == 0 {
				a.fault(sw, r, faultf(http.StatusInternalServerError, "internal error"))
			}
		}
		// The path of an action execution carries its bearer token: log the route only.
		path := r.URL.Path
		if strings.HasPrefix(path, Prefix+"/action_executions/") {
			path = Prefix + "/action_executions/{id}"
		}
		a.log.Info("http request", "api", "mistral-v2", "method", r.Method, "path", path, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
	}()
	a.mux.ServeHTTP(sw, r)
}

// limitedBody is the size-limited body, keeping the original to drain a
// refused one (see httpapi.DrainRefused).
type limitedBody struct {
	io.ReadCloser
	orig io.ReadCloser
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (a *API) root(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"uri": baseURL(r) + Prefix})
	return nil
}

// ---------------------------------------------------------------- errors

// Fault is Mistral's error: {"faultstring", "faultcode", "debuginfo"}.
type Fault struct {
	Status  int
	Message string
}

func (f *Fault) Error() string { return f.Message }

func faultf(status int, format string, args ...any) *Fault {
	return &Fault{Status: status, Message: fmt.Sprintf(format, args...)}
}

// toFault maps core's errors to statuses as the HTTP API does (400 bad
// input, 404 not found, 409 a state that does not allow the change, 401/403
// for a callback token), in Mistral's words for an invalid definition.
func toFault(err error) *Fault {
	var f *Fault
	var des dsl.Errors
	switch {
	case errors.As(err, &f):
		return f
	case errors.As(err, &des):
		return faultf(http.StatusBadRequest, "Invalid DSL: %s", des.Error())
	}
	ae := httpapi.Classify(err)
	return &Fault{Status: ae.Status, Message: ae.Message}
}

func (a *API) fault(w http.ResponseWriter, r *http.Request, err error) {
	f := toFault(err)
	if f.Status >= 500 {
		a.log.Error("request failed", "api", "mistral-v2", "method", r.Method, "err", err.Error())
	}
	code := "Client"
	if f.Status >= 500 {
		code = "Server"
	}
	if lb, ok := r.Body.(*limitedBody); ok && f.Status == http.StatusRequestEntityTooLarge {
		httpapi.DrainRefused(w, lb.orig, httpapi.DefaultMaxDrain)
	}
	writeJSON(w, f.Status, map[string]any{"faultstring": f.Message, "faultcode": code, "debuginfo": nil})
}

// ---------------------------------------------------------------- helpers

// timeFormat is how Mistral shows times (UTC, no zone).
const timeFormat = "2006-01-02 15:04:05"

func mtime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// jsonText is a value as Mistral sends it in input, output, params...: JSON text.
func jsonText(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	httpapi.WriteJSON(w, status, v, `{"faultstring": "response could not be encoded as JSON", "faultcode": "Server", "debuginfo": null}`+"\n")
}

// baseURL is the scheme and host the client called, for `next` links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
