package expr

import (
	"errors"
	"fmt"
	"reflect"
	"sort"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/lazyflow/lazyflow/core/value"
)

// Dicts reach gonja as *exec.Dict (see toGonja), which keeps insertion
// order as Python's dict does. gonja's dict methods, its items and dictsort
// filters and its dict() global go through Go maps and lose that order (or,
// for dict(), the positional mapping), so they are replaced here.

const dictName = "__lf_dict"

// toGonja gives a value to gonja: a *value.Map becomes an *exec.Dict, which
// gonja iterates, prints and compares in insertion order as Jinja2 does with
// Python's dicts. A Go map (its keys have no order but sorted, which is how
// gonja iterates it) stays one, and lists and Go maps are copied only when
// they hold a *value.Map, so data without one costs nothing.
func toGonja(v any) any {
	g, _ := gonjaValue(v)
	return g
}

// gonjaResult is a filter's result with any *value.Map in it (filters that
// compute in plain values give them back) made an *exec.Dict.
func gonjaResult(v *exec.Value) *exec.Value {
	if v == nil || !v.IsList() && !v.IsDict() || v.IsError() {
		return v
	}
	g, changed := gonjaValue(v.Interface())
	if !changed {
		return v
	}
	return &exec.Value{Val: reflect.ValueOf(g), Safe: v.Safe}
}

// gonjaValue is toGonja, also reporting whether v had to change.
func gonjaValue(v any) (any, bool) {
	switch x := v.(type) {
	case *value.Map:
		d := &exec.Dict{Pairs: make([]*exec.Pair, 0, x.Len())}
		for k, e := range x.All() {
			d.Pairs = append(d.Pairs, &exec.Pair{Key: exec.AsValue(k), Value: exec.AsValue(toGonja(e))})
		}
		return d, true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			g, changed := gonjaValue(e)
			if !changed {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			out[k] = g
		}
		if out == nil {
			return x, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range x {
			g, changed := gonjaValue(e)
			if out == nil {
				if !changed {
					continue
				}
				out = append(make([]any, 0, len(x)), x[:i]...)
			}
			out = append(out, g)
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

// dictCall rewrites dict(m, k=v, ...) into __lf_dict(npos, m, "k", v, ...)
// with the keyword arguments in source order: gonja parses them into a Go
// map, which has none.
func dictCall(c *nodes.Call) *nodes.Call {
	name, ok := c.Func.(*nodes.Name)
	if !ok || name.Name == nil || name.Name.Val != "dict" || c.Location == nil {
		return nil
	}
	tok := func(v string) *tokens.Token {
		return &tokens.Token{Type: tokens.Name, Val: v, Line: c.Location.Line, Col: c.Location.Col, Pos: c.Location.Pos}
	}
	args := []nodes.Expression{&nodes.Integer{Location: tok(fmt.Sprint(len(c.Args))), Val: len(c.Args)}}
	args = append(args, c.Args...)
	keys := make([]string, 0, len(c.Kwargs))
	for k := range c.Kwargs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return exprPos(c.Kwargs[keys[i]]) < exprPos(c.Kwargs[keys[j]]) })
	for _, k := range keys {
		args = append(args, &nodes.String{Location: tok(k), Val: k}, c.Kwargs[k])
	}
	return &nodes.Call{Location: c.Location, Func: &nodes.Name{Name: tok(dictName)}, Args: args, Kwargs: map[string]nodes.Expression{}}
}

func exprPos(e nodes.Expression) int {
	if e == nil || e.Position() == nil {
		return 0
	}
	return e.Position().Pos
}

// dictFunc is Jinja2's dict(): a mapping or a list of pairs, then keyword
// arguments, in that order.
func dictFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) == 0 || !params.Args[0].IsInteger() {
		return errValue(errors.New("internal: dict() was not rewritten"))
	}
	npos := params.Args[0].Integer()
	if npos > 1 {
		return errValue(fmt.Errorf("dict expected at most 1 argument, got %d", npos))
	}
	out := exec.NewDict()
	rest := params.Args[1:]
	if npos == 1 {
		if err := dictUpdate(out, rest[0]); err != nil {
			return errValue(err)
		}
		rest = rest[1:]
	}
	for i := 0; i+1 < len(rest); i += 2 {
		dictSet(out, rest[i], rest[i+1])
	}
	return exec.AsValue(out)
}

// dictUpdate adds the pairs of a mapping, or of a list of [key, value].
func dictUpdate(d *exec.Dict, from *exec.Value) error {
	if pairs, ok := gonjaPairs(from); ok {
		for _, p := range pairs {
			dictSet(d, p.Key, p.Value)
		}
		return nil
	}
	if !from.IsList() {
		return fmt.Errorf("%s object is not iterable", pyType(from))
	}
	for i := 0; i < from.Len(); i++ {
		p := from.Index(i)
		if !p.IsList() || p.Len() != 2 {
			return fmt.Errorf("dictionary update sequence element #%d has the wrong length (it needs 2)", i)
		}
		dictSet(d, p.Index(0), p.Index(1))
	}
	return nil
}

