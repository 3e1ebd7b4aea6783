package yaql

import (
	"github.com/lazyflow/lazyflow/core/value"
)

// builtin implements a YAQL function. It receives its arguments unevaluated
// so that where(), select(), switch() and friends decide when (and in which
// scope) to evaluate them.
type builtin func(c *callCtx) (any, error)

type kwarg struct {
	name string // the key when it is a bare word or a string literal, else ""
	key  evalFn
	val  evalFn
}

// callCtx is one call in progress. It is recycled through the evaluator so a
// call costs no allocation.
type callCtx struct {
	ev     *evaluator
	sc     *scope
	name   string
	method bool // recv is set: x.name(...) or a function whose first argument was bound by self()
	recv   any
	args   []evalFn
	kw     []kwarg
	child  scope
	vals   [maxParams]any   // the row's params, evaluated by invoke
	ints   [maxParams]int64 // the kInt params, converted
}

func (ev *evaluator) getCall() *callCtx {
	if n := len(ev.free); n > 0 {
		c := ev.free[n-1]
		ev.free = ev.free[:n-1]
		return c
	}
	return new(callCtx)
}

func (ev *evaluator) putCall(c *callCtx) {
	*c = callCtx{}
	ev.free = append(ev.free, c)
}

// self binds the receiver: x in x.f(...) or the first argument of f(x, ...).
func (c *callCtx) self() (any, error) {
	if c.method {
		return c.recv, nil
	}
	if len(c.args) == 0 {
		return nil, failf("%s() needs an argument", c.name)
	}
	v, err := c.args[0](c.ev, c.sc)
	if err != nil {
		return nil, err
	}
	c.args = c.args[1:]
	c.method, c.recv = true, v
	return v, nil
}

func (c *callCtx) arity(min, max int) error {
	if n := len(c.args); n < min || (max >= 0 && n > max) {
		switch {
		case min == max:
			return failf("%s() takes %d argument(s) besides its receiver, got %d", c.name, min, n)
		case max < 0:
			return failf("%s() takes at least %d argument(s), got %d", c.name, min, n)
		default:
			return failf("%s() takes %d to %d argument(s), got %d", c.name, min, max, n)
		}
	}
	return nil
}

func (c *callCtx) noKw() error {
	if len(c.kw) > 0 {
		return failf("%s() does not take name => value arguments", c.name)
	}
	return nil
}

// arg evaluates positional argument i; a missing one is an error, which
// spares every built-in an arity check of its own.
func (c *callCtx) arg(i int) (any, error) {
	if i >= len(c.args) {
		return nil, failf("%s() is missing argument %d", c.name, i+1)
	}
	return c.args[i](c.ev, c.sc)
}

func (c *callCtx) argOr(i int, def any) (any, error) {
	if i >= len(c.args) {
		return def, nil
	}
	return c.args[i](c.ev, c.sc)
}

// lambda evaluates argument i with $ and $1 bound to item.
func (c *callCtx) lambda(i int, item any) (any, error) {
	if err := c.ev.tick(); err != nil {
		return nil, err
	}
	c.child.parent = c.sc
	c.child.vars = nil
	c.child.set1(item)
	if i >= len(c.args) {
		return nil, failf("%s() is missing argument %d", c.name, i+1)
	}
	return c.args[i](c.ev, &c.child)
}

// lambda2 evaluates argument i with $1, $2 bound (and $ = $1).
func (c *callCtx) lambda2(i int, a, b any) (any, error) {
	if err := c.ev.tick(); err != nil {
		return nil, err
	}
	c.child.parent = c.sc
	c.child.vars = nil
	c.child.data = a
	c.child.argbuf[0], c.child.argbuf[1] = a, b
	c.child.args = c.child.argbuf[:2]
	if i >= len(c.args) {
		return nil, failf("%s() is missing argument %d", c.name, i+1)
	}
	return c.args[i](c.ev, &c.child)
}

