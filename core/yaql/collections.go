package yaql

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

// collectionFuncs build, take apart and search lists (yaql's
// standard_library/collections.py and queries.py): len, first, skip,
// concat, range, union and the like.
var collectionFuncs = []fn{
	{names: []string{"len"}, recv: kAny, arity: exactly(0), call: bLen},
	{names: []string{"isEmpty", "isEmptyString"}, recv: kAny, kw: true, call: bIsEmpty},
	{names: []string{"toList"}, form: method, recv: kList, call: bToList},
	// list(a, b) builds a list; x.list() is x.toList().
	{names: []string{"list"}, form: function, kw: true, lazy: true, call: bList},
	{names: []string{"range"}, form: function, arity: between(1, 3), call: bRange},
	{names: []string{"first"}, form: method, recv: kList, params: []param{lambda}, lazy: true, call: bFirst},
	{names: []string{"last"}, form: method, recv: kList, params: []param{lambda}, call: bLast},
	{names: []string{"single"}, form: method, recv: kList, call: bSingle},
	{names: []string{"defaultIfEmpty"}, form: method, recv: kList, params: []param{lambda}, call: bDefaultIfEmpty},
	{names: []string{"contains"}, form: method, recv: kList, arity: exactly(1), params: []param{val(kAny)}, call: bContains},
	{names: []string{"indexOf"}, form: method, recv: kAny, params: []param{val(kAny)}, call: bIndexOf},
	{names: []string{"lastIndexOf"}, form: method, recv: kAny, params: []param{val(kAny)}, call: bLastIndexOf},
	{names: []string{"skip"}, form: method, recv: kList, params: []param{optInt(0)}, call: bSkip},
	{names: []string{"take", "limit"}, form: method, recv: kList, params: []param{optInt(0)}, lazy: true, call: bTake},
	{names: []string{"sequence"}, form: function, arity: between(0, 2), named: []string{"start", "step"}, call: bSequence},
	{names: []string{"cycle"}, form: method, recv: kList, arity: exactly(0), call: bCycle},
	{names: []string{"slice"}, form: method, recv: kList, params: []param{optInt(1)}, call: bSlice},
	{names: []string{"flatten"}, form: method, recv: kList, params: []param{optInt(MaxDepth)}, call: bFlatten},
	{names: []string{"enumerate"}, recv: kList, params: []param{optInt(0)}, call: bEnumerate},
	{names: []string{"reverse"}, form: method, recv: kList, call: bReverse},
	{names: []string{"append"}, recv: kList, call: bAppend},
	{names: []string{"insert"}, form: method, recv: kList, params: []param{optInt(0), val(kAny)}, call: bInsert},
	{names: []string{"delete"}, form: method, recv: kAny, call: bDelete},
	// concat(a, b, c) joins strings or lists, by the first value's type.
	{names: []string{"concat"}, form: function, alsoMethod: true, call: bConcat},
	{names: []string{"zip"}, form: method, recv: kList, call: bZip},
	{names: []string{"union"}, form: method, recv: kList, setRecv: true, call: bUnion},
	{names: []string{"intersect"}, form: method, recv: kList, params: []param{val(kList)}, setRecv: true, call: bIntersect},
	{names: []string{"difference"}, form: method, recv: kList, params: []param{val(kList)}, setRecv: true, call: bDifference},
	{names: []string{"symmetricDifference"}, form: method, recv: kList, arity: exactly(1), params: []param{val(kList)}, setRecv: true, call: bSymmetricDifference},
}

func bLen(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case []any:
		return int64(len(x)), nil
	case *value.Map:
		return int64(x.Len()), nil
	case map[string]any:
		return int64(len(x)), nil
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	}
	return nil, failf("len() expects a list, dict or string, not a %s", value.TypeName(c.recv))
}

