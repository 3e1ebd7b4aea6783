package yaql

import (
	"sort"

	"github.com/lazyflow/lazyflow/core/value"
)

// queryFuncs are yaql's queries over a list (standard_library/queries.py):
// filtering, projection, ordering, folding and grouping, most with a lambda
// evaluated per element.
var queryFuncs = []fn{
	{names: []string{"where", "filter"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bWhere},
	{names: []string{"select"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bSelect},
	{names: []string{"selectMany"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bSelectMany},
	{names: []string{"indexWhere"}, form: method, recv: kList, params: []param{lambda}, call: bIndexWhere},
	{names: []string{"takeWhile"}, form: method, recv: kList, params: []param{lambda}, call: bTakeWhile},
	{names: []string{"skipWhile"}, form: method, recv: kList, params: []param{lambda}, call: bSkipWhile},
	{names: []string{"any"}, recv: kList, named: []string{"predicate"}, call: bAny},
	{names: []string{"all"}, recv: kList, named: []string{"predicate"}, call: bAll},
	// count(list, lambda) and list.count(lambda) count matches; otherwise
	// count is len, so the Go function decides which.
	{names: []string{"count"}, form: method, recv: kList, call: bCount},
	{names: []string{"distinct"}, recv: kList, call: bDistinct},
	{names: []string{"toSet"}, form: method, recv: kList, arity: exactly(0), setRecv: true, call: bToSet},
	{names: []string{"orderBy", "sort"}, form: method, recv: kList, call: bOrderBy(false)},
	{names: []string{"orderByDescending"}, form: method, recv: kList, call: bOrderBy(true)},
	{names: []string{"thenBy"}, form: method, recv: kList, call: bThenBy(false)},
	{names: []string{"thenByDescending"}, form: method, recv: kList, call: bThenBy(true)},
	{names: []string{"sum"}, form: method, recv: kList, arity: between(0, 1), call: bSum},
	// max(a, b) compares two values, list.max(init) folds a list.
	{names: []string{"max"}, form: function, alsoMethod: true, call: bMax},
	{names: []string{"min"}, form: function, alsoMethod: true, call: bMin},
	// The initial value is evaluated before the fold, when it is given.
	{names: []string{"aggregate", "reduce"}, form: method, recv: kList, arity: between(1, 2), params: []param{lambda, opt(kAny, nil)}, call: bAggregate},
	{names: []string{"toDict"}, form: method, recv: kList, arity: between(1, 2), params: []param{lambda, lambda}, call: bToDict},
	{names: []string{"groupBy"}, form: method, recv: kList, arity: between(1, 3), params: []param{lambda, lambda, lambda}, call: bGroupBy},
}

func bWhere(c *callCtx) (any, error) {
	out := make([]any, 0)
	for _, e := range c.recvList() {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if value.Truthy(ok) {
			out = append(out, e)
		}
	}
	return out, nil
}

func bSelect(c *callCtx) (any, error) {
	l := c.recvList()
	out, err := c.newList(len(l))
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		v, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func bSelectMany(c *callCtx) (any, error) {
	var out []any
	for _, e := range c.recvList() {
		v, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if sub, ok := v.([]any); ok {
			if err := c.ev.limitList(len(out)+len(sub), "selectMany()"); err != nil {
				return nil, err
			}
			if err := c.ev.charge(len(sub)); err != nil {
				return nil, err
			}
			out = append(out, sub...)
		} else {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func bIndexWhere(c *callCtx) (any, error) {
	for i, e := range c.recvList() {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if value.Truthy(ok) {
			return int64(i), nil
		}
	}
	return int64(-1), nil
}

// prefixWhile is the length of l's longest prefix whose elements satisfy
// lambda 0, or -1 when every element does.
func (c *callCtx) prefixWhile(l []any) (int, error) {
	for i, e := range l {
		ok, err := c.lambda(0, e)
		if err != nil {
			return 0, err
		}
		if !value.Truthy(ok) {
			return i, nil
		}
	}
	return -1, nil
}

func bTakeWhile(c *callCtx) (any, error) {
	l := c.recvList()
	i, err := c.prefixWhile(l)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return l, nil
	}
	return l[:i:i], nil
}

func bSkipWhile(c *callCtx) (any, error) {
	l := c.recvList()
	i, err := c.prefixWhile(l)
	if err != nil {
		return nil, err
	}
	if i < 0 {
		return []any{}, nil
	}
	return l[i:], nil
}

// quantify is any (want true) and all (want false): whether some element,
// or its lambda's value, is as truthy as want.
func (c *callCtx) quantify(want bool) (any, error) {
	for _, e := range c.recvList() {
		v := e
		if len(c.args) > 0 {
			var err error
			if v, err = c.lambda(0, e); err != nil {
				return nil, err
			}
		}
		if value.Truthy(v) == want {
			return want, nil
		}
	}
	return !want, nil
}

// bAny without a predicate is yaql's "the collection is not empty", falsy
// elements included.
func bAny(c *callCtx) (any, error) {
	if len(c.args) == 0 && len(c.kw) == 0 {
		return len(c.recvList()) > 0, nil
	}
	return c.quantify(true)
}
func bAll(c *callCtx) (any, error) { return c.quantify(false) }

func bCount(c *callCtx) (any, error) {
	if len(c.args) == (map[bool]int{true: 1, false: 2})[c.method] {
		l, err := c.selfList()
		if err != nil {
			return nil, err
		}
		n := int64(0)
		for _, e := range l {
			ok, err := c.lambda(0, e)
			if err != nil {
				return nil, err
			}
			if value.Truthy(ok) {
				n++
			}
		}
		return n, nil
	}
	return builtins["len"].invoke(c)
}

func (c *callCtx) selfList() ([]any, error) {
	v, err := c.self()
	if err == nil {
		// Rows that are functions first (max, min) get their receiver
		// here, not through invoke's receiver check: a finite iterator or
		// a set reads as the list of its elements, as Python's max() does.
		v, err = c.ev.eager(v)
	}
	if err != nil {
		return nil, err
	}
	return asList(c.name, v)
}

func bDistinct(c *callCtx) (any, error) {
	l := c.recvList()
	if len(c.args) == 0 {
		return c.ev.distinct(l)
	}
	seen := make(map[any]struct{}, len(l))
	out := make([]any, 0, len(l))
	for _, e := range l {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		h, err := c.ev.hashKey(k)
		if err != nil {
			return nil, err
		}
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		out = append(out, e)
	}
	return out, c.ev.charge(len(l))
}

// seed is a fold's start: argument i, or else the receiver's first
// element, and the elements left to fold.
func (c *callCtx) seed(i int) (any, []any, error) {
	l := c.recvList()
	if i < len(c.args) {
		v, err := c.arg(i)
		return v, l, err
	}
	if len(l) == 0 {
		return nil, nil, failf("%s() of an empty list needs an initial value", c.name)
	}
	return l[0], l[1:], nil
}

// bToSet is the distinct elements, which must be hashable in Python.
func bToSet(c *callCtx) (any, error) {
	if s, ok := c.recv.(*pySet); ok {
		return s, nil
	}
	return c.ev.newSet(c.recvList())
}

// hashable fails for what a Python set cannot hold.
func hashable(name string, v any) error {
	switch v.(type) {
	case []any:
		return failf("%s(): unhashable type: 'list'", name)
	case *value.Map, map[string]any:
		return failf("%s(): unhashable type: 'dict'", name)
	}
	return nil
}

func (ev *evaluator) distinct(l []any) (any, error) {
	seen := make(map[any]struct{}, len(l))
	out := make([]any, 0, len(l))
	for _, e := range l {
		h, err := ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		if _, dup := seen[h]; !dup {
			seen[h] = struct{}{}
			out = append(out, e)
		}
	}
	return out, ev.charge(len(l))
}

// bSum is list.sum([initial]): the elements folded with +, from the first
// when there is no initial value, as YAQL does (so [].sum() fails and a
// list of dicts merges them).
func bSum(c *callCtx) (any, error) {
	acc, l, err := c.seed(0)
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		var err error
		if acc, err = opAdd(c.ev, acc, e); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// extreme implements max and min. As a method (list.max(init)) it folds the
// list; as a function with two arguments (max(a, b)) it compares them.
func extreme(c *callCtx, want int) (any, error) {
	if !c.method && len(c.args) == 2 {
		a, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		b, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		cmp, err := c.ev.compare(b, a)
		if err != nil {
			return nil, err
		}
		if cmp == want {
			return b, nil
		}
		return a, nil
	}
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		if len(c.args) > 0 {
			return c.arg(0)
		}
		return nil, failf("%s() of an empty list (pass an initial value)", c.name)
	}
	best := l[0]
	for _, e := range l[1:] {
		cmp, err := c.ev.compare(e, best)
		if err != nil {
			return nil, err
		}
		if cmp == want {
			best = e
		}
	}
	return best, c.ev.charge(len(l))
}

func bMax(c *callCtx) (any, error) { return extreme(c, 1) }
func bMin(c *callCtx) (any, error) { return extreme(c, -1) }

func bAggregate(c *callCtx) (any, error) {
	l := c.recvList()
	acc, rest := c.param(1), l
	if len(c.args) < 2 {
		if len(l) == 0 {
			return nil, failf("%s() of an empty list needs an initial value", c.name)
		}
		acc, rest = l[0], l[1:]
	}
	for _, e := range rest {
		var err error
		if acc, err = c.lambda2(0, acc, e); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func bToDict(c *callCtx) (any, error) {
	l := c.recvList()
	out := value.NewMap(len(l))
	// Python's 0, 0.0 and False are one key, which keeps the text of the
	// first; Mistral stores a key as its JSON text (json.dumps).
	seen := make(map[any]string, len(l))
	for _, e := range l {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		h, err := c.ev.hashKey(k)
		if err != nil {
			return nil, err
		}
		ks, ok := seen[h]
		if !ok {
			if ks, err = dictKey(k); err != nil {
				return nil, err
			}
			seen[h] = ks
		}
		v := e
		if len(c.args) > 1 {
			if v, err = c.lambda(1, e); err != nil {
				return nil, err
			}
		}
		out.Set(ks, v)
	}
	return out, nil
}

// bGroupBy returns [key, values] pairs in first-seen order;
// groupBy(keySelector, valueSelector, aggregator) as in YAQL.
func bGroupBy(c *callCtx) (any, error) {
	type group struct {
		key  any
		vals []any
	}
	var groups []*group
	index := map[any]*group{}
	for _, e := range c.recvList() {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		v := e
		if len(c.args) > 1 {
			if v, err = c.lambda(1, e); err != nil {
				return nil, err
			}
		}
		h, err := c.ev.hashKey(k)
		if err != nil {
			return nil, err
		}
		g := index[h]
		if g == nil {
			g = &group{key: k}
			index[h] = g
			groups = append(groups, g)
		}
		g.vals = append(g.vals, v)
	}
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		var agg any = g.vals
		if len(c.args) > 2 {
			var err error
			if agg, err = c.lambda(2, g.vals); err != nil {
				return nil, err
			}
		}
		out = append(out, []any{g.key, agg})
	}
	return out, nil
}

func bOrderBy(desc bool) builtin {
	return func(c *callCtx) (any, error) {
		l := c.recvList()
		keys, err := c.sortKeys(l)
		if err != nil {
			return nil, err
		}
		return c.sorted(l, nil, keys, desc)
	}
}

// bThenBy refines the order of an orderBy() (or thenBy()) result among the
// elements its earlier keys left equal, as yaql's thenBy on an ordering.
func bThenBy(desc bool) builtin {
	return func(c *callCtx) (any, error) {
		l := c.recvList()
		if len(l) == 0 {
			return l, nil
		}
		prev, ok := c.ev.orders[&l[0]]
		if !ok || len(prev.keys) != len(l) {
			return nil, failf("%s() applies to the result of orderBy(), orderByDescending() or %s()", c.name, c.name)
		}
		keys, err := c.sortKeys(l)
		if err != nil {
			return nil, err
		}
		return c.sorted(l, &prev, keys, desc)
	}
}

// sortKeys is the sort key of each element: the lambda's value, or the
// element itself.
func (c *callCtx) sortKeys(l []any) ([]any, error) {
	if len(c.args) == 0 {
		return l, nil
	}
	keys := make([]any, len(l))
	for i, e := range l {
		var err error
		if keys[i], err = c.lambda(0, e); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// ordering is what thenBy needs of an ordered list: each element's keys so
// far, in the list's order, and each key's direction.
type ordering struct {
	keys [][]any
	desc []bool
}

// sorted sorts l stably by prev's keys (if any) and then by keys, and
// remembers the result's ordering for a following thenBy.
func (c *callCtx) sorted(l []any, prev *ordering, keys []any, desc bool) (any, error) {
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	if err := c.ev.charge(len(l) * 4); err != nil {
		return nil, err
	}
	var cmpErr error
	cmp := func(a, b any, desc bool) int {
		r, err := c.ev.compare(a, b)
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if desc {
			return -r
		}
		return r
	}
	sort.SliceStable(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if prev != nil {
			for k, d := range prev.desc {
				if r := cmp(prev.keys[i][k], prev.keys[j][k], d); r != 0 {
					return r < 0
				}
			}
		}
		return cmp(keys[i], keys[j], desc) < 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	out := make([]any, len(l))
	next := ordering{keys: make([][]any, len(l))}
	if prev != nil {
		next.desc = append(next.desc, prev.desc...)
	}
	next.desc = append(next.desc, desc)
	for i, j := range idx {
		out[i] = l[j]
		var k []any
		if prev != nil {
			k = append(k, prev.keys[j]...)
		}
		next.keys[i] = append(k, keys[j])
	}
	if len(out) > 0 {
		if c.ev.orders == nil {
			c.ev.orders = map[*any]ordering{}
		}
		c.ev.orders[&out[0]] = next
	}
	return out, nil
}
