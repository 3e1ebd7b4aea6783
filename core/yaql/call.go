package yaql

import (
	"fmt"
	"sort"
	"strconv"
	"sync"

	typos "github.com/lazyflow/lazyflow/core/internal/suggest"
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
	lazy   bool             // the row's lazy: arguments may be endless sequences
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
	v, err := c.args[i](c.ev, c.sc)
	if err != nil || c.lazy {
		return v, err
	}
	return c.ev.eager(v)
}

// byName appends, after the positional arguments given, those given by
// name: YAQL lets any parameter be passed either way. A position before a
// named one that nobody gave is null, the default of every parameter that
// rows name.
func (c *callCtx) byName(names []string) {
	given := len(c.args)
	last := -1
	for k := given; k < len(names); k++ {
		if c.kwIndex(names[k]) >= 0 {
			last = k
		}
	}
	if last < 0 {
		return
	}
	// The three-index slice copies: c.args is the compiled call's.
	args := c.args[:given:given]
	for k := given; k <= last; k++ {
		if i := c.kwIndex(names[k]); i >= 0 {
			args = append(args, c.kw[i].val)
		} else {
			args = append(args, evalNull)
		}
	}
	c.args = args
}

func evalNull(*evaluator, *scope) (any, error) { return nil, nil }

func (c *callCtx) kwIndex(name string) int {
	for i, kw := range c.kw {
		if kw.name == name {
			return i
		}
	}
	return -1
}

// option is a YAQL parameter that may come positionally, as argument i,
// or by one of its names (name => value); def when it is absent.
func (c *callCtx) option(i int, def any, names ...string) (any, error) {
	if i < len(c.args) {
		return c.arg(i)
	}
	for _, kw := range c.kw {
		for _, n := range names {
			if kw.name == n {
				v, err := kw.val(c.ev, c.sc)
				return plain(v), err
			}
		}
	}
	return def, nil
}

func (c *callCtx) argOr(i int, def any) (any, error) {
	if i >= len(c.args) {
		return def, nil
	}
	v, err := c.args[i](c.ev, c.sc)
	return plain(v), err
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
	v, err := c.args[i](c.ev, &c.child)
	if err != nil {
		return nil, err
	}
	return settle(c.ev, v)
}

// lambda2 evaluates argument i with $1, $2 bound (and $ = $1).
func (c *callCtx) lambda2(i int, a, b any) (any, error) {
	if i >= len(c.args) {
		return nil, failf("%s() is missing argument %d", c.name, i+1)
	}
	return c.apply2(c.args[i], a, b)
}

// apply2 evaluates f with $1, $2 bound (and $ = $1).
func (c *callCtx) apply2(f evalFn, a, b any) (any, error) {
	if err := c.ev.tick(); err != nil {
		return nil, err
	}
	c.child.parent = c.sc
	c.child.vars = nil
	c.child.data = a
	c.child.argbuf[0], c.child.argbuf[1] = a, b
	c.child.args = c.child.argbuf[:2]
	return f(c.ev, &c.child)
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
	query := recv != nil && iteratorMethods[name]
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
		if ev.defs {
			if uf := lookupFunc(sc, name); uf != nil {
				return uf.call(ev, sc, recv != nil, rv, args)
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
				return nil, failf("unknown method %s() on a %s%s", name, value.TypeName(rv), didYouMean(name, ev.env.Funcs))
			}
			return nil, failf("unknown function %s()%s", name, didYouMean(name, ev.env.Funcs))
		}
		cc := ev.getCall()
		cc.ev, cc.sc, cc.name, cc.method, cc.recv, cc.args, cc.kw = ev, sc, name, recv != nil, rv, args, kws
		out, err := b.invoke(cc)
		ev.putCall(cc)
		if query && err == nil {
			out = ev.markQuery(out)
		}
		return out, err
	}, nil
}