// bIsEmpty follows YAQL: null, "" and whitespace-only strings are empty; so
// are empty lists and dicts (a Lazyflow extension: YAQL only takes strings).
// bIsEmpty is string.isEmpty(trimSpaces => true, chars => null): YAQL's
// isEmpty takes a string or null only; trimSpaces and chars may also come
// positionally.
func bIsEmpty(c *callCtx) (any, error) {
	if c.recv == nil {
		return true, nil
	}
	s, err := asString(c.name, c.recv)
	if err != nil {
		return nil, err
	}
	trimV, err := c.option(0, true, "trimSpaces", "trim")
	if err != nil {
		return nil, err
	}
	charsV, err := c.option(1, nil, "chars")
	if err != nil {
		return nil, err
	}
	if !value.Truthy(trimV) {
		return s == "", nil
	}
	if charsV == nil {
		return strings.TrimSpace(s) == "", nil
	}
	chars, err := asString(c.name, charsV)
	if err != nil {
		return nil, err
	}
	return strings.Trim(s, chars) == "", nil
}

func bToList(c *callCtx) (any, error) {
	return c.recvList(), nil
}

// bList is list(a, b, ...). With a single list argument it returns that
// list's elements: YAQL flattens query results passed to list(), and in
// Lazyflow every query result is a plain list. As a method it is toList,
// which ignores name => value arguments; list() refuses them.
func bList(c *callCtx) (any, error) {
	if c.method {
		return bToList(c)
	}
	if err := c.noKw(); err != nil {
		return nil, err
	}
	// yaql's list() splices iterators among its arguments, and only them:
	// list(1, range(2)) is [1, 0, 1], list([1, 2]) is [[1, 2]].
	out, err := c.newList(len(c.args))
	if err != nil {
		return nil, err
	}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(*lazySeq); !ok {
			if v, err = c.ev.eager(v); err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		l, err := c.ev.drain(v)
		if err != nil {
			return nil, err
		}
		out = append(out, l.([]any)...)
		if err := c.ev.limitList(len(out), "list()"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendArgs appends positional arguments from..len(c.args) to out.
func (c *callCtx) appendArgs(out []any, from int) ([]any, error) {
	for i := from; i < len(c.args); i++ {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// bRange is range(stop), range(start, stop) or range(start, stop, step).
// The length is checked before anything is allocated, so range(10**12)
// fails at once.
func bRange(c *callCtx) (any, error) {
	var nums [3]int64
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if nums[i], err = asInt("range", v); err != nil {
			return nil, err
		}
	}
	start, stop, step := int64(0), nums[0], int64(1)
	if len(c.args) >= 2 {
		start, stop = nums[0], nums[1]
	}
	if len(c.args) == 3 {
		step = nums[2]
	}
	if step == 0 {
		return nil, failf("range() step must not be zero")
	}
	var n float64
	if step > 0 && stop > start {
		n = math.Ceil((float64(stop) - float64(start)) / float64(step))
	} else if step < 0 && stop < start {
		n = math.Ceil((float64(start) - float64(stop)) / float64(-step))
	}
	if n > float64(c.ev.maxList) {
		return nil, &opError{msg: "range() would build a list of " + strconv.FormatFloat(n, 'f', 0, 64) + " items, more than the limit of " + strconv.Itoa(c.ev.maxList), err: ErrLimit}
	}
	// A Python iterator, as yaql's range() is: reading it uses it up.
	c.ev.internal = true
	i, v := 0, start
	return &lazySeq{next: func() (any, bool) {
		if i >= int(n) {
			return nil, false
		}
		r := v
		i, v = i+1, v+step
		return r, true
	}}, nil
}

// listEnd is first() (at 0) and last() (at -1): that element, else the
// default argument, evaluated only for an empty list.
func (c *callCtx) listEnd(at int) (any, error) {
	l := c.recvList()
	if len(l) > 0 {
		if at < 0 {
			at += len(l)
		}
		return l[at], nil
	}
	if len(c.args) > 0 {
		return c.arg(0)
	}
	return nil, failf("%s() of an empty list (pass a default: %s(null))", c.name, c.name)
}

func bFirst(c *callCtx) (any, error) {
	if s, ok := c.recv.(*lazySeq); ok {
		if v, ok := s.next(); ok {
			return v, c.ev.charge(1)
		}
		c.recv = []any{}
	}
	return c.listEnd(0)
}
func bLast(c *callCtx) (any, error) { return c.listEnd(-1) }

func bSingle(c *callCtx) (any, error) {
	l := c.recvList()
	if len(l) != 1 {
		return nil, failf("single() expects exactly one element, got %d", len(l))
	}
	return l[0], nil
}

func bDefaultIfEmpty(c *callCtx) (any, error) {
	if l := c.recvList(); len(l) > 0 {
		return l, nil
	}
	return c.arg(0)
}

func bContains(c *callCtx) (any, error) {
	return opIn(c.ev, c.param(0), c.recv)
}

// bIndexOf is string.indexOf(sub[, start[, length]]) in runes, or
// list.indexOf(value); start and length are read for strings only.
func bIndexOf(c *callCtx) (any, error) {
	x := c.param(0)
	switch t := c.recv.(type) {
	case string:
		sub, err := asString("indexOf", x)
		if err != nil {
			return nil, err
		}
		rs := []rune(t)
		start, err := c.intArg(1, 0)
		if err != nil {
			return nil, err
		}
		if start < 0 {
			start += int64(len(rs))
		}
		s := clampRange(start, len(rs))
		length, err := c.intArg(2, int64(len(rs)))
		if err != nil {
			return nil, err
		}
		if length < 0 {
			length = int64(len(rs))
		}
		e := clampRange(int64(s)+length, len(rs))
		i := strings.Index(string(rs[s:e]), sub)
		if i < 0 {
			return int64(-1), nil
		}
		return int64(s + utf8.RuneCountInString(string(rs[s:e])[:i])), nil
	case []any:
		for i, e := range t {
			if eq, err := c.ev.equal(e, x); err != nil || eq {
				return int64(i), err
			}
		}
		return int64(-1), nil
	}
	return nil, failf("indexOf() expects a list or string, not a %s", value.TypeName(c.recv))
}

func bLastIndexOf(c *callCtx) (any, error) {
	x := c.param(0)
	switch t := c.recv.(type) {
	case string:
		sub, err := asString("lastIndexOf", x)
		if err != nil {
			return nil, err
		}
		i := strings.LastIndex(t, sub)
		if i < 0 {
			return int64(-1), nil
		}
		return int64(utf8.RuneCountInString(t[:i])), nil
	case []any:
		for i := len(t) - 1; i >= 0; i-- {
			if eq, err := c.ev.equal(t[i], x); err != nil || eq {
				return int64(i), err
			}
		}
		return int64(-1), nil
	}
	return nil, failf("lastIndexOf() expects a list or string, not a %s", value.TypeName(c.recv))
}

func clampRange(n int64, length int) int {
	if n < 0 {
		return 0
	}
	if n > int64(length) {
		return length
	}
	return int(n)
}

func bSkip(c *callCtx) (any, error) {
	l := c.recvList()
	return l[clampRange(c.paramInt(0), len(l)):], nil
}

func bTake(c *callCtx) (any, error) {
	if s, ok := c.recv.(*lazySeq); ok {
		return c.ev.pull(s, c.paramInt(0), c.name+"()")
	}
	l := c.recvList()
	n := clampRange(c.paramInt(0), len(l))
	return l[:n:n], nil
}

func bSlice(c *callCtx) (any, error) {
	l, n := c.recvList(), c.paramInt(0)
	if n < 1 {
		return nil, failf("slice() needs a positive size, got %d", n)
	}
	var out []any
	for i := 0; i < len(l); i += int(min(n, int64(len(l)))) {
		end := min(i+int(min(n, int64(len(l)))), len(l))
		out = append(out, l[i:end:end])
	}
	if out == nil {
		out = []any{}
	}
	return out, c.ev.charge(len(l))
}

func bFlatten(c *callCtx) (any, error) {
	var out []any
	var walk func(l []any, d int64) error
	walk = func(l []any, d int64) error {
		for _, e := range l {
			if sub, ok := e.([]any); ok && d > 0 {
				if err := walk(sub, d-1); err != nil {
					return err
				}
				continue
			}
			if err := c.ev.limitList(len(out)+1, "flatten()"); err != nil {
				return err
			}
			if err := c.ev.charge(1); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	}
	if err := walk(c.recvList(), c.paramInt(0)); err != nil {
		return nil, err
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func bEnumerate(c *callCtx) (any, error) {
	l, start := c.recvList(), c.paramInt(0)
	out, err := c.newList(len(l))
	if err != nil {
		return nil, err
	}
	for i, e := range l {
		out = append(out, []any{start + int64(i), e})
	}
	return out, nil
}

func bReverse(c *callCtx) (any, error) {
	l := c.recvList()
	out := make([]any, len(l))
	for i, e := range l {
		out[len(l)-1-i] = e
	}
	return out, c.ev.charge(len(l))
}

func bAppend(c *callCtx) (any, error) {
	l := c.recvList()
	out, err := c.newList(len(l) + len(c.args))
	if err != nil {
		return nil, err
	}
	return c.appendArgs(append(out, l...), 0)
}

// bInsert is list.insert(position, value): a new list with value at
// position (clamped to the list).
func bInsert(c *callCtx) (any, error) {
	l := c.recvList()
	at := clampRange(c.paramInt(0), len(l))
	out, err := c.newList(len(l) + 1)
	if err != nil {
		return nil, err
	}
	out = append(append(append(out, l[:at]...), c.param(1)), l[at:]...)
	return out, nil
}

// bDelete removes keys from a dict (d.delete(a, b)) or a range from a list
// (l.delete(index, count)); the receiver is never modified.
func bDelete(c *callCtx) (any, error) {
	switch x := c.recv.(type) {
	case *value.Map, map[string]any:
		d, _ := value.AsMap(x)
		drop := map[string]bool{}
		for i := range c.args {
			k, err := c.arg(i)
			if err != nil {
				return nil, err
			}
			ks, err := dictKey(k)
			if err != nil {
				return nil, err
			}
			drop[ks] = true
		}
		out := value.NewMap(d.Len())
		for k, e := range d.All() {
			if !drop[k] {
				out.Set(k, e)
			}
		}
		return out, c.ev.charge(d.Len())
	case []any:
		pos, err := c.intArg(0, 0)
		if err != nil {
			return nil, err
		}
		count, err := c.intArg(1, 1)
		if err != nil {
			return nil, err
		}
		start, end := span(pos, count, len(x))
		out := make([]any, 0, len(x)-(end-start))
		out = append(append(out, x[:start]...), x[end:]...)
		return out, c.ev.charge(len(x))
	}
	return nil, failf("delete() expects a dict or list, not a %s", value.TypeName(c.recv))
}

// span is the part of a list of n elements that delete(position, count)
// and replace(position, value, count) act on: count elements from
// position, all the rest for a negative count, clamped to the list.
func span(pos, count int64, n int) (start, end int) {
	start, end = clampRange(pos, n), n
	if count >= 0 {
		end = clampRange(int64(start)+count, n)
	}
	return start, end
}

// bConcat joins strings (concat(a, b, c)) or lists ($.concat(other)),
// deciding by the type of the first value.
func bConcat(c *callCtx) (any, error) {
	vals := make([]any, 0, len(c.args)+1)
	if c.method {
		// YAQL's concat of strings is a function only; lists have both forms.
		if _, ok := c.recv.([]any); !ok {
			return nil, failf("unknown method concat() on a %s: concatenate strings with concat(a, b)", value.TypeName(c.recv))
		}
		vals = append(vals, c.recv)
	}
	vals, err := c.appendArgs(vals, 0)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return "", nil
	}
	if _, ok := vals[0].([]any); ok {
		var out []any
		for _, v := range vals {
			l, err := asList("concat", v)
			if err != nil {
				return nil, err
			}
			if err := c.ev.limitList(len(out)+len(l), "concat()"); err != nil {
				return nil, err
			}
			if err := c.ev.charge(len(l)); err != nil {
				return nil, err
			}
			out = append(out, l...)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	var b strings.Builder
	for _, v := range vals {
		s, err := asString("concat", v)
		if err != nil {
			return nil, err
		}
		if err := c.ev.limitStr(b.Len()+len(s), "concat()"); err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), c.ev.charge(b.Len() / 64)
}

// listArgs is the receiver followed by each positional argument, each of
// which must be a list.
func (c *callCtx) listArgs() ([][]any, error) {
	lists := [][]any{c.recvList()}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		o, err := asList(c.name, v)
		if err != nil {
			return nil, err
		}
		lists = append(lists, o)
	}
	return lists, nil
}

func bZip(c *callCtx) (any, error) {
	lists, err := c.listArgs()
	if err != nil {
		return nil, err
	}
	n := len(lists[0])
	for _, o := range lists[1:] {
		n = min(n, len(o))
	}
	out, err := c.newList(n * len(lists))
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		row := make([]any, len(lists))
		for j, o := range lists {
			row[j] = o[i]
		}
		out = append(out, row)
	}
	return out, nil
}

// bUnion is yaql's union: the distinct elements of the lists, in order.
func bUnion(c *callCtx) (any, error) {
	lists, err := c.listArgs()
	if err != nil {
		return nil, err
	}
	if _, ok := c.recv.(*pySet); ok {
		others := make([]any, len(lists))
		for i, l := range lists {
			others[i] = l
		}
		return c.setOperation(others, func(bool, int) bool { return true }, true)
	}
	var all []any
	for _, l := range lists {
		all = append(all, l...)
	}
	return c.ev.distinct(all)
}

// bIntersect keeps the distinct elements of the list found in the other.
func bIntersect(c *callCtx) (any, error) {
	if _, ok := c.recv.(*pySet); ok {
		return c.setOperation([]any{c.param(0)}, func(_ bool, n int) bool { return n == 1 }, false)
	}
	return c.setOp(true)
}

// bDifference keeps the distinct elements of the list not in the other.
func bDifference(c *callCtx) (any, error) {
	if _, ok := c.recv.(*pySet); ok {
		return c.setOperation([]any{c.param(0)}, func(_ bool, n int) bool { return n == 0 }, false)
	}
	return c.setOp(false)
}

// bSymmetricDifference is the distinct elements in exactly one of the two
// lists: the receiver's first.
func bSymmetricDifference(c *callCtx) (any, error) {
	if _, ok := c.recv.(*pySet); ok {
		return c.setOperation([]any{c.param(0)}, func(inRecv bool, n int) bool { return !inRecv || n == 0 }, true)
	}
	left, err := c.setOp(false)
	if err != nil {
		return nil, err
	}
	l, o := c.recvList(), c.paramList(0)
	c.recv, c.vals[0] = o, l
	right, err := c.setOp(false)
	if err != nil {
		return nil, err
	}
	return c.ev.distinct(append(append([]any(nil), left.([]any)...), right.([]any)...))
}

func (c *callCtx) setOp(keep bool) (any, error) {
	l, o := c.recvList(), c.paramList(0)
	in := make(map[any]struct{}, len(o))
	for _, e := range o {
		h, err := c.ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		in[h] = struct{}{}
	}
	var out []any
	for _, e := range l {
		h, err := c.ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		if _, found := in[h]; found == keep {
			out = append(out, e)
		}
	}
	if err := c.ev.charge(len(l) + len(o)); err != nil {
		return nil, err
	}
	return c.ev.distinct(out)
}
