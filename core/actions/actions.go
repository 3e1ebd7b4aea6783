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
	"strings"
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
	// MistralURL is where a Mistral delegate PUTs its result
	// (…/v2/action_executions/<token>); empty when the host serves no /v2.
	MistralURL string
}

// AsyncFunc starts a delegate action. It returns without a result; the
// result arrives later through the callback.
type AsyncFunc func(ctx context.Context, input map[string]any, cb Callback) error

// ErrUnknownAction is returned for an action nobody registered.
var ErrUnknownAction = errors.New("unknown action")

// Registry maps action names to implementations. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	sync   map[string]Func
	async  map[string]AsyncFunc
	params map[string]Params
	// binders make the Func of a user action of each kind (see Bind).
	binders map[string]Binder
	// trivial names the built-ins that do nothing but return (std.noop,
	// std.echo, std.fail): a host may run them inline, without a queue hop.
	trivial map[string]bool
}

// Params declares an action's input names, so a call with an unknown or a
// missing one fails before the action runs, with Mistral's "Invalid input"
// error. An action without declared Params takes any input.
type Params struct {
	Required []string
	Optional []string
}

// New returns a registry holding the built-in actions.
func New() *Registry {
	r := &Registry{sync: map[string]Func{}, async: map[string]AsyncFunc{}, params: map[string]Params{}, binders: map[string]Binder{}, trivial: map[string]bool{}}
	registerBuiltins(r)
	return r
}

// Declare sets the input names action name accepts (see Params).
func (r *Registry) Declare(name string, p Params) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.params[name] = p
}

// checkInput reports unexpected and missing input names as Mistral does:
// "Invalid input [name=std.echo, unexpected=['x'], missing=['output']]".
func checkInput(name string, p Params, input map[string]any) error {
	known := map[string]bool{}
	for _, k := range p.Required {
		known[k] = true
	}
	for _, k := range p.Optional {
		known[k] = true
	}
	var unexpected, missing []string
	for k := range input {
		if !known[k] {
			unexpected = append(unexpected, "'"+k+"'")
		}
	}
	for _, k := range p.Required {
		if _, ok := input[k]; !ok {
			missing = append(missing, "'"+k+"'")
		}
	}
	if len(unexpected) == 0 && len(missing) == 0 {
		return nil
	}
	sort.Strings(unexpected)
	msg := "Invalid input [name=" + name
	if len(unexpected) > 0 {
		msg += ", unexpected=[" + strings.Join(unexpected, ", ") + "]"
	}
	if len(missing) > 0 {
		msg += ", missing=[" + strings.Join(missing, ", ") + "]"
	}
	return errors.New(msg + "]")
}

// Register adds or replaces a synchronous action (and forgets the input
// names declared for an action it replaces).
func (r *Registry) Register(name string, fn Func) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sync[name] = fn
	delete(r.async, name)
	delete(r.params, name)
	delete(r.trivial, name)
}

// RegisterAsync adds or replaces a delegate action (see Register).
func (r *Registry) RegisterAsync(name string, fn AsyncFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.async[name] = fn
	delete(r.sync, name)
	delete(r.params, name)
	delete(r.trivial, name)
}

// Trivial reports whether name is one of the built-in actions that only
// return a value or an error (std.noop, std.echo, std.fail) and has not been
// replaced: running one costs less than sending it anywhere, so hosts run
// them inline in the engine step.
func (r *Registry) Trivial(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.trivial[name]
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

// ActionInputs reports whether name is registered and, when its inputs are
// declared (see Params), which it requires and accepts. It lets the
// workflow validator check calls before they run (dsl.ActionCatalog).
func (r *Registry) ActionInputs(name string) (required, optional []string, declared, exists bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, a := r.async[name]
	_, s := r.sync[name]
	p, declared := r.params[name]
	return p.Required, p.Optional, declared, a || s
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
	p, declared := r.params[name]
	r.mu.RUnlock()
	if declared && (okSync || okAsync) {
		if err := checkInput(name, p, input); err != nil {
			return nil, false, err
		}
	}
	defer recoverAction(name, &out, &async, &err)
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

// recoverAction turns a panic in action name into its error result.
func recoverAction(name string, out *any, async *bool, err *error) {
	if p := recover(); p != nil {
		*out, *async = nil, false
		*err = fmt.Errorf("action %s panicked: %v\n%s", name, p, firstLines(debug.Stack(), 12))
	}
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