func (c *compiler) call(n *nCall) (evalFn, error) {
	var recv evalFn
	if n.recv != nil {
		var err error
		if recv, err = c.node(n.recv); err != nil {
			return nil, err
		}
	}
	var args []evalFn
	var kws []kwarg
	constArgs := make([]any, 0, len(n.args))
	allConst := true
	for _, a := range n.args {
		if p, ok := a.(*nPair); ok {
			k, err := c.node(p.k)
			if err != nil {
				return nil, err
			}
			v, err := c.node(p.v)
			if err != nil {
				return nil, err
			}
			kw := kwarg{key: k, val: v}
			switch kn := p.k.(type) {
			case *nIdent:
				kw.name = kn.name
			case *nLit:
				if s, ok := kn.v.(string); ok {
					kw.name = s
				}
			}
			kws = append(kws, kw)
			allConst = false
			continue
		}
		f, err := c.node(a)
		if err != nil {
			return nil, err
		}
		args = append(args, f)
		switch l := a.(type) {
		case *nLit:
			constArgs = append(constArgs, l.v)
		case *nIdent:
			constArgs = append(constArgs, l.name)
		default:
			allConst = false
		}
	}
	if !allConst || recv != nil {
		constArgs = nil
	}
	name, elvis := n.name, n.elvis
	b := builtins[name]
	return func(ev *evaluator, sc *scope) (any, error) {
		if err := ev.tick(); err != nil {
			return nil, err
		}
		var rv any
		if recv != nil {
			var err error
			if rv, err = recv(ev, sc); err != nil {
				return nil, err
			}
			if elvis && rv == nil {
				return nil, nil
			}
		}
		if ev.env.Funcs != nil {
			if f, ok := ev.env.Funcs[name]; ok && f != nil {
				return callHost(ev, sc, name, f, recv != nil, rv, args, kws, constArgs)
			}
		}
		if b == nil {
			if msg := forbidden[name]; msg != "" {
				return nil, failf("%s", msg)
			}
			if recv != nil {
				return nil, failf("unknown method %s() on a %s", name, value.TypeName(rv))
			}
			return nil, failf("unknown function %s()", name)
		}
		cc := ev.getCall()
		cc.ev, cc.sc, cc.name, cc.method, cc.recv, cc.args, cc.kw = ev, sc, name, recv != nil, rv, args, kws
		out, err := b.invoke(cc)
		ev.putCall(cc)
		return out, err
	}, nil
}

func callHost(ev *evaluator, sc *scope, name string, f Func, method bool, recv any, args []evalFn, kws []kwarg, constArgs []any) (any, error) {
	if len(kws) > 0 {
		return nil, failf("%s() does not take name => value arguments", name)
	}
	vals := constArgs
	if vals == nil && (len(args) > 0 || method) {
		vals = make([]any, 0, len(args)+1)
		if method {
			vals = append(vals, recv)
		}
		for _, a := range args {
			v, err := a(ev, sc)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
	}
	out, err := f(vals)
	if err != nil {
		return nil, &opError{msg: name + "(): " + err.Error(), err: err}
	}
	// Funcs are specified to return JSON-like values; only a non-canonical
	// top level is normalised so that a large task result is not walked on
	// every call.
	switch out.(type) {
	case nil, bool, int64, float64, string, []any, *value.Map:
		return out, nil
	}
	return value.Normalize(out), nil
}

// letContext is what let(...) returns: names for the right side of ->.
type letContext struct {
	vars    map[string]any
	args    []any
	data    any
	hasData bool
}

// forbidden names functions YAQL has but Lazyflow refuses, with the reason.
var forbidden = map[string]string{
	"now":      "now() is not available: expressions must be deterministic so the engine can re-evaluate them; take the time from the host (e.g. execution().created_at)",
	"localNow": "localNow() is not available: expressions must be deterministic",
	"utcNow":   "utcNow() is not available: expressions must be deterministic",
	"random":   "random() is not available: expressions must be deterministic",
}
