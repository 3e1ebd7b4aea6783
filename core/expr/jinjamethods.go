package expr

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// In Jinja2, x.name finds a method of a str, dict or list before anything
// else, so {{ _.s.upper is defined }} and {{ _.d.items is defined }} are
// true. Lazyflow has no method values (a dict's d.items fails, see
// guardDictMethod; a string's is a missing attribute), so a test that asks
// only whether a value exists (defined, undefined, callable) on an
// attribute compiles to __lf_attrtest([target], 'name', 'test', args…),
// which answers for a method by its name and leaves anything else to the
// test.
const attrTestName = "__lf_attrtest"

// methodTests are the tests whose answer for a method does not depend on
// the method itself.
var methodTests = map[string]bool{"defined": true, "undefined": true, "callable": true}

// Python's public method names of str, dict and list, as Jinja2's sandbox
// lets a template see them.
var (
	strMethodNames = setOf("capitalize", "casefold", "center", "count", "encode", "endswith",
		"expandtabs", "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii",
		"isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
		"istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition",
		"removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition",
		"rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title",
		"translate", "upper", "zfill")
	listMethodNames = setOf("append", "clear", "copy", "count", "extend", "index", "insert",
		"pop", "remove", "reverse", "sort")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func attrTestCall(t *nodes.TestExpression) *nodes.Call {
	a, ok := t.Expression.(*nodes.GetAttribute)
	if !ok || t.Test == nil || !methodTests[t.Test.Name] || a.Attribute == "" || a.Location == nil {
		return nil
	}
	target, ok := a.Node.(nodes.Expression)
	if c, isCall := target.(*nodes.Call); isCall && isName(c.Func, noAttrName) && len(c.Args) == 2 {
		// guardDictMethod has already wrapped the target.
		target = c.Args[0]
	}
	if !ok || target == nil {
		return nil
	}
	in := &nodes.List{Location: a.Location, Val: []nodes.Expression{target}}
	name := &nodes.String{Location: a.Location, Val: a.Attribute}
	test := &nodes.String{Location: t.Test.Token, Val: t.Test.Name}
	call := callTo(attrTestName, t.Test.Token, append([]nodes.Expression{in, name, test}, t.Test.Args...)...)
	call.Kwargs = t.Test.Kwargs
	return call
}

func attrTestFunc(e *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) < 3 || !oneItem(params.Args[0]) || !params.Args[1].IsString() || !params.Args[2].IsString() {
		return errValue(fmt.Errorf("%s: %w", attrTestName, errInternalArgs))
	}
	target, name, test := params.Args[0].Index(0), params.Args[1].String(), params.Args[2].String()
	if target.IsError() {
		// Jinja2 raises for an attribute of an Undefined, as for any failure.
		return target
	}
	if isMethod(target, name) {
		return exec.AsValue(test != "undefined")
	}
	attr := &nodes.GetAttribute{
		Location:  &tokens.Token{Type: tokens.Name, Val: name},
		Node:      &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "__lf_l"}},
		Attribute: name,
	}
	args := &exec.VarArgs{Args: params.Args[3:], KwArgs: params.KwArgs}
	return e.ExecuteTestByName(test, evalOperands(e, attr, target, nil), args)
}

// isMethod reports a name Jinja2 finds as a method of v.
func isMethod(v *exec.Value, name string) bool {
	switch {
	case v.IsString():
		return strMethodNames[name]
	case v.IsList():
		return listMethodNames[name]
	case v.IsDict():
		_, isNamespace := v.Interface().(jinjaNamespace)
		return !isNamespace && dictMethodNames[name]
	}
	return false
}
