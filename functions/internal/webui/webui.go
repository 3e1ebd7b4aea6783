// Package webui is Lazyflow's browser UI: a page listing workflows and
// executions, a workflow's graph beside its YAML with a start form, and an
// execution's graph coloured by task state with pause, resume, cancel and
// rerun. The pages are static files embedded in the binary (no CDN, no
// framework: one small script) that read and steer everything through the
// public HTTP JSON API, exactly as curl would; the only server-side route of
// its own draws a workflow's graph (core/graph), since the layout is done
// in Go.
package webui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/graph"
)

//go:embed static
var static embed.FS

// Prefix is where the UI is mounted.
const Prefix = "/ui/"

// ErrNoWorkflow is what a DefinitionSource returns (wrapped or not) for a
// workflow that is not registered.
var ErrNoWorkflow = errors.New("workflow not registered")

// DefinitionSource returns the stored definition text (a workflow file or
// workbook) that holds the named registered workflow.
type DefinitionSource func(ctx context.Context, name string) (string, error)

// Options configures the handler.
type Options struct {
	// Definitions reads what the graph route draws.
	Definitions DefinitionSource
	Log         *slog.Logger
}

type handler struct {
	opt    Options
	mux    *http.ServeMux
	assets fs.FS
}

// New returns the handler serving everything under Prefix.
func New(opt Options) http.Handler {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(fmt.Sprintf("webui: embedded assets: %v", err)) // the embed pattern guarantees the directory
	}
	h := &handler{opt: opt, mux: http.NewServeMux(), assets: assets}
	page := http.HandlerFunc(h.page)
	h.mux.Handle("GET /ui/{$}", page)
	h.mux.Handle("GET /ui/workflows/{name}", page)
	h.mux.Handle("GET /ui/executions/{id}", page)
	h.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.HandlerFunc(h.asset)))
	h.mux.HandleFunc("GET /ui/api/graph/{file}", h.graph)
	h.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page: "+r.URL.Path, http.StatusNotFound)
	})
	return h
}

// Redirect sends "/" to the UI, so the service's bare address opens it.
func Redirect() http.Handler { return http.RedirectHandler(Prefix, http.StatusFound) }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
	h.mux.ServeHTTP(w, r)
}

// page serves the one HTML shell; its script reads location.pathname to
// know which page to draw.
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(h.assets, "index.html")
	if err != nil {
		http.Error(w, "index.html missing from the build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

var contentTypes = map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	b, err := fs.ReadFile(h.assets, name)
	if err != nil || name == "" {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// graphFormats maps a file extension of the graph route to a renderer.
var graphFormats = map[string]string{".svg": "svg", ".mmd": "mermaid", ".dot": "dot"}

var graphTypes = map[string]string{"svg": "image/svg+xml", "mermaid": "text/plain; charset=utf-8", "dot": "text/vnd.graphviz; charset=utf-8"}

// graph draws GET /ui/api/graph/{workflow}.svg (or .mmd, .dot) from the
// registered definition.
func (h *handler) graph(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, format := file, "svg"
	if f, ok := graphFormats[path.Ext(file)]; ok {
		name, format = strings.TrimSuffix(file, path.Ext(file)), f
	}
	if h.opt.Definitions == nil {
		http.Error(w, "this server has no definition source for graphs", http.StatusNotImplemented)
		return
	}
	src, err := h.opt.Definitions(r.Context(), name)
	if errors.Is(err, ErrNoWorkflow) {
		msg := fmt.Sprintf("workflow %q is not registered", name)
		if ext := path.Ext(file); ext != "" && file == name {
			// A dot may be part of a name (wb.one), so an unknown
			// extension is tried as one; when it is none, x.png was
			// most likely a graph asked for in a format there is not.
			base := strings.TrimSuffix(file, ext)
			msg += fmt.Sprintf(", and %s is not a graph format: ask for %s.svg, %s.mmd (Mermaid) or %s.dot (Graphviz)", ext, base, base, base)
		}
		http.Error(w, msg, http.StatusNotFound)
		return
	}
	if err != nil {
		h.opt.Log.Error("graph: read definition", "workflow", name, "err", err)
		http.Error(w, "could not read the definition", http.StatusServiceUnavailable)
		return
	}
	var out bytes.Buffer
	if err := render(&out, name, src, format); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", graphTypes[format])
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(out.Bytes())
}

func render(out *bytes.Buffer, name, src, format string) error {
	doc, err := dsl.Load(name+".yaml", []byte(src))
	if err != nil {
		return fmt.Errorf("the stored definition of %s does not load: %w", name, err)
	}
	g, err := graph.FromDocument(doc, name)
	if err != nil {
		return fmt.Errorf("graph of %s: %w", name, err)
	}
	return g.Render(out, format, graph.SVGOptions{WorkflowLink: Prefix + "workflows/"})
}
