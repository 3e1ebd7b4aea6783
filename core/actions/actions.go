// Package actions holds the registry of actions a runner can run: Lazyflow's
// built-in std.* actions, and whatever a Go program registers. An action is
// an ordinary function of its input; an error it returns is an ordinary
// error result of the task, not a failure of the runner.
package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
)

// Func runs an action.
type Func func(ctx context.Context, input map[string]any) (any, error)

// Callback is what a delegate (asynchronous) action gets: the URL a third
// party posts the result to, and when it stops working.
type Callback struct {
	URL     string
	Token   string
	Expires int64
}

// AsyncFunc starts a delegate action. It returns without a result; the
// result arrives later through the callback.
type AsyncFunc func(ctx context.Context, input map[string]any, cb Callback) error

// ErrUnknownAction is returned for an action nobody registered.
var ErrUnknownAction = errors.New("unknown action")

// Registry maps action names to implementations. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	sync  map[string]Func
	async map[string]AsyncFunc
}

// New returns a registry holding the built-in actions.
func New() *Registry {
	r := &Registry{sync: map[string]Func{}, async: map[string]AsyncFunc{}}
	registerBuiltins(r)
	return r
}

// Register adds or replaces a synchronous action.
func (r *Registry) Register(name string, fn Func) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sync[name] = fn
	delete(r.async, name)
}

// RegisterAsync adds or replaces a delegate action.
func (r *Registry) RegisterAsync(name string, fn AsyncFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.async[name] = fn
	delete(r.sync, name)
}

// IsAsync reports whether name is a delegate action.
func (r *Registry) IsAsync(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.async[name]
	return ok
}

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, a := r.async[name]
	_, s := r.sync[name]
	return a || s
}

// Names lists the registered actions.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for n := range r.sync {
		out = append(out, n)
	}
	for n := range r.async {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Run runs action name. For a delegate action it starts it and reports
// async=true with no output. A panic in an action becomes its error result.
func (r *Registry) Run(ctx context.Context, name string, input map[string]any, cb func() (Callback, error)) (out any, async bool, err error) {
	r.mu.RLock()
	fn, okSync := r.sync[name]
	afn, okAsync := r.async[name]
	r.mu.RUnlock()
	defer func() {
		if p := recover(); p != nil {
			out, async = nil, false
			err = fmt.Errorf("action %s panicked: %v\n%s", name, p, firstLines(debug.Stack(), 12))
		}
	}()
	switch {
	case okSync:
		out, err = fn(ctx, input)
		return out, false, err
	case okAsync:
		c, err := cb()
		if err != nil {
			return nil, false, fmt.Errorf("action %s: make callback: %w", name, err)
		}
		return nil, true, afn(ctx, input, c)
	}
	return nil, false, fmt.Errorf("action %q: %w", name, ErrUnknownAction)
}

func firstLines(b []byte, n int) string {
	lines := 0
	for i, c := range b {
		if c == '\n' {
			lines++
			if lines == n {
				return string(b[:i])
			}
		}
	}
	return string(b)
}
