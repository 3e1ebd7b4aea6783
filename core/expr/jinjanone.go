package expr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/lazyflow/lazyflow/core/value"
)

// None and undefined in Jinja2 are different things: a key that holds null
// is defined, and its value is None, which Jinja2 renders as "None" (it
// renders every value with Python's str()). Under Mistral's StrictUndefined
// only a missing name or key is undefined; gonja reports it as an error
// value, so an error is what undefined means here and nil is None.

// jinjaTests are gonja's tests with defined and undefined telling None
// apart from a missing value.
func jinjaTests() *exec.TestSet {
	tests := exec.NewTestSet(map[string]exec.TestFunction{}).Update(builtins.Tests)
	_ = tests.Replace("defined", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return !in.IsError(), nil
	})
	_ = tests.Replace("undefined", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsError(), nil
	})
	// Python's identity tests: only the bools themselves.
	_ = tests.Replace("true", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsBool() && in.Bool(), nil
	})
	_ = tests.Replace("false", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsBool() && !in.Bool(), nil
	})
	_ = tests.Replace("sequence", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsString() || in.IsList() || in.IsDict(), nil
	})
	// Nothing is Markup: autoescape is off in Mistral.
	_ = tests.Replace("escaped", func(_ *exec.Context, _ *exec.Value, _ *exec.VarArgs) (bool, error) {
		return false, nil
	})
	compareTests(tests)
	_ = tests.Replace("odd", parityTest(1))
	_ = tests.Replace("even", parityTest(0))
	_ = tests.Replace("divisibleby", func(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
		if len(a.Args) != 1 {
			return false, errors.New("divisibleby(num) takes one number")
		}
		r, ok := pyArith(tokens.Modulo, in, a.Args[0])
		if !ok {
			return false, fmt.Errorf("unsupported operand types for %%: %s and %s", pyType(in), pyType(a.Args[0]))
		}
		if r.IsError() {
			return false, unwrapGonja(r)
		}
		v, _ := fromGonja(r)
		return value.Equal(v, int64(0)), nil
	})
	return tests
}

// parityTest is Jinja2's odd (rem 1) or even (rem 0): value % 2 == rem,
// a type error for anything but a number.
func parityTest(rem int64) func(*exec.Context, *exec.Value, *exec.VarArgs) (bool, error) {
	return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		r, ok := pyArith(tokens.Modulo, in, exec.AsValue(2))
		if !ok {
			return false, fmt.Errorf("unsupported operand types for %%: %s and int", pyType(in))
		}
		if r.IsError() {
			return false, unwrapGonja(r)
		}
		v, _ := fromGonja(r)
		return value.Equal(v, rem), nil
	}
}

// defaultFilter is Jinja2's default(value=”, boolean=false): the value
// unless it is undefined (or, with boolean, false in Python's sense); None
// is a value.
func defaultFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	def := exec.AsValue("")
	boolean := false
	if params != nil {
		if len(params.Args) > 0 {
			def = params.Args[0]
		}
		if len(params.Args) > 1 {
			boolean = params.Args[1].IsTrue()
		}
		if b, ok := params.KwArgs["boolean"]; ok {
			boolean = b.IsTrue()
		}
		if d, ok := params.KwArgs["default_value"]; ok {
			def = d
		}
	}
	if _, undefined := in.Interface().(jinjaUndefined); undefined {
		return def
	}
	if in.IsError() {
		return in // raised before default (guardDefault)
	}
	if boolean {
		v, err := fromGonja(in)
		if err != nil || !truthy(v) {
			return def
		}
	}
	return in
}

// splitAtDefault lets default see what the filters before it give: in
// Jinja2, x | first | default('d') is 'd' when x is empty (first gives
// undefined), but gonja stops a filter chain at the first error, so the
// chain is cut before its last default into an inner filtered expression.
func splitAtDefault(f *nodes.FilteredExpression) {
	for i := len(f.Filters) - 1; i > 0; i-- {
		if name := f.Filters[i].Name; name == "default" || name == "d" {
			f.Expression = &nodes.FilteredExpression{Expression: f.Expression, Filters: f.Filters[:i]}
			f.Filters = f.Filters[i:]
			return
		}
	}
}

