package yaql

import (
	"math"
	"math/big"

	"github.com/lazyflow/lazyflow/core/value"
)

// The standard library is a table of signatures: each function is a row
// saying how it is called and what its arguments are, and invoke binds the
// receiver, checks the arity and evaluates and converts the leading
// arguments before the row's Go function runs. Arguments a function needs
// only sometimes, or with an item bound (lambdas), stay unevaluated in
// c.args so that where(), first(default) and friends evaluate them as YAQL
// does, lazily.

// kind is what an argument or receiver must be.
type kind uint8

const (
	kNone   kind = iota // no receiver is bound (a row's recv only)
	kAny                // any value, evaluated
	kString             // a string
	kInt                // an integer (a float with no fraction is accepted)
	kList               // a list
	kDict               // a dict
	kLambda             // left unevaluated (a param only)
)

// form is how a function may be called.
type form uint8

const (
	// methodOrFunc binds the receiver: x.f(a) and f(x, a) are the same call.
	methodOrFunc form = iota
	// method binds the receiver but, as in YAQL, only x.f(a) calls it:
	// f(x, a) is an unknown function.
	method
	// functionOf binds its first argument as the receiver but, as in YAQL,
	// only f(x, a) calls it: x.f(a) is an unknown method.
	functionOf
	// function binds no receiver: f(a, b); x.f(a) is an unknown method,
	// as in YAQL, unless the row says alsoMethod.
	function
)

// arity is the number of positional arguments besides the receiver. The
// zero value checks nothing: most functions ignore extra arguments.
type arity struct {
	min, max int // max < 0: no upper bound
	checked  bool
}

func exactly(n int) arity      { return arity{min: n, max: n, checked: true} }
func between(lo, hi int) arity { return arity{min: lo, max: hi, checked: true} }
func atLeast(n int) arity      { return arity{min: n, max: -1, checked: true} }

// param is a leading positional argument that invoke evaluates, in order,
// before the Go function runs. A missing one takes def when optional, else
// fails with "is missing argument N".
type param struct {
	kind     kind
	optional bool
	def      any // for kInt an int64
}

func val(k kind) param          { return param{kind: k} }
func opt(k kind, def any) param { return param{kind: k, optional: true, def: def} }
func optInt(def int64) param    { return opt(kInt, def) }

// lambda is a positional argument invoke leaves unevaluated: a lambda the
// Go function evaluates per item, or a value it needs only on some paths.
var lambda = param{kind: kLambda}

// param, paramInt, paramString and paramList are the params invoke has
// evaluated and checked.
func (c *callCtx) param(i int) any      { return c.vals[i] }
func (c *callCtx) paramInt(i int) int64 { return c.ints[i] }

func (c *callCtx) paramString(i int) string {
	s, _ := c.vals[i].(string)
	return s
}

func (c *callCtx) paramList(i int) []any {
	l, _ := c.vals[i].([]any)
	return l
}

// maxParams bounds a row's params, which live in callCtx's arrays so that
// a call allocates nothing for them.
const maxParams = 3

// fn is one row of the standard library.
type fn struct {
	names  []string // the name and its aliases (filter for where, ...)
	form   form
	recv   kind // the receiver's kind for methodOrFunc; kNone for function
	arity  arity
	params []param
	// kw: the Go function reads name => value arguments (c.kw). Other
	// rows ignore them rather than refuse them, as Lazyflow always has;
	// invoke hides them from those rows' Go functions.
	kw bool
	// named are YAQL's names of the positional arguments, in order: a
	// name => value argument with one of them fills its place.
	named []string
	// alsoMethod lets x.f(a) call a function row; the Go function sees
	// c.method and c.recv as the call gave them (max, min, concat, set).
	alsoMethod bool
	// lazy: the row reads an endless sequence (lazySeq) itself; every
	// other row refuses one as receiver or argument.
	lazy bool
	// setRecv: the row reads a set receiver (pySet) itself; every other
	// row reads a set as the list of its elements.
	setRecv bool
	call    builtin
}

