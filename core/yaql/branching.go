package yaql

import "github.com/lazyflow/lazyflow/core/value"

// branchingFuncs are yaql's branching and context functions
// (standard_library/branching.py, system.py). They bind no receiver: each
// reads c.method itself.
var branchingFuncs = []fn{
	{names: []string{"switch"}, form: function, kw: true, call: bSwitch},
	{names: []string{"coalesce"}, form: function, call: bCoalesce},
	{names: []string{"let"}, form: function, kw: true, lazy: true, call: bLet},
	{names: []string{"with"}, form: function, call: bLet},
	{names: []string{"def"}, form: function, call: bDef},
	{names: []string{"call"}, form: function, call: bCall},
	{names: []string{"unpack"}, form: method, recv: kList, call: bUnpack},
	{names: []string{"assert"}, form: method, recv: kAny, arity: between(1, 2), params: []param{lambda, opt(kString, "Assertion failed")}, call: bAssert},
	{names: []string{"selectCase"}, form: function, call: bSelectCase},
	{names: []string{"selectAllCases"}, form: function, call: bSelectAllCases(false)},
	{names: []string{"examine"}, form: function, call: bSelectAllCases(true)},
	{names: []string{"switchCase"}, form: method, recv: kInt, call: bSwitchCase},
}

// bSelectCase is the index of the first true condition, or the number of
// conditions when none is: selectCase($ < 0, $ = 0).
func bSelectCase(c *callCtx) (any, error) {
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if value.Truthy(v) {
			return int64(i), nil
		}
	}
	return int64(len(c.args)), nil
}

// bSelectAllCases is the indexes of the true conditions; examine is every
// condition as a boolean.
func bSelectAllCases(all bool) builtin {
	return func(c *callCtx) (any, error) {
		out, err := c.newList(len(c.args))
		if err != nil {
			return nil, err
		}
		for i := range c.args {
			v, err := c.arg(i)
			if err != nil {
				return nil, err
			}
			switch {
			case all:
				out = append(out, value.Truthy(v))
			case value.Truthy(v):
				out = append(out, int64(i))
			}
		}
		return out, nil
	}
}

// bSwitchCase is n.switchCase(a, b, c): argument n evaluated, the last
// one when n is out of range, null when there is none.
func bSwitchCase(c *callCtx) (any, error) {
	n, _ := asInt(c.name, c.recv)
	if len(c.args) == 0 {
		return nil, nil
	}
	if n < 0 || n >= int64(len(c.args)) {
		n = int64(len(c.args) - 1)
	}
	return c.arg(int(n))
}

// bUnpack is list.unpack(a, b) -> $a, $b, or list.unpack() -> $1, $2.
func bUnpack(c *callCtx) (any, error) {
	c.ev.internal = true
	l := c.recvList()
	lc := &letContext{}
	if len(c.args) == 0 {
		lc.args = l
		return lc, nil
	}
	if len(l) != len(c.args) {
		return nil, failf("unpack() cannot unpack %d elements into %d names", len(l), len(c.args))
	}
	lc.vars = make(map[string]any, len(l))
	for i := range c.args {
		name, err := c.strArg(i)
		if err != nil {
			return nil, err
		}
		lc.vars[name] = l[i]
	}
	return lc, nil
}

// bAssert is x.assert(condition[, message]): x when the condition holds
// for it, else an error with the message.
func bAssert(c *callCtx) (any, error) {
	ok, err := c.lambda(0, c.recv)
	if err != nil {
		return nil, err
	}
	if !value.Truthy(ok) {
		return nil, failf("%s", c.paramString(1))
	}
	return c.recv, nil
}

// bSwitch evaluates conditions in order and returns the value of the first
// true one, or null: switch($ < 10 => small, true => big).
func bSwitch(c *callCtx) (any, error) {
	if len(c.args) > 0 || c.method {
		return nil, failf("switch() takes only condition => value pairs")
	}
	for _, kw := range c.kw {
		ok, err := kw.key(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		if value.Truthy(plain(ok)) {
			return kw.val(c.ev, c.sc)
		}
	}
	return nil, nil
}

// bCoalesce is the first value that is not null: the receiver, then each
// argument, evaluated only until one is found.
func bCoalesce(c *callCtx) (any, error) {
	if c.method && c.recv != nil {
		return c.recv, nil
	}
	// The value is returned as it was made: yaql's coalesce() passes an
	// iterator on, which list() then splices.
	for i := range c.args {
		v, err := c.args[i](c.ev, c.sc)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}

// bLet binds names for the right side of ->: let(x => 1, y => 2) -> $x + $y.
// Positional arguments become $1, $2, ...; as a method the receiver also
// becomes $.
func bLet(c *callCtx) (any, error) {
	c.ev.internal = true
	lc := &letContext{}
	if c.method {
		lc.data, lc.hasData = c.recv, true
		lc.args = append(lc.args, c.recv)
	}
	var err error
	if lc.args, err = c.appendArgs(lc.args, 0); err != nil {
		return nil, err
	}
	// YAQL's $ is $1 where a call set positional arguments.
	if len(lc.args) > 0 {
		lc.data, lc.hasData = lc.args[0], true
	}
	if len(c.kw) > 0 {
		lc.vars = make(map[string]any, len(c.kw))
	}
	for _, kw := range c.kw {
		if kw.name == "" {
			return nil, failf("let() names must be words, as in let(x => 1)")
		}
		v, err := kw.val(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		lc.vars[kw.name] = v
	}
	return lc, nil
}
