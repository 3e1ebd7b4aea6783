package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

// withUI serves the browser UI under /ui/ beside the API, and sends the bare
// address to it, so opening `make run`'s URL shows something to look at.
// Every other path is the API's, unchanged.
func withUI(api http.Handler, st definitionReader, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(webui.Prefix, webui.New(webui.Options{Definitions: definitions(st), Log: log}))
	mux.Handle("GET /{$}", webui.Redirect())
	mux.Handle("/", api)
	return mux
}

// definitionReader is the one store method the UI's graphs need.
type definitionReader interface {
	Definition(ctx context.Context, name string) (*engine.Definition, error)
}

// definitions reads a registered workflow's source for the UI's graphs.
func definitions(st definitionReader) webui.DefinitionSource {
	return func(ctx context.Context, name string) (string, error) {
		d, err := st.Definition(ctx, name)
		if errors.Is(err, store.ErrNotFound) || (err == nil && d == nil) {
			return "", webui.ErrNoWorkflow
		}
		if err != nil {
			return "", fmt.Errorf("read definition %s: %w", name, err)
		}
		return d.Source, nil
	}
}
