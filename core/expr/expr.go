// Package expr compiles and evaluates the values found in Mistral workflow
// definitions: plain data, YAQL expressions inside <% %> and Jinja expressions
// inside {{ }} (and Jinja statements inside {% %}).
//
// A string that is exactly one expression evaluates to a typed value; a string
// with an expression inside larger text is interpolated, as Mistral does. Maps
// and lists are walked recursively, and map keys may be expressions too.
// Everything is compiled once (Compile) and evaluated many times (Eval): the
// engine's hot path never parses.
//
// Evaluation is sandboxed: expressions see only the data and host functions in
// the Context, can do no I/O, and Jinja evaluation runs under the limits in
// jinja.go (Limits), so a hostile template ends with an error rather than
// hanging or exhausting memory.
package expr

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/core/yaql"
)

// Func is a host function (task, tasks, execution, env, ...). It is the same
// type as yaql.Func so one map of functions serves both languages without
// copying on every evaluation.
type Func = yaql.Func

// Context is what an expression sees at evaluation time.
type Context struct {
	// Data is $ in YAQL, _ in Jinja: a *value.Map, whose order keys(),
	// iteration and printing show, or a map[string]any (its keys sorted).
	Data  any
	Funcs map[string]Func // host functions
	// Root, when RootSet, is $ / _ instead of Data: a value that need not
	// be a map (an ad-hoc action's output sees its base action's result,
	// which may be a string).
	Root    any
	RootSet bool
}

// root is $ / _: Root when RootSet, else Data, where a nil dict of
// either shape is an empty one.
func (ctx *Context) root() any {
	if ctx.RootSet {
		return ctx.Root
	}
	switch d := ctx.Data.(type) {
	case map[string]any:
		if d != nil {
			return d
		}
	case *value.Map:
		if d != nil {
			return d
		}
	}
	return map[string]any{}
}

