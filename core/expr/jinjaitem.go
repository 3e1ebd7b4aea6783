package expr

import (
	"errors"
	"fmt"
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
		case l.IsString():
			return errValue(errors.New("string indices must be integers"))
		case l.IsNil() || l.IsBool() || l.IsInteger() || l.IsFloat() || isBig(l):
			// Python's words; gonja's name the subscript this function
			// evaluates (__lf_l[__lf_r]), which the user never wrote.
			return errValue(fmt.Errorf("'%s' object is not subscriptable", pyType(l)))
		}
	}
	return v
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