func callHost(ev *evaluator, sc *scope, name string, f Func, method bool, recv any, args []evalFn, kws []kwarg, constArgs []any) (any, error) {
	if len(kws) > 0 {
		return nil, failf("%s() does not take name => value arguments", name)
	}
	vals := constArgs
	if vals == nil && (len(args) > 0 || method) {
		var err error
		if vals, err = evalArgs(ev, sc, method, recv, args); err != nil {
			return nil, err
		}
	}
	for i, v := range vals {
		var err error
		if vals[i], err = ev.eager(v); err != nil {
			return nil, err
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
	funcs   map[string]*userFunc
	data    any
	hasData bool
}

// userFunc is a function def(name, body) defines: body evaluated where def
// was called, with $ and $1 the first argument, $2 the second...
type userFunc struct {
	name string
	body evalFn
	sc   *scope
}

func lookupFunc(sc *scope, name string) *userFunc {
	for s := sc; s != nil; s = s.parent {
		if f := s.funcs[name]; f != nil {
			return f
		}
	}
	return nil
}

// evalArgs is a call's values: the receiver, if any, then each argument.
func evalArgs(ev *evaluator, sc *scope, method bool, recv any, args []evalFn) ([]any, error) {
	vals := make([]any, 0, len(args)+1)
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
	return vals, nil
}

func (uf *userFunc) call(ev *evaluator, sc *scope, method bool, recv any, args []evalFn) (any, error) {
	vals, err := evalArgs(ev, sc, method, recv, args)
	if err != nil {
		return nil, err
	}
	// The body sees its own name, as yaql registers it in the context the
	// body runs in.
	inner := &scope{parent: uf.sc, args: vals, funcs: map[string]*userFunc{uf.name: uf}}
	if len(vals) > 0 {
		inner.data = vals[0]
	}
	if err := ev.enterCall(); err != nil {
		return nil, err
	}
	defer ev.leaveCall()
	return uf.body(ev, inner)
}

// enterCall bounds the nesting of user functions and call(): recursion
// would otherwise be bounded by steps only, long after the Go stack.
func (ev *evaluator) enterCall() error {
	if ev.calls >= MaxDepth {
		return &opError{msg: "user functions and call() nested more than " + strconv.Itoa(MaxDepth) + " deep", err: ErrLimit}
	}
	ev.calls++
	return nil
}

func (ev *evaluator) leaveCall() { ev.calls-- }

// bDef is def(name, body) -> ...: name(args) calls body on the right side.
func bDef(c *callCtx) (any, error) {
	if len(c.args) != 2 {
		return nil, failf("def() takes a name and a body, as in def(sq, $ * $)")
	}
	name, err := c.strArg(0)
	if err != nil {
		return nil, err
	}
	c.ev.internal, c.ev.defs = true, true
	return &letContext{funcs: map[string]*userFunc{name: {name: name, body: c.args[1], sc: c.sc}}}, nil
}

// bCall is call(name, args, kwargs[, receiver]): the function name called
// with the values of the list args and the dict kwargs.
func bCall(c *callCtx) (any, error) {
	if len(c.args) < 3 || len(c.args) > 4 {
		return nil, failf("call() takes a function name, a list of arguments, a dict of named arguments and an optional receiver")
	}
	name, err := c.strArg(0)
	if err != nil {
		return nil, err
	}
	av, err := c.arg(1)
	if err != nil {
		return nil, err
	}
	list, err := asList(c.name, av)
	if err != nil {
		return nil, err
	}
	kv, err := c.arg(2)
	if err != nil {
		return nil, err
	}
	kwargs, ok := value.AsMap(kv)
	if !ok {
		return nil, failf("call() expects a dict of named arguments, not a %s", value.TypeName(kv))
	}
	args := make([]evalFn, len(list))
	for i, v := range list {
		args[i] = constFn(v)
	}
	var kws []kwarg
	for k, v := range kwargs.All() {
		kws = append(kws, kwarg{name: k, key: constFn(k), val: constFn(v)})
	}
	method, recv := false, any(nil)
	if len(c.args) == 4 {
		if recv, err = c.arg(3); err != nil {
			return nil, err
		}
		method = true
	}
	if err := c.ev.enterCall(); err != nil {
		return nil, err
	}
	defer c.ev.leaveCall()
	if c.ev.defs {
		if uf := lookupFunc(c.sc, name); uf != nil {
			return uf.call(c.ev, c.sc, method, recv, args)
		}
	}
	if f := c.ev.env.Funcs[name]; f != nil {
		return callHost(c.ev, c.sc, name, f, method, recv, args, kws, nil)
	}
	b := builtins[name]
	if b == nil {
		return nil, failf("call(): unknown function %s()%s", name, didYouMean(name, c.ev.env.Funcs))
	}
	cc := c.ev.getCall()
	cc.ev, cc.sc, cc.name, cc.method, cc.recv, cc.args, cc.kw = c.ev, c.sc, name, method, recv, args, kws
	out, err := b.invoke(cc)
	c.ev.putCall(cc)
	return out, err
}

func constFn(v any) evalFn {
	return func(*evaluator, *scope) (any, error) { return v, nil }
}

// forbidden names functions YAQL has but Lazyflow refuses, with the reason.
// builtinNames are the standard library's function names, sorted, so that
// a suggestion does not depend on map order.
var builtinNames = sync.OnceValue(func() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		if isName(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
})

// isName reports whether s is a name a user could call (not an operator's
// row).
func isName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// didYouMean is " (did you mean len()?)" for a misspelt function name,
// naming the nearest built-in or host function, else "": an unknown name
// fails only when the expression runs, so the message is where a typo is
// found.
func didYouMean(name string, host map[string]Func) string {
	known := builtinNames()
	if len(host) > 0 {
		hostNames := make([]string, 0, len(host))
		for n := range host {
			hostNames = append(hostNames, n)
		}
		sort.Strings(hostNames)
		known = append(hostNames, known...)
	}
	if best := typos.Closest(name, known); best != "" && best != name {
		return fmt.Sprintf(" (did you mean %s()?)", best)
	}
	return ""
}

var forbidden = map[string]string{
	"now":      "now() is not available: expressions must be deterministic so the engine can re-evaluate them; take the time from the host (e.g. execution().created_at)",
	"localNow": "localNow() is not available: expressions must be deterministic",
	"utcNow":   "utcNow() is not available: expressions must be deterministic",
	"localtz":  "localtz() is not available: expressions must not depend on the host's time zone; give an offset, e.g. timespan(hours => 2)",
	"random":   "random() is not available: expressions must be deterministic",
}