// invoke runs the row's checks in the order the error messages pin:
// receiver, its kind, arity, then each param in order.
func (f *fn) invoke(c *callCtx) (any, error) {
	switch {
	case f.form == method && !c.method:
		return nil, failf("unknown function %s(): it is a method, call it as x.%s(...)", c.name, c.name)
	case (f.form == functionOf || f.form == function && !f.alsoMethod) && c.method:
		return nil, failf("unknown method %s() on a %s: it is a function, call it as %s(x, ...)", c.name, value.TypeName(c.recv), c.name)
	}
	c.lazy = f.lazy
	if c.method {
		// A query result is a list to every row, lazy ones included.
		c.recv = plain(c.recv)
	}
	switch f.form {
	case methodOrFunc, method, functionOf:
		v, err := c.self()
		if err != nil {
			return nil, err
		}
		own := false // the row reads this receiver kind itself
		switch x := v.(type) {
		case *lazySeq:
			if own = f.lazy; !own {
				if c.recv, err = c.ev.drain(x); err != nil {
					return nil, err
				}
				v = c.recv
			}
		case *pySet:
			if own = f.setRecv; !own {
				c.recv = x.list()
				v = c.recv
			}
		}
		if !own {
			if err := checkKind(c.name, f.recv, v); err != nil {
				return nil, err
			}
		}
	}
	if len(f.named) > 0 {
		c.byName(f.named)
	}
	if f.arity.checked {
		if err := c.arity(f.arity.min, f.arity.max); err != nil {
			return nil, err
		}
	}
	if !f.kw {
		c.kw = nil
	}
	for i, p := range f.params {
		if p.kind == kLambda {
			continue
		}
		if p.optional && i >= len(c.args) {
			c.vals[i] = p.def
			if n, ok := p.def.(int64); ok {
				c.ints[i] = n
			}
			continue
		}
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if p.kind == kInt {
			if c.ints[i], err = asInt(c.name, v); err != nil {
				return nil, err
			}
		} else if err := checkKind(c.name, p.kind, v); err != nil {
			return nil, err
		}
		c.vals[i] = v
	}
	return f.call(c)
}

// checkKind is the "expects a ..." error of a receiver or argument of the
// wrong kind; kAny and kNone accept anything.
func checkKind(name string, k kind, v any) error {
	var err error
	switch k {
	case kString:
		_, err = asString(name, v)
	case kInt:
		_, err = asInt(name, v)
	case kList:
		_, err = asList(name, v)
	case kDict:
		if !value.IsDict(v) {
			err = failf("%s() expects a dict, not a %s", name, value.TypeName(v))
		}
	}
	return err
}

// recvList, recvString and recvDict are the receiver invoke has checked.
func (c *callCtx) recvList() []any {
	l, _ := c.recv.([]any)
	return l
}

func (c *callCtx) recvString() string {
	s, _ := c.recv.(string)
	return s
}

func (c *callCtx) recvDict() *value.Map {
	m, _ := value.AsMap(c.recv)
	return m
}

// table builds the name => row map from the rows of each file.
func table(groups ...[]fn) map[string]*fn {
	out := map[string]*fn{}
	for _, g := range groups {
		for i := range g {
			f := &g[i]
			if len(f.params) > maxParams {
				panic("yaql: " + f.names[0] + " has more than maxParams params")
			}
			if (f.form == function) != (f.recv == kNone) {
				panic("yaql: " + f.names[0] + " must bind a receiver of a kind exactly when it is a method")
			}
			for _, n := range f.names {
				if _, dup := out[n]; dup {
					panic("yaql: " + n + " is declared twice")
				}
				out[n] = f
			}
		}
	}
	return out
}

// builtins is filled in init because several rows refer back to it.
var builtins map[string]*fn

func init() {
	builtins = table(queryFuncs, collectionFuncs, dictFuncs, stringFuncs, regexFuncs, mathFuncs, branchingFuncs, mistralFuncs, dateTimeFuncs, sequenceFuncs, setFuncs)
}

func asList(name string, v any) ([]any, error) {
	if l, ok := v.([]any); ok {
		return l, nil
	}
	return nil, failf("%s() expects a list, not a %s", name, value.TypeName(v))
}

func asString(name string, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", failf("%s() expects a string, not a %s", name, value.TypeName(v))
}

func asInt(name string, v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
	case *big.Int:
		return 0, failf("%s(): integer %s is too large here", name, x)
	}
	return 0, failf("%s() expects an integer, not a %s", name, value.TypeName(v))
}

// intArg is positional argument i as an integer, or def when it is
// missing, for arguments evaluated only on some paths.
func (c *callCtx) intArg(i int, def int64) (int64, error) {
	if i >= len(c.args) {
		return def, nil
	}
	v, err := c.arg(i)
	if err != nil {
		return 0, err
	}
	return asInt(c.name, v)
}

// strArg is positional argument i as a string, for arguments evaluated
// only on some paths.
func (c *callCtx) strArg(i int) (string, error) {
	v, err := c.arg(i)
	if err != nil {
		return "", err
	}
	return asString(c.name, v)
}

func (c *callCtx) newList(n int) ([]any, error) {
	if err := c.ev.checkList(n, c.name+"()"); err != nil {
		return nil, err
	}
	return make([]any, 0, n), nil
}
