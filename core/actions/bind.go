package actions

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"github.com/lazyflow/lazyflow/core/value"
)

// UserFunc runs a user action. Its input is the whole document it sends
// (an HTTP body, a Lambda payload), so it keeps the order of the task's
// input clause, as Mistral's action input does.
type UserFunc func(ctx context.Context, input *value.Map) (any, error)

// Binder makes the UserFunc of a user action bound to target (a URL, a
// function name…), or says why target is not one it can call. A host
// registers a binder per kind of user action it can run: every registry
// has "http"; the AWS hosts add "lambda".
type Binder func(target string) (UserFunc, error)

// Bind registers the binder of user actions of kind.
func (r *Registry) Bind(kind string, b Binder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.binders[kind] = b
}

// Kinds lists the kinds of user action the registry can bind.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for k := range r.binders {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownKind is returned for a user action kind no binder serves.
var ErrUnknownKind = errors.New("unknown kind of user action")

// BindUser makes the UserFunc of a user action: kind's binder over target.
func (r *Registry) BindUser(kind, target string) (UserFunc, error) {
	r.mu.RLock()
	b, ok := r.binders[kind]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (this host runs %v)", ErrUnknownKind, kind, r.Kinds())
	}
	return b(target)
}

// RunUser runs a user action: fn with input checked against p first, and
// a panic turned into the action's error, as Run does for registered ones.
func (r *Registry) RunUser(ctx context.Context, name string, p Params, fn UserFunc, input *value.Map) (out any, err error) {
	if input == nil {
		input = value.NewMap(0) // sent as {}
	}
	if err := checkInput(name, p, input.GoMap()); err != nil {
		return nil, err
	}
	var async bool
	defer recoverAction(name, &out, &async, &err)
	return fn(ctx, input)
}

// bindHTTP is the "http" binder: the action POSTs its input as JSON to the
// URL and its result is the answer (decoded when it is JSON); an error
// status fails the task with the status and the start of the body.
func bindHTTP(target string) (UserFunc, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http(s) URL", target)
	}
	return func(ctx context.Context, in *value.Map) (any, error) {
		if in == nil {
			in = value.NewMap(0)
		}
		out, err := httpCall(ctx, map[string]any{"url": target, "method": "POST", "json": in}, nil)
		if err != nil {
			return nil, err
		}
		return out.(map[string]any)["content"], nil
	}, nil
}