// CompileError reports an expression that does not parse. Text is the whole
// string as written in the definition, so callers can locate it.
type CompileError struct {
	Text string
	Err  error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("invalid expression %q: %v", e.Text, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

// EvalError reports an expression that failed at run time.
type EvalError struct {
	Text string
	Err  error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("cannot evaluate %q: %v", e.Text, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// node is one compiled piece of a value.
type node interface {
	eval(ctx *Context) (any, error)
}

// Value is a compiled definition value.
type Value struct {
	src   any
	n     node     // nil when the value holds no expression
	exprs []string // every expression string found, in walk order
	// names and namesOK are RootNames, computed once at compile time as a
	// Value is shared by concurrent evaluations.
	names   []string
	namesOK bool
}

// Compile compiles a value read from YAML (string, number, bool, nil, []any,
// *value.Map, whose order the result keeps; a Go map[string]any is read with
// its keys sorted). The error, if any, is a *CompileError (possibly several
// joined with errors.Join when more than one string is broken).
func Compile(v any) (*Value, error) {
	return compileWith(v, nil)
}

// Compiler compiles values like Compile but compiles each distinct
// expression string only once, which pays off when loading a large
// definition that repeats the same expressions in many tasks. Compiled
// expressions are never modified after compilation, so the Values it returns
// may share them and still evaluate independently. The zero Compiler is ready
// to use; a Compiler is not safe for concurrent use, and it keeps every
// expression it has seen, so use one per definition rather than forever.
type Compiler struct {
	strs map[string]compiled     // by the whole string as written
	yaql map[string]yaqlCompiled // by the text between <% and %>, trimmed
}

type compiled struct {
	n      node
	isExpr bool
	err    error
}

type yaqlCompiled struct {
	e   *yaql.Expr
	err error
}

// Compile is the package-level Compile with the cache.
func (c *Compiler) Compile(v any) (*Value, error) {
	return compileWith(v, c)
}

func compileWith(v any, cache *Compiler) (*Value, error) {
	c := &compiler{cache: cache}
	n := c.compile(v)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	names, ok := rootNames(c.exprs)
	return &Value{src: v, n: n, exprs: c.exprs, names: names, namesOK: ok}, nil
}

// MustCompile is Compile for values known to be valid (tests, built-in defaults).
func MustCompile(v any) *Value {
	val, err := Compile(v)
	if err != nil {
		panic(err)
	}
	return val
}

// Const wraps a plain value with no expressions.
func Const(v any) *Value { return &Value{src: v} }

// IsConst reports whether the value holds no expression.
func (v *Value) IsConst() bool { return v == nil || v.n == nil }

// Source returns the value as written.
func (v *Value) Source() any {
	if v == nil {
		return nil
	}
	return v.src
}

// Expressions lists the strings of the value that hold an expression, as
// written, so a validator or a UI can show them.
func (v *Value) Expressions() []string {
	if v == nil {
		return nil
	}
	return v.exprs
}

// Eval evaluates the value. A nil *Value evaluates to nil. Constant maps and
// lists are copied so callers may modify what they get.
func (v *Value) Eval(ctx *Context) (any, error) {
	if v == nil {
		return nil, nil
	}
	if v.n == nil {
		return value.Copy(v.src), nil
	}
	if ctx == nil {
		ctx = &Context{}
	}
	return v.n.eval(ctx)
}

// Condition evaluates v and reports whether the result is true in Mistral's
// (Python's) sense: nil, false, 0, "" and empty collections are false. A nil
// *Value is true, because an absent condition means "always".
func Condition(v *Value, ctx *Context) (bool, error) {
	if v == nil {
		return true, nil
	}
	r, err := v.Eval(ctx)
	if err != nil {
		return false, err
	}
	return truthy(r), nil
}

type compiler struct {
	errs  []error
	exprs []string
	cache *Compiler // nil: compile everything afresh
}

func (c *compiler) compile(v any) node {
	switch x := v.(type) {
	case string:
		return c.str(x)
	case []any:
		// Constant items stay nil here and are taken from consts, so a
		// large constant list inside a dynamic one boxes nothing.
		items := make([]node, len(x))
		dynamic := false
		for i, e := range x {
			if n := c.compile(e); n != nil {
				items[i] = n
				dynamic = true
			}
		}
		if !dynamic {
			return nil
		}
		return &listNode{items: items, consts: append([]any(nil), x...)}
	case map[string]any:
		return c.compile(value.MapOf(x))
	case *value.Map:
		keys := x.Keys()
		var keyNodes, vals []node
		dynamic := false
		for i, k := range keys {
			kn := c.str(k)
			vn := c.compile(x.Value(k))
			if kn != nil {
				if keyNodes == nil {
					keyNodes = make([]node, len(keys))
				}
				keyNodes[i] = kn
				dynamic = true
			}
			if vn != nil {
				if vals == nil {
					vals = make([]node, len(keys))
				}
				vals[i] = vn
				dynamic = true
			}
		}
		if !dynamic {
			return nil
		}
		m := &mapNode{keys: keys, keyNodes: keyNodes, vals: vals, consts: make([]any, len(keys))}
		for i, k := range keys {
			if vals == nil || vals[i] == nil {
				m.consts[i] = x.Value(k)
			}
		}
		return m
	}
	return nil
}

// str compiles one string, recording it when it holds an expression.
func (c *compiler) str(s string) node {
	n, isExpr, err := c.cache.compileString(s)
	if err != nil {
		c.errs = append(c.errs, err)
		return nil
	}
	if isExpr {
		c.exprs = append(c.exprs, s)
	}
	return n
}

// compileString is the package-level compileString, remembering strings
// that hold an expression (or fail to compile); a nil Compiler remembers
// nothing. Plain strings are not kept: they are cheap to recognise and
// rarely repeat.
func (c *Compiler) compileString(s string) (node, bool, error) {
	if c == nil {
		return compileString(s, nil)
	}
	if r, ok := c.strs[s]; ok {
		return r.n, r.isExpr, r.err
	}
	n, isExpr, err := compileString(s, c)
	if isExpr || err != nil {
		if c.strs == nil {
			c.strs = make(map[string]compiled, 64)
		}
		c.strs[s] = compiled{n, isExpr, err}
	}
	return n, isExpr, err
}

// compileYAQL compiles the text of one <% %>, remembering the result so that
// "<% $.x %>-1" and "<% $.x %>-2" share the parse of $.x.
func (c *Compiler) compileYAQL(src string) (*yaql.Expr, error) {
	if c == nil {
		return yaql.Compile(src)
	}
	if r, ok := c.yaql[src]; ok {
		return r.e, r.err
	}
	e, err := yaql.Compile(src)
	if c.yaql == nil {
		c.yaql = map[string]yaqlCompiled{}
	}
	c.yaql[src] = yaqlCompiled{e, err}
	return e, err
}

// compileString compiles one string. It returns a nil node (and false) when
// the string holds no expression. cache may be nil.
func compileString(s string, cache *Compiler) (node, bool, error) {
	hasYAQL := strings.Contains(s, "<%")
	// The regexp needs "{{" or "{%" to match; most strings have neither.
	hasJinja := (strings.Contains(s, "{{") || strings.Contains(s, "{%")) && jinjaMarker.MatchString(s)
	switch {
	case hasYAQL && hasJinja && yaqlMarker.MatchString(s):
		// Mistral refuses this too: which language would own the string?
		return nil, false, &CompileError{Text: s, Err: errors.New("mixing YAQL (<% %>) and Jinja ({{ }}) in one string is not allowed")}
	case hasJinja:
		n, err := compileJinja(s)
		if err != nil {
			return nil, false, &CompileError{Text: s, Err: err}
		}
		return n, true, nil
	case hasYAQL:
		n, err := compileYAQL(s, cache)
		if err != nil {
			return nil, false, &CompileError{Text: s, Err: err}
		}
		if n == nil {
			return nil, false, nil
		}
		return n, true, nil
	}
	return nil, false, nil
}

// compileYAQL splits s into text and <% %> pieces. cache may be nil.
func compileYAQL(s string, cache *Compiler) (node, error) {
	var parts []node
	rest := s
	found := false
	for {
		i := strings.Index(rest, "<%")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], "%>")
		if j < 0 {
			// Mistral's pattern (<%.*?%>) finds no expression here either:
			// the rest is plain text.
			break
		}
		src := rest[i+2 : i+2+j]
		var e *yaql.Expr
		var err error
		if !found && i == 0 && i+2+j+2 == len(rest) {
			// The whole string is one expression, which the string cache
			// already holds: a second entry would only cost an insert.
			e, err = yaql.Compile(strings.TrimSpace(src))
		} else {
			e, err = cache.compileYAQL(strings.TrimSpace(src))
		}
		if err != nil {
			return nil, err
		}
		found = true
		if i > 0 {
			parts = append(parts, constNode{rest[:i]})
		}
		// The text as written, delimiters included, is a slice of s.
		parts = append(parts, &yaqlNode{e: e, text: rest[i : i+2+j+2]})
		rest = rest[i+2+j+2:]
	}
	if !found {
		return nil, nil
	}
	if rest != "" {
		parts = append(parts, constNode{rest})
	}
	if len(parts) == 1 {
		// Exactly one expression and nothing else: the typed value.
		return parts[0], nil
	}
	return &concatNode{parts: parts, text: s}, nil
}

type constNode struct{ v any }

func (n constNode) eval(*Context) (any, error) { return value.Copy(n.v), nil }

type yaqlNode struct {
	e    *yaql.Expr
	text string
}

func (n *yaqlNode) eval(ctx *Context) (r any, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &EvalError{Text: n.text, Err: fmt.Errorf("internal error: %v", p)}
		}
	}()
	r, err = n.e.Eval(&yaql.Env{Data: ctx.root(), Funcs: ctx.Funcs})
	if err == nil {
		err = finite(r)
	}
	if err != nil {
		return nil, &EvalError{Text: n.text, Err: err}
	}
	return r, nil
}

