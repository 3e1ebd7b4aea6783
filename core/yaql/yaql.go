// Package yaql implements the subset of YAQL (Yet Another Query Language) that
// Mistral v2 workflows use inside <% %> delimiters.
//
// An expression is compiled once (Compile) and evaluated many times (Eval)
// against an Env. Values are the JSON-like values of package value.
//
// The language follows OpenStack YAQL 1.x as Mistral configures it:
//
//   - `$` is the data, `$.key` reads a dict key, `$.list[0]` indexes,
//     `$.list.key` reads key from every element; `?.` returns null on null.
//   - A bare word such as `ubuntu` or `t1` is a string, so `task(t1)` and
//     `task('t1')` are the same call.
//   - Operators, loosest first: `->`, or, and, not, comparisons (= != < <= >
//     >= in), + -, * / mod, =~ !~, unary + -, then . ?. [] and calls.
//     `/` on two ints is floor division and mod follows Python's sign rule.
//   - and/or return one of their operands (Python semantics); not, where and
//     conditions use Python truthiness (value.Truthy).
//   - Reading a missing dict key with `.key` or `[key]` is an error, as in
//     Mistral (its own unit test expects `$.wrong_key` to fail); use
//     `$.get(key, default)` for optional keys, or set Env.NullOnMissingKey.
//
// Deliberate differences: there are no clocks or randomness (now(),
// localNow(), random() are refused) so that the lazy engine can re-evaluate an
// expression and get the same answer; host functions (task, execution, uuid,
// ...) come from Env.Funcs and override built-ins of the same name. Dict keys
// are always strings: non-string keys are converted the way json.dumps does
// (4 -> "4", null -> "null", true -> "true"). Regular expressions use Go's RE2
// syntax, which has no backreferences but runs in linear time. Integers
// are 64-bit: a result beyond that is an error, never a wrapped value.
// Lists are built whole: yaql's sets are lists, and its infinite sequences
// (sequence(), cycle(), repeat() without a count) are refused.
//
// Every evaluation is sandboxed: a step budget bounds work (each node, lambda
// call and produced list element costs a step), strings and lists have
// maximum sizes, and parse depth is bounded so no input can exhaust the stack.
//
// The standard library is a table of signatures (signature.go): each
// function is a row giving its names, how yaql lets it be called (as a
// method x.f(a), a function f(x, a), or both), the receiver's kind, its
// arity and its leading arguments' kinds, and the table machinery checks
// and converts them before the Go function runs. The rows live beside their
// functions: queries.go, sequences.go, collections.go, dicts.go,
// strings.go, regex.go, math.go, branching.go, datetime.go and mistral.go
// (Mistral's json_*, yaml_* — pyyaml.go — and uuid).
package yaql

import (
	"github.com/lazyflow/lazyflow/core/value"

	"errors"
	"fmt"
	"sync"
	"unicode/utf8"
)

// Func is a host-provided function callable from an expression, such as
// task(), execution() or env(). Arguments are already evaluated. When called
// as a method (`x.f(a)`), the receiver comes first. The args slice may be
// shared between evaluations: a Func must not modify or retain it.
type Func func(args []any) (any, error)

// Default limits, used when the corresponding Env field is zero.
const (
	DefaultMaxSteps     = 1_000_000
	DefaultMaxStringLen = 1 << 20 // bytes
	DefaultMaxListLen   = 1_000_000
	// MaxDepth bounds the nesting of an expression (parentheses, calls,
	// lists, operators). Compile rejects anything deeper, which also bounds
	// the evaluator's recursion.
	MaxDepth = 200
	// MaxSourceLen bounds the text Compile accepts.
	MaxSourceLen = 64 << 10
)

// Env is what an expression sees when it runs.
type Env struct {
	Data  any             // the value of $
	Funcs map[string]Func // extra functions provided by the host (task, tasks, execution, env, ...)

	// MaxSteps bounds the work of one evaluation (0 = DefaultMaxSteps).
	MaxSteps int64
	// MaxStringLen bounds, in bytes, any string an expression builds
	// (0 = DefaultMaxStringLen).
	MaxStringLen int
	// MaxListLen bounds the length of any list or dict an expression builds
	// (0 = DefaultMaxListLen).
	MaxListLen int
	// NullOnMissingKey makes `$.missing` and `$[missing]` return null instead
	// of failing (YAQL's legacy behaviour).
	NullOnMissingKey bool
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrSyntax is matched by every Compile error.
	ErrSyntax = errors.New("yaql: syntax error")
	// ErrEval is matched by every Eval error.
	ErrEval = errors.New("yaql: evaluation error")
	// ErrLimit is matched by Eval errors caused by a sandbox limit (steps,
	// string or list size).
	ErrLimit = errors.New("yaql: sandbox limit exceeded")
)

// SyntaxError reports where and why an expression does not parse.
type SyntaxError struct {
	Source string
	Column int // 1-based, counted in characters
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("yaql: at column %d: %s", e.Column, e.Msg)
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

func syntaxErr(src string, pos int, msg string) *SyntaxError {
	if pos > len(src) {
		pos = len(src)
	}
	return &SyntaxError{Source: src, Column: utf8.RuneCountInString(src[:pos]) + 1, Msg: msg}
}

// EvalError reports a failed evaluation: the operation that failed and the
// expression it failed in. Err holds the cause when there is one (a host
// function's error, ErrLimit).
type EvalError struct {
	Source string
	Msg    string
	Err    error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("yaql: %s in %q", e.Msg, e.Source)
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrEval) true.
func (e *EvalError) Is(target error) bool { return target == ErrEval }

// opError is what the evaluator returns internally; Eval adds the source.
type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

func failf(format string, args ...any) error {
	return &opError{msg: fmt.Sprintf(format, args...)}
}

// Expr is a compiled expression. It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	root evalFn
}

