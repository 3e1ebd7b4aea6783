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
type lazySeq struct {
	next    func() (any, bool) // false once a finite sequence has ended
	endless bool
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
// Lazyflow computes these results as lists, so list() tells them by the
// call that made them.
var iteratorMethods = map[string]bool{
	"select": true, "map": true, "where": true, "filter": true, "distinct": true, "reverse": true,
	"skip": true, "take": true, "limit": true, "skipWhile": true, "takeWhile": true,
	"flatten": true, "concat": true, "append": true, "selectMany": true, "enumerate": true,
	"zip": true, "zipLongest": true, "delete": true, "replace": true, "replaceMany": true,
	"insertMany": true, "groupBy": true, "join": true, "slice": true, "sliceWhere": true,
	"splitWhere": true,
}

// isIteratorCall reports an argument written as a method call whose result
// is an iterator in yaql.
func isIteratorCall(n node) bool {
	call, ok := n.(*nCall)
	return ok && call.recv != nil && iteratorMethods[call.name]
}

// asIterator makes f's list result a finite sequence, which list() splices.
func asIterator(f evalFn) evalFn {
	return func(ev *evaluator, sc *scope) (any, error) {
		v, err := f(ev, sc)
		l, ok := v.([]any)
		if err != nil || !ok {
			return v, err
		}
		ev.internal = true
		i := 0
		return &lazySeq{next: func() (any, bool) {
			if i >= len(l) {
				return nil, false
			}
			i++
			return l[i-1], true
		}}, nil
	}
}