// finite refuses a result holding a number out of float64's range (an
// overflow such as 10 ** 1000000000 gives +Inf) or NaN: JSON has no such
// number, so it could be neither stored nor sent to an action, and a
// duration made of it would overflow.
func finite(v any) error {
	switch x := v.(type) {
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Errorf("%w: the result is a number out of range (%v)", ErrLimit, x)
		}
	case []any:
		for _, e := range x {
			if err := finite(e); err != nil {
				return err
			}
		}
	case *value.Map:
		for _, e := range x.All() {
			if err := finite(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// concatNode interpolates: every part's result is turned into text.
type concatNode struct {
	parts []node
	text  string
}

func (n *concatNode) eval(ctx *Context) (any, error) {
	var b strings.Builder
	for _, p := range n.parts {
		if c, ok := p.(constNode); ok {
			b.WriteString(c.v.(string))
			continue
		}
		r, err := p.eval(ctx)
		if err != nil {
			return nil, err
		}
		b.WriteString(pyStr(r)) // Mistral interpolates with Python's str()
		if b.Len() > DefaultLimits.MaxOutput {
			return nil, &EvalError{Text: n.text, Err: fmt.Errorf("result longer than %d bytes", DefaultLimits.MaxOutput)}
		}
	}
	return b.String(), nil
}

// listNode is a list with at least one dynamic item; items[i] is nil where
// the item is the constant consts[i].
type listNode struct {
	items  []node
	consts []any
}

func (n *listNode) eval(ctx *Context) (any, error) {
	out := make([]any, len(n.items))
	for i, e := range n.items {
		if e == nil {
			out[i] = value.Copy(n.consts[i])
			continue
		}
		r, err := e.eval(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// mapNode is a mapping with at least one dynamic key or value. keyNodes and
// vals are nil when no key (value) is dynamic, and hold nil where that key
// (value) is constant: keys[i] (consts[i]).
type mapNode struct {
	keys     []string
	keyNodes []node
	vals     []node
	consts   []any
}

func (n *mapNode) eval(ctx *Context) (any, error) {
	out := value.NewMap(len(n.keys))
	for i, ks := range n.keys {
		if n.keyNodes != nil && n.keyNodes[i] != nil {
			k, err := n.keyNodes[i].eval(ctx)
			if err != nil {
				return nil, err
			}
			var ok bool
			if ks, ok = k.(string); !ok {
				ks = toString(k)
			}
		}
		var v any
		if n.vals != nil && n.vals[i] != nil {
			var err error
			if v, err = n.vals[i].eval(ctx); err != nil {
				return nil, err
			}
		} else {
			v = value.Copy(n.consts[i])
		}
		out.Set(ks, v)
	}
	return out, nil
}
