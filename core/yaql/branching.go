package yaql

import "github.com/lazyflow/lazyflow/core/value"

// branchingFuncs are yaql's branching and context functions
// (standard_library/branching.py, system.py). They bind no receiver: each
// reads c.method itself.
var branchingFuncs = []fn{
	{names: []string{"switch"}, form: function, kw: true, call: bSwitch},
	{names: []string{"coalesce"}, form: function, call: bCoalesce},
	{names: []string{"let"}, form: function, kw: true, call: bLet},
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
		if value.Truthy(ok) {
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
	for i := range c.args {
		v, err := c.arg(i)
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
