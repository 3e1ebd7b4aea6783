package yaql

import (
	"github.com/lazyflow/lazyflow/core/value"
)

// dictFuncs read and build dicts (yaql's standard_library/collections.py
// for dicts). Results never modify the receiver.
var dictFuncs = []fn{
	{names: []string{"keys"}, form: method, recv: kDict, call: bKeys},
	{names: []string{"values"}, form: method, recv: kDict, call: bValues},
	{names: []string{"items"}, form: method, recv: kDict, call: bItems},
	{names: []string{"containsKey"}, form: method, recv: kDict, params: []param{val(kAny)}, call: bContainsKey},
	{names: []string{"containsValue"}, form: method, recv: kDict, params: []param{val(kAny)}, call: bContainsValue},
	// The default is evaluated only when the key is missing.
	{names: []string{"get"}, form: method, recv: kDict, arity: between(1, 2), params: []param{val(kAny), lambda}, call: bGet},
	// set is yaql's two functions of that name: $dict.set(...) and, called
	// as a function, set(args...), the set of its arguments.
	{names: []string{"set"}, form: function, alsoMethod: true, kw: true, call: bSetOrSetOf},
	{names: []string{"dict"}, form: function, kw: true, call: bDict},
	// mergeWith refuses name => value arguments (yaql's custom mergers)
	// with a message of its own, so it reads them.
	{names: []string{"mergeWith"}, form: method, recv: kAny, kw: true, call: bMergeWith},
}

// dictList is one element per key of the receiver, in the dict's order.
func (c *callCtx) dictList(elem func(k string, v any) any) (any, error) {
	m := c.recvDict()
	out, err := c.newList(m.Len())
	if err != nil {
		return nil, err
	}
	for k, v := range m.All() {
		out = append(out, elem(k, v))
	}
	return out, nil
}

func bKeys(c *callCtx) (any, error) {
	return c.dictList(func(k string, _ any) any { return k })
}

func bValues(c *callCtx) (any, error) {
	return c.dictList(func(_ string, v any) any { return v })
}

func bItems(c *callCtx) (any, error) {
	return c.dictList(func(k string, v any) any { return []any{k, v} })
}

// bContainsKey is false, not an error, for a value that cannot be a key.
func bContainsKey(c *callCtx) (any, error) {
	ks, err := dictKey(c.param(0))
	if err != nil {
		return false, nil
	}
	return c.recvDict().Has(ks), nil
}

func bContainsValue(c *callCtx) (any, error) {
	for _, v := range c.recvDict().All() {
		if eq, err := c.ev.equal(v, c.param(0)); err != nil || eq {
			return eq, err
		}
	}
	return false, nil
}

func bGet(c *callCtx) (any, error) {
	ks, err := dictKey(c.param(0))
	if err != nil {
		return nil, err
	}
	if v, ok := c.recvDict().Get(ks); ok {
		return v, nil
	}
	return c.argOr(1, nil)
}

// kwPairs adds each key => value argument to out.
func (c *callCtx) kwPairs(out *value.Map) error {
	for _, kw := range c.kw {
		k, err := kw.key(c.ev, c.sc)
		if err != nil {
			return err
		}
		ks, err := dictKey(k)
		if err != nil {
			return err
		}
		v, err := kw.val(c.ev, c.sc)
		if err != nil {
			return err
		}
		out.Set(ks, plain(v))
	}
	return nil
}

