package yaql

import "math"

// lazySeq is one of the Python iterators yaql's range(), sequence(),
// cycle() and repeat() without a count return. It lives only inside an
// evaluation and, like a Python iterator, is used up by what reads it:
// let(range(4)) -> $.sum() + $.len() is 6, as the sum reads all of it.
// take(), limit() and first() read only what they need, list() splices it
// into its arguments, let() binds it as it is; every other reader gets the
// list of what is left of a finite one (range()'s length is checked when it
// is made) and an error for an endless one.
//
// A query method's result (select(), where(), ...; see iteratorMethods) is
// a Python iterator in yaql too, but Lazyflow computes it as a list; it is
// a lazySeq with query set, so that list() splices it however it got there
// (through let(), switch(), coalesce(), or). Every other reader gets the
// list, as often as it reads it.
type lazySeq struct {
	next    func() (any, bool) // false once a finite sequence has ended
	endless bool
	query   []any // a query method's result; next is unused
	isQuery bool
}

// TypeName names a sequence in error messages.
func (s *lazySeq) TypeName() string {
	if s.endless {
		return "endless sequence"
	}
	return "iterator"
}

func (ev *evaluator) newSeq(next func() any) *lazySeq {
	ev.internal = true
	return &lazySeq{next: func() (any, bool) { return next(), true }, endless: true}
}

var errEndless = failf("an endless sequence (sequence(), cycle(), repeat() without a count) can only be read with take(), limit() or first()")

// pull reads up to n more elements, within the list limit, paying a step
// for each.
func (ev *evaluator) pull(s *lazySeq, n int64, op string) ([]any, error) {
	n = max(n, 0)
	if s.endless {
		if err := ev.limitList(int(n), op); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, min(n, 1024))
	for int64(len(out)) < n {
		v, ok := s.next()
		if !ok {
			break
		}
		out = append(out, v)
	}
	return out, ev.charge(len(out))
}

// drain is what is left of a finite sequence as a list; anything else is
// returned as it is.
func (ev *evaluator) drain(v any) (any, error) {
	s, ok := v.(*lazySeq)
	if !ok {
		return v, nil
	}
	if s.isQuery {
		return s.query, nil
	}
	if s.endless {
		return nil, errEndless
	}
	return ev.pull(s, math.MaxInt64, "")
}

// eager is v as rows and operators that take neither sequences nor sets
// read it: a sequence drained, a set's elements as a list.
func (ev *evaluator) eager(v any) (any, error) {
	if s, ok := v.(*pySet); ok {
		return s.list(), nil
	}
	return ev.drain(v)
}

// bSequence is sequence(start => 0, step => 1): start, start + step, ...
func bSequence(c *callCtx) (any, error) {
	start, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	step, err := c.intArg(1, 1)
	if err != nil {
		return nil, err
	}
	n := start
	return c.ev.newSeq(func() any {
		v := n
		n += step
		return v
	}), nil
}

// bCycle is list.cycle(): the list's elements over and over; an empty
// list gives an empty one, as Python's itertools.cycle ends at once.
func bCycle(c *callCtx) (any, error) {
	l := c.recvList()
	if len(l) == 0 {
		return []any{}, nil
	}
	i := 0
	return c.ev.newSeq(func() any {
		v := l[i%len(l)]
		i++
		return v
	}), nil
}

// iteratorMethods are the yaql methods whose result is a Python iterator
// (a generator, map or filter object), which list() splices into its
// arguments: list(0, [1, 2].select($)) is [0, 1, 2], while a list, an
// orderBy() (an iterable, not an iterator) or toList() stays one element.
var iteratorMethods = map[string]bool{
	"select": true, "map": true, "where": true, "filter": true, "distinct": true, "reverse": true,
	"skip": true, "take": true, "limit": true, "skipWhile": true, "takeWhile": true,
	"flatten": true, "concat": true, "append": true, "selectMany": true, "enumerate": true,
	"zip": true, "zipLongest": true, "delete": true, "replace": true, "replaceMany": true,
	"insertMany": true, "groupBy": true, "join": true, "slice": true, "sliceWhere": true,
	"splitWhere": true,
}

// markQuery marks a query method's list result as the iterator it is in
// yaql; the evaluation's result is then exported, which turns it back into
// the list.
func (ev *evaluator) markQuery(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	ev.internal = true
	return &lazySeq{query: l, isQuery: true}
}

// plain is v as a reader that does not take iterators sees it: a query
// result as its list. Other sequences stay, for the reader's own error.
func plain(v any) any {
	if s, ok := v.(*lazySeq); ok && s.isQuery {
		return s.query
	}
	return v
}
