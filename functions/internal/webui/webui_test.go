package webui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const flow = `
version: '2.0'
flow:
  tasks:
    a:
      action: std.noop
      on-success: [b]
    b:
      workflow: other
`

func serve(t *testing.T, defs DefinitionSource, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	New(Options{Definitions: defs, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func defs(ctx context.Context, name string) (string, error) {
	switch name {
	case "flow":
		return flow, nil
	case "down":
		return "", errors.New("store unavailable")
	case "bad":
		return "version: '2.0'\nbad:\n  tasks: 3\n", nil
	}
	return "", ErrNoWorkflow
}

func TestPagesServeTheShell(t *testing.T) {
	for _, p := range []string{"/ui/", "/ui/workflows/flow", "/ui/executions/ex-1"} {
		resp, body := serve(t, defs, p)
		if resp.StatusCode != 200 || !strings.Contains(body, `src="/ui/static/app.js"`) {
			t.Errorf("%s: %d %q", p, resp.StatusCode, body)
		}
	}
	resp, body := serve(t, defs, "/ui/static/app.js")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(body, "executionPage") {
		t.Errorf("app.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// ServeMux redirects a path with .. to its clean form; nothing outside static/ is served.
	if resp, _ := serve(t, defs, "/ui/static/../webui.go"); resp.StatusCode == 200 {
		t.Errorf("escape from static: %d", resp.StatusCode)
	}
	if resp, _ := serve(t, defs, "/ui/nowhere/x/y"); resp.StatusCode != 404 {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
}

func TestGraphRoute(t *testing.T) {
	resp, body := serve(t, defs, "/ui/api/graph/flow.svg")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" ||
		!strings.Contains(body, `data-task="a"`) || !strings.Contains(body, `<a href="/ui/workflows/other">`) {
		t.Errorf("svg: %d %s", resp.StatusCode, body)
	}
	if resp, body := serve(t, defs, "/ui/api/graph/flow.mmd"); resp.StatusCode != 200 || !strings.HasPrefix(body, "flowchart TD") {
		t.Errorf("mermaid: %d %s", resp.StatusCode, body)
	}
	if resp, body := serve(t, defs, "/ui/api/graph/flow.dot"); resp.StatusCode != 200 || !strings.HasPrefix(body, `digraph "flow"`) {
		t.Errorf("dot: %d %s", resp.StatusCode, body)
	}
	for path, code := range map[string]int{"/ui/api/graph/none.svg": 404, "/ui/api/graph/down.svg": 503, "/ui/api/graph/bad.svg": 422} {
		if resp, _ := serve(t, defs, path); resp.StatusCode != code {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, code)
		}
	}
	// An extension that is no format is tried as part of the name; when
	// that is not registered either, the 404 lists the formats there are.
	resp, body = serve(t, defs, "/ui/api/graph/flow.png")
	if want := `workflow "flow.png" is not registered, and .png is not a graph format: ask for flow.svg, flow.mmd (Mermaid) or flow.dot (Graphviz)`; resp.StatusCode != 404 || strings.TrimSpace(body) != want {
		t.Errorf("flow.png: %d %q, want 404 %q", resp.StatusCode, body, want)
	}
	if resp, body := serve(t, defs, "/ui/api/graph/none.svg"); strings.Contains(body, "format") {
		t.Errorf("none.svg: %d %q names formats, but .svg is one", resp.StatusCode, body)
	}
	if resp, _ := serve(t, nil, "/ui/api/graph/flow.svg"); resp.StatusCode != 501 {
		t.Errorf("no definition source: %d", resp.StatusCode)
	}
}
