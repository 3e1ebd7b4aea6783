package yaql

import (
	"math"
	"math/big"
	"strconv"

	"github.com/lazyflow/lazyflow/core/value"
)

// evalFn is a compiled node. Compiling to closures keeps the hot path free of
// tree walking, type switches on node kinds, reflection and maps.
type evalFn func(ev *evaluator, sc *scope) (any, error)

// scope holds what $, $1.. and $name mean at one point of the evaluation.
// Lambdas (where, select, ...) reuse one scope per call and overwrite it per
// element, so iterating costs no allocation.
type scope struct {
	parent *scope
	data   any
	args   []any
	argbuf [2]any
	vars   map[string]any
	funcs  map[string]*userFunc // def(name, body) -> ...
}

func (s *scope) set1(item any) {
	s.data = item
	s.argbuf[0] = item
	s.args = s.argbuf[:1]
}

// evaluator is the per-Eval state: budgets and the root scope. It is pooled.
type evaluator struct {
	env         *Env
	steps       int64 // remaining
	maxSteps    int64
	maxStr      int
	maxList     int
	nullMissing bool
	internal    bool // a let context or regex was created; check the result
	defs        bool // def() was called: calls look for user functions first
	calls       int  // user functions in progress, bounded like the parse depth
	root        scope
	free        []*callCtx
	// orders holds the keys of this evaluation's orderBy results, by their
	// first element, for thenBy.
	orders map[*any]ordering
}

func (ev *evaluator) reset(env *Env) {
	ev.env = env
	ev.internal = false
	ev.defs, ev.calls = false, 0
	ev.root = scope{}
	if ev.orders != nil {
		ev.orders = nil
	}
	if env == nil {
		return
	}
	ev.root.data = env.Data
	ev.maxSteps = env.MaxSteps
	if ev.maxSteps <= 0 {
		ev.maxSteps = DefaultMaxSteps
	}
	ev.steps = ev.maxSteps
	ev.maxStr = env.MaxStringLen
	if ev.maxStr <= 0 {
		ev.maxStr = DefaultMaxStringLen
	}
	ev.maxList = env.MaxListLen
	if ev.maxList <= 0 {
		ev.maxList = DefaultMaxListLen
	}
	ev.nullMissing = env.NullOnMissingKey
}

func (ev *evaluator) tick() error {
	ev.steps--
	if ev.steps < 0 {
		return ev.stepsExceeded()
	}
	return nil
}

func (ev *evaluator) stepsExceeded() error {
	return &opError{msg: "evaluation exceeded the budget of " + strconv.FormatInt(ev.maxSteps, 10) + " steps", err: ErrLimit}
}

// charge pays for n units of work done outside node evaluation (building a
// list, copying a string), so that cheap-looking calls cannot do unbounded
// work.
func (ev *evaluator) charge(n int) error {
	ev.steps -= int64(n)
	if ev.steps < 0 {
		return ev.stepsExceeded()
	}
	return nil
}

// checkList enforces the list size limit for a new list of n items and pays
// for building it.
func (ev *evaluator) checkList(n int, op string) error {
	if err := ev.limitList(n, op); err != nil {
		return err
	}
	return ev.charge(n)
}

// limitList enforces the size limit only, for lists grown piecewise whose
// pieces are paid for as they are added.
func (ev *evaluator) limitList(n int, op string) error {
	if n > ev.maxList || n < 0 {
		return &opError{msg: op + " would build a list of " + strconv.Itoa(n) + " items, more than the limit of " + strconv.Itoa(ev.maxList), err: ErrLimit}
	}
	return nil
}

// checkStr enforces the string size limit for a new string of n bytes and
// pays for copying it.
func (ev *evaluator) checkStr(n int, op string) error {
	if err := ev.limitStr(n, op); err != nil {
		return err
	}
	return ev.charge(n / 64)
}

func (ev *evaluator) limitStr(n int, op string) error {
	if n > ev.maxStr || n < 0 {
		return &opError{msg: op + " would build a string of " + strconv.Itoa(n) + " bytes, more than the limit of " + strconv.Itoa(ev.maxStr), err: ErrLimit}
	}
	return nil
}

func compileNode(n node, src string) (evalFn, error) {
	c := &compiler{src: src}
	return c.node(n)
}

type compiler struct{ src string }

func (c *compiler) errAt(n node, msg string) error { return syntaxErr(c.src, n.position(), msg) }

