// Package yaql implements the subset of YAQL (Yet Another Query Language) that
// Mistral v2 workflows use inside <% %> delimiters.
//
// An expression is compiled once (Compile) and evaluated many times (Eval)
// against an Env. Values are the JSON-like values of package value.
package yaql

import "errors"

// Func is a host-provided function callable from an expression, such as
// task(), execution() or env(). Arguments are already evaluated.
type Func func(args []any) (any, error)

// Env is what an expression sees when it runs.
type Env struct {
	Data  any             // the value of $
	Funcs map[string]Func // extra functions provided by the host (task, tasks, execution, env, ...)
}

// Expr is a compiled expression.
type Expr struct{ src string }

// Compile parses src (the text between <% and %>, without delimiters).
func Compile(src string) (*Expr, error) { return &Expr{src: src}, nil }

// Source returns the text the expression was compiled from.
func (e *Expr) Source() string { return e.src }

// Eval runs the expression.
func (e *Expr) Eval(env *Env) (any, error) { return nil, errors.New("yaql: not implemented") }
