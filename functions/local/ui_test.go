package local

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

type oneDefinition struct{}

func (oneDefinition) Definition(ctx context.Context, name string) (*engine.Definition, error) {
	if name != "flow" {
		return nil, store.ErrNotFound
	}
	return &engine.Definition{Name: name, Source: "version: '2.0'\nflow:\n  tasks:\n    a:\n      action: std.noop\n"}, nil
}

func TestUIMountedBesideTheAPI(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.Method+" "+r.URL.Path) })
	h := withUI(api, oneDefinition{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	get := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	if rec := get("GET", "/"); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := get("POST", "/"); rec.Body.String() != "api POST /" {
		t.Errorf("POST / should stay the API's: %q", rec.Body.String())
	}
	if rec := get("GET", "/executions"); rec.Body.String() != "api GET /executions" {
		t.Errorf("API route: %q", rec.Body.String())
	}
	if rec := get("GET", "/ui/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "app.js") {
		t.Errorf("GET /ui/: %d", rec.Code)
	}
	if rec := get("GET", "/ui/api/graph/flow.svg"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `data-task="a"`) {
		t.Errorf("graph: %d %s", rec.Code, rec.Body.String())
	}
	if rec := get("GET", "/ui/api/graph/other.svg"); rec.Code != 404 {
		t.Errorf("graph of an unknown workflow: %d", rec.Code)
	}
}