func (c *compiler) node(n node) (evalFn, error) {
	switch n := n.(type) {
	case *nLit:
		v := n.v
		return func(*evaluator, *scope) (any, error) { return v, nil }, nil
	case *nIdent:
		v := any(n.name)
		return func(*evaluator, *scope) (any, error) { return v, nil }, nil
	case *nVar:
		return compileVar(n.name), nil
	case *nUnary:
		return c.unary(n)
	case *nBinary:
		return c.binary(n)
	case *nMember:
		return c.member(n)
	case *nIndex:
		return c.index(n)
	case *nList:
		items, err := c.nodes(n.items)
		if err != nil {
			return nil, err
		}
		return func(ev *evaluator, sc *scope) (any, error) {
			if err := ev.checkList(len(items), "list literal"); err != nil {
				return nil, err
			}
			out := make([]any, len(items))
			for i, f := range items {
				v, err := f(ev, sc)
				if err == nil {
					v, err = settle(ev, v)
				}
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}, nil
	case *nDict:
		keys := make([]evalFn, len(n.pairs))
		vals := make([]evalFn, len(n.pairs))
		for i, p := range n.pairs {
			var err error
			if keys[i], err = c.node(p.k); err != nil {
				return nil, err
			}
			if vals[i], err = c.node(p.v); err != nil {
				return nil, err
			}
		}
		return func(ev *evaluator, sc *scope) (any, error) {
			if err := ev.checkList(len(keys), "dict literal"); err != nil {
				return nil, err
			}
			out := value.NewMap(len(keys))
			for i := range keys {
				k, err := keys[i](ev, sc)
				if err != nil {
					return nil, err
				}
				ks, err := dictKey(k)
				if err != nil {
					return nil, err
				}
				v, err := vals[i](ev, sc)
				if err == nil {
					v, err = settle(ev, v)
				}
				if err != nil {
					return nil, err
				}
				out.Set(ks, v)
			}
			return out, nil
		}, nil
	case *nCall:
		return c.call(n)
	case *nPair:
		return nil, c.errAt(n, `"=>" is only allowed inside a function call, an indexer or a dict`)
	}
	return nil, c.errAt(n, "unsupported expression")
}

func (c *compiler) nodes(ns []node) ([]evalFn, error) {
	out := make([]evalFn, len(ns))
	for i, n := range ns {
		f, err := c.node(n)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// dictKey turns a YAQL dict key into a JSON object key the way json.dumps
// does, since Lazyflow values only have string keys.
func dictKey(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case nil, bool, int64, float64, *big.Int:
		return yaqlStr(x), nil
	}
	return "", failf("a %s cannot be a dict key", value.TypeName(k))
}

func compileVar(name string) evalFn {
	if name == "" {
		return func(_ *evaluator, sc *scope) (any, error) { return sc.data, nil }
	}
	if k, err := strconv.Atoi(name); err == nil && k >= 1 {
		return func(_ *evaluator, sc *scope) (any, error) {
			for s := sc; s != nil; s = s.parent {
				if len(s.args) >= k {
					return s.args[k-1], nil
				}
			}
			return nil, nil
		}
	}
	// An unknown $name is null, as in YAQL, whose contexts answer None for
	// names nobody set.
	return func(_ *evaluator, sc *scope) (any, error) {
		for s := sc; s != nil; s = s.parent {
			if v, ok := s.vars[name]; ok {
				return v, nil
			}
		}
		return nil, nil
	}
}

func (c *compiler) unary(n *nUnary) (evalFn, error) {
	x, err := c.node(n.x)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "not":
		return func(ev *evaluator, sc *scope) (any, error) {
			v, err := x(ev, sc)
			if err != nil {
				return nil, err
			}
			return !value.Truthy(plain(v)), nil
		}, nil
	case "-":
		return func(ev *evaluator, sc *scope) (any, error) {
			v, err := x(ev, sc)
			if err != nil {
				return nil, err
			}
			switch t := plain(v).(type) {
			case int64:
				if t == math.MinInt64 {
					return intResult(new(big.Int).Neg(big.NewInt(t)))
				}
				return -t, nil
			case *big.Int:
				return intResult(new(big.Int).Neg(t))
			case float64:
				return -t, nil
			case timeSpan:
				return timeSpan{-t.us}, nil
			}
			return nil, failf("cannot negate a %s", value.TypeName(v))
		}, nil
	default: // "+"
		return func(ev *evaluator, sc *scope) (any, error) {
			v, err := x(ev, sc)
			if err != nil {
				return nil, err
			}
			switch plain(v).(type) {
			case int64, float64, *big.Int, timeSpan:
				return v, nil
			}
			return nil, failf("cannot apply unary + to a %s", value.TypeName(v))
		}, nil
	}
}

func (c *compiler) binary(n *nBinary) (evalFn, error) {
	l, err := c.node(n.l)
	if err != nil {
		return nil, err
	}
	r, err := c.node(n.r)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "and":
		return func(ev *evaluator, sc *scope) (any, error) {
			a, err := l(ev, sc)
			if err != nil || !value.Truthy(plain(a)) {
				return a, err
			}
			return r(ev, sc)
		}, nil
	case "or":
		return func(ev *evaluator, sc *scope) (any, error) {
			a, err := l(ev, sc)
			if err != nil || value.Truthy(plain(a)) {
				return a, err
			}
			return r(ev, sc)
		}, nil
	case "->":
		return func(ev *evaluator, sc *scope) (any, error) {
			a, err := l(ev, sc)
			if err != nil {
				return nil, err
			}
			lc, ok := a.(*letContext)
			if !ok {
				return nil, failf("the left side of -> must be let(...), not a %s", value.TypeName(a))
			}
			child := &scope{parent: sc, data: sc.data, vars: lc.vars, args: lc.args, funcs: lc.funcs}
			if lc.hasData {
				child.data = lc.data
			}
			return r(ev, child)
		}, nil
	case "=", "!=":
		ne := n.op == "!="
		return func(ev *evaluator, sc *scope) (any, error) {
			a, b, err := bothLazy(ev, sc, l, r)
			if err != nil {
				return nil, err
			}
			// A Python iterator (range()) equals only itself: range(0) = []
			// is false in yaql. A query result compares as its list, as
			// Lazyflow always has (yaql says false there too).
			a, b = plain(a), plain(b)
			_, lazyA := a.(*lazySeq)
			_, lazyB := b.(*lazySeq)
			if lazyA || lazyB {
				return (a == b) != ne, nil
			}
			eq, err := ev.equal(a, b)
			return eq != ne, err
		}, nil
	case "<", "<=", ">", ">=":
		var test func(int) bool
		switch n.op {
		case "<":
			test = func(c int) bool { return c < 0 }
		case "<=":
			test = func(c int) bool { return c <= 0 }
		case ">":
			test = func(c int) bool { return c > 0 }
		default:
			test = func(c int) bool { return c >= 0 }
		}
		return func(ev *evaluator, sc *scope) (any, error) {
			a, b, err := both(ev, sc, l, r)
			if err != nil {
				return nil, err
			}
			if x, ok := a.(*pySet); ok {
				if y, ok := b.(*pySet); ok {
					return setOrder(n.op, x, y), nil
				}
			}
			cmp, err := ev.compare(a, b)
			if err != nil {
				return nil, err
			}
			return test(cmp), nil
		}, nil
	case "in":
		return setBinop(l, r, opIn), nil
	case "+":
		return setBinop(l, r, opAdd), nil
	case "-":
		return binop(l, r, opSub), nil
	case "*":
		return binop(l, r, opMul), nil
	case "/":
		return binop(l, r, opDiv), nil
	case "mod":
		return binop(l, r, opMod), nil
	case "=~":
		return binop(l, r, func(ev *evaluator, a, b any) (any, error) { return regexMatch(ev, a, b) }), nil
	case "!~":
		return binop(l, r, func(ev *evaluator, a, b any) (any, error) {
			m, err := regexMatch(ev, a, b)
			if err != nil {
				return nil, err
			}
			return !m, nil
		}), nil
	}
	return nil, c.errAt(n, "unknown operator "+n.op)
}