// Compile parses src (the text between <% and %>, without delimiters).
func Compile(src string) (*Expr, error) {
	if len(src) > MaxSourceLen {
		return nil, &SyntaxError{Source: src, Column: 1, Msg: fmt.Sprintf("expression is longer than %d bytes", MaxSourceLen)}
	}
	buf := tokPool.Get().(*[]token)
	toks, err := lex(src, (*buf)[:0])
	if err != nil {
		putToks(buf, toks)
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	n, err := p.parseAll()
	putToks(buf, toks)
	if err != nil {
		return nil, err
	}
	root, err := compileNode(n, src)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: root}, nil
}

// tokPool recycles token slices: the syntax tree copies what it needs from
// the tokens, so they are garbage as soon as parsing ends, and allocating
// them afresh dominated the cost of compiling the many short expressions of
// a large workflow.
var tokPool = sync.Pool{New: func() any { s := make([]token, 0, 32); return &s }}

// maxPooledToks keeps one huge expression from pinning a huge slice.
const maxPooledToks = 1024

func putToks(buf *[]token, toks []token) {
	if cap(toks) > maxPooledToks {
		return
	}
	clear(toks) // drop references to the source strings; the rest is already zero
	*buf = toks[:0]
	tokPool.Put(buf)
}

// MustCompile is Compile for expressions known at build time; it panics on
// a syntax error.
func MustCompile(src string) *Expr {
	e, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return e
}

// Source returns the text the expression was compiled from.
func (e *Expr) Source() string { return e.src }

var evalPool = sync.Pool{New: func() any { return new(evaluator) }}

// Eval runs the expression. The result is a JSON-like value; Eval never
// panics, whatever the expression or the data.
func (e *Expr) Eval(env *Env) (result any, err error) {
	if env == nil {
		env = &Env{}
	}
	ev := evalPool.Get().(*evaluator)
	ev.reset(env)
	defer func() {
		if r := recover(); r != nil {
			// A bug in a built-in must not take the engine down with it.
			result, err = nil, &EvalError{Source: e.src, Msg: fmt.Sprintf("internal error: %v", r)}
		}
		ev.reset(nil)
		evalPool.Put(ev)
	}()
	v, err := e.root(ev, &ev.root)
	if err == nil && ev.internal {
		v, err = ev.exportValue(v)
	}
	if err != nil {
		var oe *opError
		if errors.As(err, &oe) {
			return nil, &EvalError{Source: e.src, Msg: oe.msg, Err: oe.err}
		}
		return nil, &EvalError{Source: e.src, Msg: err.Error(), Err: err}
	}
	return v, nil
}

// Eval compiles and runs src once; use Compile to evaluate repeatedly.
func Eval(src string, env *Env) (any, error) {
	e, err := Compile(src)
	if err != nil {
		return nil, err
	}
	return e.Eval(env)
}

// exportValue rejects the evaluator's internal values (let contexts, regular
// expressions, timespans), which have no JSON form and would confuse the
// host, and turns datetimes into the text Mistral stores. It only runs when
// the evaluation created one, so ordinary results are not walked.
func (ev *evaluator) exportValue(v any) (any, error) {
	r, _, err := ev.export(v)
	return r, err
}

// export is exportValue, and whether it changed v: a container is copied
// only when something inside it changed.
func (ev *evaluator) export(v any) (any, bool, error) {
	switch x := v.(type) {
	case *letContext:
		return nil, false, failf("let(...) must be followed by -> and an expression")
	case *regexValue:
		return nil, false, failf("a regex(...) value cannot be part of the result of an expression")
	case *lazySeq:
		l, err := ev.drain(x)
		if err != nil {
			return nil, false, err
		}
		r, _, err := ev.export(l)
		return r, true, err
	case *pySet:
		l, err := x.export()
		if err != nil {
			return nil, false, err
		}
		r, _, err := ev.export(l)
		return r, true, err
	case timeSpan:
		return nil, false, failf("a timespan cannot be part of the result of an expression: take one of its properties, e.g. .seconds")
	case dateTime:
		return x.export(), true, nil
	case []any:
		// The walk pays per element: shared sub-lists make a result's
		// logical size far larger than the steps it took to build.
		if err := ev.charge(len(x)); err != nil {
			return nil, false, err
		}
		var out []any
		for i, e := range x {
			r, changed, err := ev.export(e)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = append(make([]any, 0, len(x)), x[:i]...)
			}
			if out != nil {
				out = append(out, r)
			}
		}
		if out != nil {
			return out, true, nil
		}
	case map[string]any:
		return ev.export(value.MapOf(x))
	case *value.Map:
		if err := ev.charge(x.Len()); err != nil {
			return nil, false, err
		}
		var out *value.Map
		for k, e := range x.All() {
			r, changed, err := ev.export(e)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = x.Clone()
				}
				out.Set(k, r)
			}
		}
		if out != nil {
			return out, true, nil
		}
	}
	return v, false, nil
}
