package expr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// A string subscript in Jinja2 is Python's: s[i] is the i-th code point
// (negative from the end), and an index out of range is an error. gonja
// indexes bytes, so every x[i] of a template is compiled to a call of
// itemFunc, which leaves anything but a string to gonja.

const itemName = "__lf_item"

// itemExpr is the subscript gonja evaluates for everything but strings.
var itemExpr = &nodes.GetItem{
	Node: &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "__lf_l"}},
	Arg:  &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "__lf_r"}},
}

func itemCall(g *nodes.GetItem) *nodes.Call {
	target, ok1 := g.Node.(nodes.Expression)
	arg, ok2 := g.Arg.(nodes.Expression)
	if !ok1 || !ok2 || g.Location == nil {
		return nil
	}
	return callTo(itemName, g.Location, target, arg)
}

func itemFunc(e *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 2 {
		return errValue(errors.New("internal: a subscript needs a target and an index"))
	}
	l, r := params.Args[0], params.Args[1]
	if l.IsString() && (r.IsInteger() || r.IsBool()) {
		i, _, _, _ := pyNum(r)
		rs := []rune(l.String())
		if i < 0 {
			i += int64(len(rs))
		}
		if i < 0 || i >= int64(len(rs)) {
			return errValue(errors.New("string index out of range"))
		}
		return exec.AsValue(string(rs[i]))
	}
	v := evalOperands(e, itemExpr, l, r)
	if v.IsError() {
		switch {
		case l.IsList():
			return errValue(fmt.Errorf("%s object has no element %s", pyType(l), r.String()))
		case l.IsDict():
			return errValue(fmt.Errorf("dict object has no element %s", pyRepr(r)))
		}
	}
	return v
}

// undefinedPrefix starts the text of a subscript's own failure: its target
// and index were values but the lookup failed, which is Jinja2's Undefined.
// A test or a list keeps it, while any other failure (of the target itself,
// say) raises there. gonja flattens a function's error into this text, so
// the text is what tells them apart.
const undefinedPrefix = "invalid call to function '" + itemName + "': "

// failed reports a value that Jinja2 would raise where it is made: an error
// other than an undefined subscript.
func failed(v *exec.Value) bool {
	return v.IsError() && !strings.HasPrefix(v.Error(), undefinedPrefix)
}

func pyRepr(v *exec.Value) string {
	x, err := fromGonja(v)
	if err != nil {
		return v.String()
	}
	var b strings.Builder
	writeRepr(&b, x)
	return b.String()
}

// methodReceiver gives a method call on a parenthesized receiver, such as
// {{ ('ab').upper() }}, the receiver gonja's parser records only for a
// name or literal: without it the method is "not callable".
func methodReceiver(c *nodes.Call) {
	if c.Parent != nil {
		return
	}
	if a, ok := c.Func.(*nodes.GetAttribute); ok && a.Attribute != "" {
		c.Parent = a.Node
	}
}

// listName is what a list literal with an operator or call among its items
// compiles to. Jinja2 evaluates every item while building the list, so an
// item that raises (an operator, a call) fails the list where it is
// written, while one that is Undefined (a missing key or index, a filter's
// undefined) is kept until it is used. gonja keeps both as error values
// inside the list, which let {{ [None ** 3]|length }} be 1.
const listName = "__lf_list"

// listCall is __lf_list(the list, the positions of the items that may raise).
func listCall(l *nodes.List) *nodes.Call {
	args := []nodes.Expression{l}
	for i, item := range l.Val {
		if raises(item) {
			at := &tokens.Token{Type: tokens.Integer, Val: strconv.Itoa(i)}
			args = append(args, &nodes.Integer{Location: at, Val: i})
		}
	}
	if len(args) == 1 || l.Location == nil {
		return nil
	}
	return callTo(listName, l.Location, args...)
}

// undefinedFilters are the Jinja2 filters that give Undefined rather than
// raise: an empty sequence's first, last, min, max or random, a missing
// attr, and default, which passes an undefined default on.
var undefinedFilters = map[string]bool{
	"first": true, "last": true, "min": true, "max": true, "random": true, "attr": true, "default": true, "d": true,
}

// raises reports a compiled expression whose failure Jinja2 may raise: an
// operator or a call (all compiled to calls; a subscript raises unless its
// result is an undefined lookup), a slice (Jinja2 compiles it to Python's
// subscript, not its getitem), a dict literal (which gonja fails on any
// failed value), or a filter chain that does not end in a filter that gives
// Undefined.
func raises(e nodes.Expression) bool {
	switch x := e.(type) {
	case *nodes.Call, *nodes.Dict, *nodes.GetSlice:
		return true
	case *nodes.FilteredExpression:
		return len(x.Filters) > 0 && !undefinedFilters[x.Filters[len(x.Filters)-1].Name]
	}
	return false
}

func listFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	list := params.Args[0]
	for _, i := range params.Args[1:] {
		if item := list.Index(i.Integer()); failed(item) {
			return item
		}
	}
	return list
}