func both(ev *evaluator, sc *scope, l, r evalFn) (any, any, error) {
	a, b, err := bothLazy(ev, sc, l, r)
	if err == nil {
		a, err = ev.drain(a)
	}
	if err == nil {
		b, err = ev.drain(b)
	}
	return a, b, err
}

// bothLazy evaluates both operands, leaving a sequence unread.
func bothLazy(ev *evaluator, sc *scope, l, r evalFn) (any, any, error) {
	if err := ev.tick(); err != nil {
		return nil, nil, err
	}
	a, err := l(ev, sc)
	if err != nil {
		return nil, nil, err
	}
	b, err := r(ev, sc)
	return a, b, err
}

// settle is v as a container holds it: a finite sequence as the list of
// its elements (an endless one stays, and fails when the result leaves).
func settle(ev *evaluator, v any) (any, error) {
	if s, ok := v.(*lazySeq); ok && !s.endless {
		return ev.drain(s)
	}
	return v, nil
}

// binop applies op to the operands, sets read as lists.
func binop(l, r evalFn, op func(ev *evaluator, a, b any) (any, error)) evalFn {
	return setBinop(l, r, func(ev *evaluator, a, b any) (any, error) {
		a, _ = ev.eager(a)
		b, _ = ev.eager(b)
		return op(ev, a, b)
	})
}

// setBinop applies op, which reads sets itself, to the operands.
func setBinop(l, r evalFn, op func(ev *evaluator, a, b any) (any, error)) evalFn {
	return func(ev *evaluator, sc *scope) (any, error) {
		a, b, err := both(ev, sc, l, r)
		if err != nil {
			return nil, err
		}
		return op(ev, a, b)
	}
}