// bSetOrSetOf tells the two set functions apart: x.set(...) and
// set(dict, ...) update a dict; set(a, b, ...) of anything else builds the
// set of the arguments, as Mistral 23.0.0's yaql does (set(15) is [15]).
func bSetOrSetOf(c *callCtx) (any, error) {
	if !c.method && len(c.args) == 0 {
		return c.ev.newSet(nil)
	}
	if c.method {
		v, err := c.self()
		if err != nil {
			return nil, err
		}
		if err := checkKind(c.name, kDict, v); err != nil {
			return nil, err
		}
		return bSet(c)
	}
	first, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	if value.IsDict(first) {
		// The receiver, already evaluated, bound as c.self() binds it.
		c.args, c.method, c.recv = c.args[1:], true, first
		return bSet(c)
	}
	vals := []any{first}
	for i := 1; i < len(c.args); i++ {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	return c.ev.newSet(vals)
}

// bSet returns a copy of the dict with keys replaced: set(k, v),
// set({k => v}) or set(k => v, ...). The receiver is never modified.
func bSet(c *callCtx) (any, error) {
	m := c.recvDict()
	updates := value.NewMap(0)
	switch len(c.args) {
	case 0:
	case 1:
		v, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		d, ok := value.AsMap(v)
		if !ok {
			return nil, failf("set() with one argument expects a dict, not a %s", value.TypeName(v))
		}
		updates = d
	case 2:
		k, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		v, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		updates.Set(ks, v)
	default:
		return nil, failf("set() takes a key and a value, a dict, or key => value pairs")
	}
	if err := c.kwPairs(updates); err != nil {
		return nil, err
	}
	if err := c.ev.checkList(m.Len()+updates.Len(), "set()"); err != nil {
		return nil, err
	}
	out := m.Clone()
	out.Update(updates)
	return out, nil
}

// bDict is dict(k => v, ...) or dict(list of [k, v] pairs).
func bDict(c *callCtx) (any, error) {
	out := value.NewMap(0)
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		var pairs []any
		switch x := v.(type) {
		case *value.Map, map[string]any:
			d, _ := value.AsMap(x)
			out.Update(d)
			continue
		case []any:
			pairs = x
		default:
			return nil, failf("dict() expects key => value pairs or a list of pairs, not a %s", value.TypeName(v))
		}
		for _, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, failf("dict() expects pairs like [key, value], got a %s", value.TypeName(p))
			}
			ks, err := dictKey(kv[0])
			if err != nil {
				return nil, err
			}
			out.Set(ks, kv[1])
		}
	}
	if err := c.kwPairs(out); err != nil {
		return nil, err
	}
	return out, c.ev.checkList(out.Len(), "dict()")
}

// bMergeWith is yaql's dict.mergeWith(other, listMerger => null,
// itemMerger => null, maxLevels => 0): a deep merge where dicts merge key
// by key, lists are merged by listMerger ($1, $2; by default the distinct
// elements of both) and any other value by itemMerger (by default the
// other's), maxLevels deep (0 for all).
func bMergeWith(c *callCtx) (any, error) {
	to, ok := value.AsMap(c.recv)
	if !ok {
		return nil, failf("mergeWith() applies to a dict, not %s", value.TypeName(c.recv))
	}
	v, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	from, ok := value.AsMap(v)
	if !ok {
		return nil, failf("mergeWith() needs a dict to merge, not %s", value.TypeName(v))
	}
	m := merger{c: c, list: c.lambdaOf(1, "listMerger"), item: c.lambdaOf(2, "itemMerger")}
	levels, err := c.option(3, int64(0), "maxLevels")
	if err != nil {
		return nil, err
	}
	n, err := asInt(c.name, levels)
	if err != nil {
		return nil, err
	}
	return m.merge(to, from, n, 0)
}

// lambdaOf is argument i, or the name => lambda argument, unevaluated; nil
// when neither is given.
func (c *callCtx) lambdaOf(i int, name string) evalFn {
	if i < len(c.args) {
		return c.args[i]
	}
	if k := c.kwIndex(name); k >= 0 {
		return c.kw[k].val
	}
	return nil
}

type merger struct {
	c          *callCtx
	list, item evalFn
}

func (m merger) merge(to, from *value.Map, levels int64, depth int) (*value.Map, error) {
	ev := m.c.ev
	if depth > 100 {
		return nil, failf("mergeWith(): dicts nested more than 100 deep")
	}
	out := to.Clone()
	for k, fv := range from.All() {
		tv, both := out.Get(k)
		if !both {
			out.Set(k, fv)
			continue
		}
		var r any
		var err error
		switch fv.(type) {
		case *value.Map, map[string]any:
			if levels != 1 {
				t, ok := value.AsMap(tv)
				if !ok {
					return nil, failf("mergeWith(): cannot merge a %s with a dict at key %q", value.TypeName(tv), k)
				}
				f, _ := value.AsMap(fv)
				if r, err = m.merge(t, f, max(levels-1, 0), depth+1); err != nil {
					return nil, err
				}
				out.Set(k, r)
				continue
			}
		case []any:
			if levels != 1 {
				f := fv.([]any)
				t, ok := tv.([]any)
				if !ok {
					return nil, failf("mergeWith(): cannot merge a %s with a list at key %q", value.TypeName(tv), k)
				}
				if m.list != nil {
					r, err = m.c.apply2(m.list, t, f)
				} else {
					r, err = ev.distinct(append(append([]any(nil), t...), f...))
				}
				if err != nil {
					return nil, err
				}
				out.Set(k, r)
				continue
			}
		}
		if m.item != nil {
			if r, err = m.c.apply2(m.item, tv, fv); err != nil {
				return nil, err
			}
			out.Set(k, r)
			continue
		}
		out.Set(k, fv)
	}
	return out, ev.charge(to.Len() + from.Len())
}
