package yaql

// lazySeq is one of the endless Python iterators that yaql's sequence(),
// cycle() and repeat() without a count return. It lives only inside an
// evaluation and, like a Python iterator, is used up by what reads it:
// let(sequence()) -> [$.take(2), $.take(2)] is [[0, 1], [2, 3]]. take(),
// limit() and first() read only what they need; any other reader would
// never finish, so it fails at once with an error saying so.
type lazySeq struct {
	next func() any
}

// TypeName names an endless sequence in error messages.
func (*lazySeq) TypeName() string { return "endless sequence" }

func (ev *evaluator) newSeq(next func() any) *lazySeq {
	ev.internal = true
	return &lazySeq{next: next}
}

var errEndless = failf("an endless sequence (sequence(), cycle(), repeat() without a count) can only be read with take(), limit() or first()")

// pull reads the next n elements, within the list limit, paying a step for each.
func (ev *evaluator) pull(s *lazySeq, n int64, op string) ([]any, error) {
	n = max(n, 0)
	if err := ev.checkList(int(n), op); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = s.next()
	}
	return out, nil
}

// eager is v as rows and operators that take neither endless sequences
// nor sets read it: an error for an endless sequence, a set's elements as a
// list.
func eager(v any) (any, error) {
	switch x := v.(type) {
	case *lazySeq:
		return nil, errEndless
	case *pySet:
		return x.list(), nil
	}
	return v, nil
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