func (c *compiler) member(n *nMember) (evalFn, error) {
	x, err := c.node(n.x)
	if err != nil {
		return nil, err
	}
	name, elvis := n.name, n.elvis
	return func(ev *evaluator, sc *scope) (any, error) {
		if err := ev.tick(); err != nil {
			return nil, err
		}
		v, err := x(ev, sc)
		if err != nil {
			return nil, err
		}
		v = plain(v)
		if v == nil && elvis {
			return nil, nil
		}
		return memberOf(ev, v, name)
	}, nil
}

// lookup reads key k of a dict of either shape.
func lookup(d any, k string) (any, bool) {
	if m, ok := d.(map[string]any); ok {
		r, ok := m[k]
		return r, ok
	}
	return d.(*value.Map).Get(k)
}

// missingKey is $.name of a dict without it: null where the host asked for
// that, else an error.
func missingKey(ev *evaluator, name string) (any, error) {
	if ev.nullMissing {
		return nil, nil
	}
	return nil, failf("key %q not found in dict (use .get(%s) for optional keys)", name, name)
}

// memberOf reads .name of a dict, and on a list it reads name from
// every element, as YAQL does (`$.servers.name` lists the names).
func memberOf(ev *evaluator, v any, name string) (any, error) {
	switch x := v.(type) {
	case *value.Map:
		if r, ok := x.Get(name); ok {
			return r, nil
		}
		return missingKey(ev, name)
	case map[string]any:
		if r, ok := x[name]; ok {
			return r, nil
		}
		return missingKey(ev, name)
	case []any:
		if err := ev.checkList(len(x), "."+name); err != nil {
			return nil, err
		}
		out := make([]any, len(x))
		for i, e := range x {
			r, err := memberOf(ev, e, name)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case nil:
		return nil, failf("cannot read key %q of null (use ?. to allow null)", name)
	}
	if r, ok, err := timeProperty(v, name); ok {
		return r, err
	}
	return nil, failf("cannot read key %q of a %s", name, value.TypeName(v))
}

func (c *compiler) index(n *nIndex) (evalFn, error) {
	x, err := c.node(n.x)
	if err != nil {
		return nil, err
	}
	if len(n.args) > 2 {
		return nil, c.errAt(n, "an indexer takes an index and an optional default")
	}
	var def evalFn
	keyNode := n.args[0]
	if _, ok := keyNode.(*nPair); ok {
		return nil, c.errAt(keyNode, "the index cannot be a key => value pair")
	}
	key, err := c.node(keyNode)
	if err != nil {
		return nil, err
	}
	if len(n.args) == 2 {
		d := n.args[1]
		if p, ok := d.(*nPair); ok {
			if id, ok := p.k.(*nIdent); !ok || id.name != "default" {
				return nil, c.errAt(d, "the second index argument must be a default value or default => value")
			}
			d = p.v
		}
		if def, err = c.node(d); err != nil {
			return nil, err
		}
	}
	return func(ev *evaluator, sc *scope) (any, error) {
		if err := ev.tick(); err != nil {
			return nil, err
		}
		v, err := x(ev, sc)
		if err != nil {
			return nil, err
		}
		v = plain(v)
		k, err := key(ev, sc)
		if err != nil {
			return nil, err
		}
		k = plain(k)
		switch t := v.(type) {
		case []any:
			i, ok := asIndex(k)
			if !ok {
				return nil, failf("a list index must be an integer, not a %s", value.TypeName(k))
			}
			if i < 0 {
				i += len(t)
			}
			if i < 0 || i >= len(t) {
				if def != nil {
					return def(ev, sc)
				}
				return nil, failf("list index %s out of range (length %d)", yaqlStr(k), len(t))
			}
			return t[i], nil
		case string:
			return nil, failf("a string cannot be indexed in YAQL: use substring(%s, 1)", yaqlStr(k))
		case *value.Map, map[string]any:
			ks, err := dictKey(k)
			if err != nil {
				return nil, err
			}
			if r, ok := lookup(t, ks); ok {
				return r, nil
			}
			if def != nil {
				return def(ev, sc)
			}
			if ev.nullMissing {
				return nil, nil
			}
			return nil, failf("key %q not found in dict", ks)
		}
		return nil, failf("cannot index a %s", value.TypeName(v))
	}, nil
}

func asIndex(k any) (int, bool) {
	switch x := k.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return math.MaxInt32, true // out of range for any list we allow
		}
		return int(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < math.MaxInt32 {
			return int(x), true
		}
	}
	return 0, false
}

// yaqlStr is YAQL's str(): like Python's, except null, true and false are
// spelled as in YAQL and containers are printed as JSON.
func yaqlStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case string:
		return x
	case *regexValue:
		return x.re.String()
	case dateTime:
		return x.pyString()
	case timeSpan:
		return x.pyString()
	}
	return value.String(v)
}
