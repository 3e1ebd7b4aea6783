package yaql

import (
	"math/big"

	"github.com/lazyflow/lazyflow/core/value"
)

// sequenceFuncs are the rest of yaql's queries and collections
// (standard_library/queries.py, collections.py) that build, cut or splice
// lists. Lazyflow's lists are built whole, within the sandbox's limits;
// YAQL's endless iterators (sequence(), repeat() without a count, cycle())
// are lazySeq.
var sequenceFuncs = []fn{
	{names: []string{"zipLongest"}, form: method, recv: kList, kw: true, call: bZipLongest},
	{names: []string{"repeat"}, form: method, recv: kAny, arity: between(0, 1), named: []string{"times"}, call: bRepeat},
	{names: []string{"lastIndexWhere"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bLastIndexWhere},
	{names: []string{"splitWhere"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bSplitWhere(false)},
	{names: []string{"sliceWhere"}, form: method, recv: kList, arity: exactly(1), params: []param{lambda}, call: bSplitWhere(true)},
	{names: []string{"splitAt"}, form: method, recv: kList, arity: exactly(1), params: []param{val(kInt)}, call: bSplitAt},
	{names: []string{"accumulate"}, form: method, recv: kList, arity: between(1, 2), params: []param{lambda}, call: bAccumulate},
	{names: []string{"generate"}, form: function, arity: between(3, 4), named: []string{"initial", "predicate", "producer", "selector"}, call: bGenerate},
	{names: []string{"generateMany"}, form: function, arity: between(2, 3), named: []string{"initial", "producer", "selector"}, call: bGenerateMany},
	{names: []string{"isIterable"}, form: functionOf, recv: kAny, call: typeTest(func(v any) bool { _, ok := v.([]any); return ok })},
	{names: []string{"memorize"}, form: method, recv: kList, arity: exactly(0), call: func(c *callCtx) (any, error) { return c.recv, nil }},
	{names: []string{"replaceMany"}, form: method, recv: kList, arity: between(2, 3), params: []param{val(kInt), val(kList), optInt(1)}, call: bReplaceMany},
	{names: []string{"insertMany"}, form: method, recv: kList, arity: exactly(2), params: []param{val(kInt), val(kList)}, call: bInsertMany},
	{names: []string{"deleteAll"}, form: method, recv: kDict, arity: exactly(1), params: []param{val(kList)}, call: bDeleteAll},
}

// bZipLongest is zip padded with default => value (null) to the longest list.
func bZipLongest(c *callCtx) (any, error) {
	lists, err := c.listArgs()
	if err != nil {
		return nil, err
	}
	var def any
	for _, kw := range c.kw {
		if kw.name != "default" {
			return nil, failf("zipLongest() takes only default => value")
		}
		if def, err = kw.val(c.ev, c.sc); err != nil {
			return nil, err
		}
		def = plain(def)
	}
	n := 0
	for _, l := range lists {
		n = max(n, len(l))
	}
	out, err := c.newList(n)
	if err != nil {
		return nil, err
	}
	if err := c.ev.checkList(n*len(lists), "zipLongest()"); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		row := make([]any, len(lists))
		for j, l := range lists {
			row[j] = def
			if i < len(l) {
				row[j] = l[i]
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// bRepeat is value.repeat(times), endless without a count.
func bRepeat(c *callCtx) (any, error) {
	var bn *big.Int
	if len(c.args) > 0 {
		var err error
		if bn, err = c.strictInt(0); err != nil {
			return nil, err
		}
	}
	// yaql's default count, -1, and any negative one repeat endlessly.
	if bn == nil || bn.Sign() < 0 {
		v := c.recv
		return c.ev.newSeq(func() any { return v }), nil
	}
	n := int64(c.ev.maxList) + 1
	if bn.IsInt64() {
		n = min(bn.Int64(), n)
	}
	if err := c.ev.checkList(int(n), "repeat()"); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = c.recv
	}
	return out, nil
}

func bLastIndexWhere(c *callCtx) (any, error) {
	idx := int64(-1)
	for i, e := range c.recvList() {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if value.Truthy(ok) {
			idx = int64(i)
		}
	}
	return idx, nil
}

// bSplitWhere cuts the list at the elements the predicate holds for,
// dropping them (splitWhere), or wherever the predicate's value changes
// (sliceWhere).
func bSplitWhere(slice bool) builtin {
	return func(c *callCtx) (any, error) {
		l := c.recvList()
		out, err := c.newList(0)
		if err != nil {
			return nil, err
		}
		start := 0
		var prev any
		for end, e := range l {
			p, err := c.lambda(0, e)
			if err != nil {
				return nil, err
			}
			switch {
			case !slice && value.Truthy(p):
				out = append(out, l[start:end:end])
				start = end + 1
			case slice && end > 0:
				eq, err := c.ev.equal(p, prev)
				if err != nil {
					return nil, err
				}
				if !eq {
					out = append(out, l[start:end:end])
					start = end
				}
			}
			prev = p
		}
		if start < len(l) {
			out = append(out, l[start:])
		}
		return out, c.ev.limitList(len(out), c.name+"()")
	}
}

// bSplitAt is [list[:n], list[n:]] with Python's slice clamping.
func bSplitAt(c *callCtx) (any, error) {
	l := c.recvList()
	n := c.paramInt(0)
	if n < 0 {
		n += int64(len(l))
	}
	i := clampRange(n, len(l))
	return []any{l[:i:i], l[i:]}, nil
}

// bAccumulate is the running fold: seed (or the first element), then
// each step of the reducer ($1 the total, $2 the element).
func bAccumulate(c *callCtx) (any, error) {
	total, l, err := c.seed(1)
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(l) + 1)
	if err != nil {
		return nil, err
	}
	out = append(out, total)
	for _, e := range l {
		if total, err = c.lambda2(0, total, e); err != nil {
			return nil, err
		}
		out = append(out, total)
	}
	return out, nil
}

// bGenerate is generate(initial, predicate, producer[, selector]): the
// values from initial, each produced from the last, while the predicate
// holds. Each turn costs steps and the list limit applies, so a predicate
// that always holds ends with a sandbox error.
func bGenerate(c *callCtx) (any, error) {
	cur, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for {
		ok, err := c.lambda(1, cur)
		if err != nil {
			return nil, err
		}
		if !value.Truthy(ok) {
			return out, nil
		}
		item := cur
		if len(c.args) > 3 {
			if item, err = c.lambda(3, cur); err != nil {
				return nil, err
			}
		}
		if err := c.ev.limitList(len(out)+1, "generate()"); err != nil {
			return nil, err
		}
		out = append(out, item)
		if cur, err = c.lambda(2, cur); err != nil {
			return nil, err
		}
	}
}

// bGenerateMany is generateMany(initial, producer[, selector]): a
// breadth-first walk from initial, the producer giving each item's
// successors.
func bGenerateMany(c *callCtx) (any, error) {
	first, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	queue := []any{first}
	out := []any{}
	for len(queue) > 0 {
		item := queue[0]
		queue = queue[1:]
		sel := item
		if len(c.args) > 2 {
			if sel, err = c.lambda(2, item); err != nil {
				return nil, err
			}
		}
		if err := c.ev.limitList(len(out)+1, "generateMany()"); err != nil {
			return nil, err
		}
		out = append(out, sel)
		next, err := c.lambda(1, item)
		if err != nil {
			return nil, err
		}
		more, err := asList(c.name, next)
		if err != nil {
			return nil, err
		}
		if err := c.ev.limitList(len(queue)+len(more), "generateMany()"); err != nil {
			return nil, err
		}
		if err := c.ev.charge(len(more)); err != nil {
			return nil, err
		}
		queue = append(queue, more...)
	}
	return out, nil
}

// bReplaceMany replaces count elements (all from position when count < 0)
// from position with the values.
func bReplaceMany(c *callCtx) (any, error) {
	l, pos, vals, count := c.recvList(), c.paramInt(0), c.paramList(1), c.paramInt(2)
	out, err := c.newList(len(l) + len(vals))
	if err != nil {
		return nil, err
	}
	done := false
	for i, e := range l {
		at := int64(i)
		if (count >= 0 && pos <= at && at < pos+count) || (count < 0 && at >= pos) {
			if !done {
				out = append(out, vals...)
				done = true
			}
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// bInsertMany inserts the values before position (first when negative,
// last when past the end).
func bInsertMany(c *callCtx) (any, error) {
	l, pos, vals := c.recvList(), c.paramInt(0), c.paramList(1)
	out, err := c.newList(len(l) + len(vals))
	if err != nil {
		return nil, err
	}
	if pos < 0 {
		out = append(out, vals...)
	}
	for i, e := range l {
		if int64(i) == pos {
			out = append(out, vals...)
		}
		out = append(out, e)
	}
	if pos >= int64(len(l)) {
		out = append(out, vals...)
	}
	return out, nil
}

// bDeleteAll is dict.deleteAll(keys): a copy without those keys.
func bDeleteAll(c *callCtx) (any, error) {
	d := c.recvDict()
	if err := c.ev.checkList(d.Len(), "deleteAll()"); err != nil {
		return nil, err
	}
	out := d.Clone()
	for _, k := range c.paramList(0) {
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		out.Delete(ks)
	}
	return out, nil
}
