package webui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Mount serves the UI under Prefix beside api, and sends the bare address
// to it, so opening a service's URL shows something to look at. Every other
// path is the API's, unchanged. Both hosts (the local server and the api
// Lambda function) serve the UI through it.
func Mount(api http.Handler, st DefinitionReader, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(Prefix, New(Options{Definitions: StoreDefinitions(st), Log: log}))
	mux.Handle("GET /{$}", Redirect())
	mux.Handle("/", api)
	return mux
}

// DefinitionReader is the one store method the UI's graphs need.
type DefinitionReader interface {
	Definition(ctx context.Context, name string) (*engine.Definition, error)
}

// StoreDefinitions reads a registered workflow's source for the UI's graphs.
func StoreDefinitions(st DefinitionReader) DefinitionSource {
	return func(ctx context.Context, name string) (string, error) {
		d, err := st.Definition(ctx, name)
		if errors.Is(err, store.ErrNotFound) || (err == nil && d == nil) {
			return "", ErrNoWorkflow
		}
		if err != nil {
			return "", fmt.Errorf("read definition %s: %w", name, err)
		}
		return d.Source, nil
	}
}