// strName is the function every rendered {{ }} goes through.
const strName = "__lf_str"

// strFunc renders a value as Python's str() does: strings as they are,
// everything else as its repr.
func strFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 1 {
		return errValue(fmt.Errorf("internal: %s needs one argument", strName))
	}
	in := params.Args[0]
	if in.IsError() || in.IsString() || in.IsCallable() {
		return in
	}
	s, err := pyText(in)
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(s)
}

// wrapOutput makes a {{ }} (and its else branch) render through strFunc.
func wrapOutput(o *nodes.Output) {
	if c, ok := o.Expression.(*nodes.Call); ok && (isName(c.Func, tickName) || isName(c.Func, strName) || isName(c.Func, enterName) || isName(c.Func, leaveName)) {
		return
	}
	o.Expression = strCall(o.Expression)
	if o.Condition != nil {
		// Python's truth for the condition gonja's parser took at the top
		// of {{ }}: gonja's own takes an empty dict for true.
		at := o.Condition.Position()
		o.Condition = callTo(notName, at, callTo(notName, at, o.Condition))
	}
	if o.Alternative != nil {
		o.Alternative = strCall(o.Alternative)
	}
}

// unwrapStr is the expression a wrapped {{ }} renders: a string that is
// exactly one {{ }} evaluates it to a typed value instead.
func unwrapStr(e nodes.Expression) nodes.Expression {
	if c, ok := e.(*nodes.Call); ok && isName(c.Func, strName) && len(c.Args) == 1 {
		return c.Args[0]
	}
	return e
}

func isName(e nodes.Expression, name string) bool {
	n, ok := e.(*nodes.Name)
	return ok && n.Name != nil && n.Name.Val == name
}

func strCall(e nodes.Expression) nodes.Expression { return callTo(strName, e.Position(), e) }

// callTo is a call of the sandbox function name, placed at the source
// position of at (when known) so errors point into the template.
func callTo(name string, at *tokens.Token, args ...nodes.Expression) *nodes.Call {
	tok := &tokens.Token{Type: tokens.Name, Val: name}
	if at != nil {
		tok.Line, tok.Col, tok.Pos = at.Line, at.Col, at.Pos
	}
	return &nodes.Call{Location: tok, Func: &nodes.Name{Name: tok}, Args: args, Kwargs: map[string]nodes.Expression{}}
}

// pyStr is Python's str() of a JSON-like value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	v = value.Normalize(v)
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// writeRepr writes Python's repr.
func writeRepr(b *strings.Builder, v any) {
	b.WriteString(value.PyRepr(v, false))
}

// textFilters are the Jinja2 filters that take their input as text: Python
// calls str() on anything else first ([1, 2] | upper is "[1, 2]").
var textFilters = map[string]bool{
	"capitalize": true, "center": true, "escape": true, "e": true, "forceescape": true,
	"replace": true, "safe": true, "string": true, "striptags": true,
	"title": true, "trim": true, "wordcount": true,
}

// onText gives f its input as Python's str() of it.
func onText(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if in.IsError() || in.IsString() {
			return f(e, in, params)
		}
		s, err := pyText(in)
		if err != nil {
			return f(e, in, params)
		}
		return f(e, exec.AsValue(s), params)
	}
}

// concatStr is Jinja2's ~: both operands as Python's str(), joined.
func concatStr(l, r *exec.Value) *exec.Value {
	var parts [2]string
	for i, v := range []*exec.Value{l, r} {
		if v.IsError() {
			return v
		}
		if s := strFunc(nil, &exec.VarArgs{Args: []*exec.Value{v}}); s.IsString() {
			parts[i] = s.String()
		} else {
			parts[i] = v.String()
		}
	}
	return exec.AsValue(parts[0] + parts[1])
}