// dictSet sets k as Python does: an existing key keeps its place.
func dictSet(d *exec.Dict, k, v *exec.Value) {
	for _, p := range d.Pairs {
		if p.Key.EqualValueTo(k) {
			p.Value = v
			return
		}
	}
	d.Pairs = append(d.Pairs, &exec.Pair{Key: k, Value: v})
}

// gonjaPairs are the pairs of a dict in its order (a Go map's sorted).
func gonjaPairs(v *exec.Value) ([]*exec.Pair, bool) {
	if !v.IsDict() {
		return nil, false
	}
	if d, ok := v.Interface().(*exec.Dict); ok {
		return d.Pairs, true
	}
	if d, ok := v.Interface().(exec.Dict); ok {
		return d.Pairs, true
	}
	x, err := fromGonja(v)
	if err != nil {
		return nil, false
	}
	d, ok := toGonja(x).(*exec.Dict)
	if !ok {
		return nil, false
	}
	return d.Pairs, true
}

// dictMethodFixes are the read-only dict methods in the dict's order.
var dictMethodFixes = map[string]exec.Method[map[string]any]{
	"keys":   pairMethod("keys", func(p *exec.Pair) any { return p.Key.Interface() }),
	"values": pairMethod("values", func(p *exec.Pair) any { return p.Value.Interface() }),
	"items":  pairMethod("items", func(p *exec.Pair) any { return []any{p.Key.Interface(), p.Value.Interface()} }),
	"copy": func(_ map[string]any, self *exec.Value, args *exec.VarArgs) (any, error) {
		pairs, err := methodPairs("copy", self, args)
		return &exec.Dict{Pairs: append([]*exec.Pair(nil), pairs...)}, err
	},
}

// pairMethod is a method listing elem of each of the dict's pairs.
func pairMethod(name string, elem func(*exec.Pair) any) exec.Method[map[string]any] {
	return func(_ map[string]any, self *exec.Value, args *exec.VarArgs) (any, error) {
		pairs, err := methodPairs(name, self, args)
		out := make([]any, len(pairs))
		for i, p := range pairs {
			out[i] = elem(p)
		}
		return out, err
	}
}

func methodPairs(name string, self *exec.Value, args *exec.VarArgs) ([]*exec.Pair, error) {
	if err := args.Take(); err != nil {
		return nil, fmt.Errorf("%s(): %w", name, err)
	}
	pairs, _ := gonjaPairs(self)
	return pairs, nil
}

// hashableItems fails as Jinja2's unique does, which keeps the items it has
// seen in a set: a dict or list item is unhashable.
func hashableItems(f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		if in.IsList() && (params == nil || len(params.KwArgs) == 0 && len(params.Args) == 0) {
			for i := 0; i < in.Len(); i++ {
				if it := in.Index(i); it.IsDict() || it.IsList() {
					return errValue(fmt.Errorf("unhashable type: '%s'", pyType(it)))
				}
			}
		}
		return f(e, in, params)
	}
}

// Jinja2 looks an attribute up with getattr before getitem, so d.items is
// a dict's items method even when d has a key "items", and Mistral stores
// a method as its text (<built-in method items of dict object at 0x…>).
// Lazyflow has no method values: d.name for a name of a dict method
// compiles to a lookup on __lf_noattr(d, 'name'), which fails for a dict
// and naming d['name'] for the key. A method call (d.items()) is left as
// it is.
const noAttrName = "__lf_noattr"

var dictMethodNames = map[string]bool{
	"clear": true, "copy": true, "fromkeys": true, "get": true, "items": true, "keys": true,
	"pop": true, "popitem": true, "setdefault": true, "update": true, "values": true,
}

// guardDictMethod rewrites a (not called) d.name whose name is a dict
// method's.
func guardDictMethod(a *nodes.GetAttribute) {
	target, ok := a.Node.(nodes.Expression)
	if !ok || !dictMethodNames[a.Attribute] || a.Location == nil {
		return
	}
	name := &nodes.String{Location: a.Location, Val: a.Attribute}
	a.Node = callTo(noAttrName, a.Location, target, name)
}

func noAttrFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 2 {
		return errValue(errors.New("internal: " + noAttrName + " needs a value and a name"))
	}
	v, name := params.Args[0], params.Args[1].String()
	if _, isNamespace := v.Interface().(jinjaNamespace); v.IsDict() && !isNamespace {
		return errValue(fmt.Errorf("'%s' of a dict is its %s method in Jinja2, not its key: write ['%s'] for the key", name, name, name))
	}
	return v
}
