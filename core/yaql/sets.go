package yaql

import (
	"math"
	"math/big"

	"github.com/lazyflow/lazyflow/core/value"
)

// pySet is a yaql set (Python's frozenset). It lives only inside an
// evaluation: a set result becomes the list of its elements, which is how
// Mistral stores it. Rows marked sets read it as a set; every other reader
// gets that list. Its elements iterate in the order CPython's hash table
// gives them, so [3, 1, 2].toSet() is [1, 2, 3] as in Mistral; that order
// is Python's for numbers, booleans and lists of them, and for strings the
// one Python gives with hash randomisation off (pyStrHash).
type pySet struct {
	table []setSlot // CPython's open-addressing table; a nil key is empty
	used  int
	keys  map[any]struct{} // hashKey of each element, for membership
}

// TypeName names a set in error messages.
func (*pySet) TypeName() string { return "set" }

type setSlot struct {
	key  any
	hash uint64
	full bool
}

const (
	setMinSize   = 8
	linearProbes = 9
	perturbShift = 5
)

func (ev *evaluator) newSet(elems []any) (*pySet, error) {
	ev.internal = true
	s := &pySet{table: make([]setSlot, setMinSize), keys: make(map[any]struct{}, len(elems))}
	if err := ev.charge(len(elems)); err != nil {
		return nil, err
	}
	for _, e := range elems {
		if err := s.add(ev, e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *pySet) add(ev *evaluator, e any) error {
	k, err := ev.hashKey(e)
	if err != nil {
		return err
	}
	if _, dup := s.keys[k]; dup {
		return nil
	}
	h, err := pyHash(e)
	if err != nil {
		return err
	}
	s.keys[k] = struct{}{}
	s.insert(setSlot{key: e, hash: h, full: true})
	s.used++
	if s.used*5 >= (len(s.table)-1)*3 {
		s.resize(s.used * 4)
	}
	return nil
}

// insert is CPython's set_insert_clean: linear probes, then perturbation.
func (s *pySet) insert(e setSlot) {
	mask := uint64(len(s.table) - 1)
	perturb := e.hash
	i := e.hash & mask
	for {
		if !s.table[i].full {
			s.table[i] = e
			return
		}
		if i+linearProbes <= mask {
			for j := uint64(1); j <= linearProbes; j++ {
				if !s.table[i+j].full {
					s.table[i+j] = e
					return
				}
			}
		}
		perturb >>= perturbShift
		i = (i*5 + 1 + perturb) & mask
	}
}

func (s *pySet) resize(minUsed int) {
	n := setMinSize
	for n <= minUsed {
		n <<= 1
	}
	old := s.table
	s.table = make([]setSlot, n)
	for _, e := range old {
		if e.full {
			s.insert(e)
		}
	}
}

func (s *pySet) has(ev *evaluator, e any) (bool, error) {
	k, err := ev.hashKey(e)
	if err != nil {
		return false, err
	}
	_, ok := s.keys[k]
	return ok, nil
}

// list is the set's elements in iteration order.
func (s *pySet) list() []any {
	out := make([]any, 0, s.used)
	for _, e := range s.table {
		if e.full {
			out = append(out, e.key)
		}
	}
	return out
}

// export is the set as Mistral stores it: a list. Mistral converts a
// result's lists back from yaql's tuples inside the frozenset, which then
// fails for a list or dict element; so does this.
func (s *pySet) export() ([]any, error) {
	l := s.list()
	for _, e := range l {
		if err := hashable("set", e); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// subset reports whether every element of s is in o.
func (s *pySet) subset(o *pySet) bool {
	if s.used > o.used {
		return false
	}
	for k := range s.keys {
		if _, ok := o.keys[k]; !ok {
			return false
		}
	}
	return true
}

// Python's hash of an int is its value modulo the Mersenne prime 2^61-1,
// with the sign kept; -1 is reserved, so it becomes -2.
const pyHashModulus = 1<<61 - 1

func pyHashInt(n int64) uint64 {
	m := n % pyHashModulus
	if m == -1 {
		m = -2
	}
	return uint64(m)
}

// pyHash is CPython 3.11's hash() for the values a set holds; strings as
// with PYTHONHASHSEED=0, and None, whose hash is its address in CPython,
// a fixed value.
func pyHash(v any) (uint64, error) {
	switch x := v.(type) {
	case nil:
		return 0x7ffff7d50e07, nil
	case bool:
		return uint64(b2i(x)), nil
	case int64:
		return pyHashInt(x), nil
	case *big.Int:
		m := new(big.Int).Rem(x, big.NewInt(pyHashModulus)).Int64()
		return pyHashInt(m), nil
	case float64:
		return pyHashFloat(x), nil
	case string:
		return pyStrHash(x), nil
	case []any:
		return pyHashTuple(x)
	}
	return 0, failf("unhashable type: '%s'", value.TypeName(v))
}

// pyHashFloat is CPython's _Py_HashDouble: an integral float hashes as
// that integer.
func pyHashFloat(f float64) uint64 {
	switch {
	case math.IsInf(f, 1):
		return 314159
	case math.IsInf(f, -1):
		return pyHashInt(-314159)
	case math.IsNaN(f):
		return 0
	}
	const bits = 61
	m, e := math.Frexp(f)
	sign := int64(1)
	if m < 0 {
		sign, m = -1, -m
	}
	var x uint64
	for m != 0 {
		x = ((x << 28) & pyHashModulus) | x>>(bits-28)
		m *= 268435456.0
		e -= 28
		y := uint64(m)
		m -= float64(y)
		x += y
		if x >= pyHashModulus {
			x -= pyHashModulus
		}
	}
	if e >= 0 {
		e %= bits
	} else {
		e = bits - 1 - ((-1 - e) % bits)
	}
	x = ((x << uint(e)) & pyHashModulus) | x>>uint(bits-e)
	r := int64(x) * sign
	if r == -1 {
		r = -2
	}
	return uint64(r)
}

// pyHashTuple is CPython's xxHash-based tuple hash: yaql holds lists as
// tuples.
func pyHashTuple(l []any) (uint64, error) {
	const p1, p2, p5 = 11400714785074694791, 14029467366897019727, 2870177450012600261
	acc := uint64(p5)
	for _, e := range l {
		lane, err := pyHash(e)
		if err != nil {
			return 0, err
		}
		acc += lane * p2
		acc = acc<<31 | acc>>33
		acc *= p1
	}
	acc += uint64(len(l)) ^ (p5 ^ 3527539)
	if acc == math.MaxUint64 {
		return 1546275796, nil
	}
	return acc, nil
}

func (ev *evaluator) asSet(v any) (*pySet, error) {
	switch x := v.(type) {
	case *pySet:
		return x, nil
	case []any:
		return ev.newSet(x)
	}
	return nil, failf("expected a set or list, not a %s", value.TypeName(v))
}

// setOperation is a yaql set operation on a set receiver and the other arguments
// (sets, or lists read as sets): a new set holding the receiver's elements
// that keep says to keep, then, for union and symmetricDifference (others
// true), the others' elements that keep says to keep.
func (c *callCtx) setOperation(args []any, keep func(inRecv bool, inOthers int) bool, others bool) (any, error) {
	recv := c.recv.(*pySet)
	var os []*pySet
	for _, v := range args {
		o, err := c.ev.asSet(v)
		if err != nil {
			return nil, err
		}
		os = append(os, o)
	}
	count := func(e any) (int, error) {
		n := 0
		for _, o := range os {
			in, err := o.has(c.ev, e)
			if err != nil {
				return 0, err
			}
			if in {
				n++
			}
		}
		return n, nil
	}
	var out []any
	for _, e := range recv.list() {
		n, err := count(e)
		if err != nil {
			return nil, err
		}
		if keep(true, n) {
			out = append(out, e)
		}
	}
	if others {
		for _, o := range os {
			for _, e := range o.list() {
				in, err := recv.has(c.ev, e)
				if err != nil {
					return nil, err
				}
				n, err := count(e)
				if err != nil {
					return nil, err
				}
				if !in && keep(false, n) {
					out = append(out, e)
				}
			}
		}
	}
	return c.ev.newSet(out)
}

// setFuncs are yaql's set functions (standard_library/collections.py).
var setFuncs = []fn{
	{names: []string{"isSet"}, form: functionOf, recv: kAny, setRecv: true, call: typeTest(func(v any) bool { _, ok := v.(*pySet); return ok })},
	{names: []string{"add"}, form: method, recv: kAny, setRecv: true, call: bSetAdd},
	{names: []string{"remove"}, form: method, recv: kAny, setRecv: true, call: bSetRemove},
	{names: []string{"characters"}, form: function, arity: between(0, len(characterSets)), named: characterNames(), call: bCharacters},
}

// characterSets are the argument names of yaql's characters() and
// Python's string constants they add; "" marks letters, lowercase and
// uppercase, which Python 3's string module no longer has.
var characterSets = []struct{ name, chars string }{
	{"digits", "0123456789"},
	{"hexdigits", "0123456789abcdefABCDEF"},
	{"asciiLowercase", "abcdefghijklmnopqrstuvwxyz"},
	{"asciiUppercase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"asciiLetters", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"letters", ""},
	{"octdigits", "01234567"},
	{"punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"},
	{"printable", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c"},
	{"lowercase", ""},
	{"uppercase", ""},
	{"whitespace", " \t\n\r\x0b\x0c"},
}

func characterNames() []string {
	names := make([]string, len(characterSets))
	for i, cs := range characterSets {
		names[i] = cs.name
	}
	return names
}

// bCharacters is characters(digits => true, ...): the distinct characters
// of the sets asked for, as a list in the order of a Python set of them.
func bCharacters(c *callCtx) (any, error) {
	var chars []any
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if !value.Truthy(v) {
			continue
		}
		cs := characterSets[i]
		if cs.chars == "" {
			return nil, failf("characters(): Python 3 has no string.%s", cs.name)
		}
		for _, r := range cs.chars {
			chars = append(chars, string(r))
		}
	}
	s, err := c.ev.newSet(chars)
	if err != nil {
		return nil, err
	}
	return s.list(), nil
}

func (c *callCtx) recvSet() (*pySet, error) {
	if s, ok := c.recv.(*pySet); ok {
		return s, nil
	}
	return nil, failf("%s() expects a set, not a %s", c.name, value.TypeName(c.recv))
}

// bSetAdd is set.add(value, ...): a new set with the values added.
func bSetAdd(c *callCtx) (any, error) {
	s, err := c.recvSet()
	if err != nil {
		return nil, err
	}
	vals, err := c.appendArgs(s.list(), 0)
	if err != nil {
		return nil, err
	}
	return c.ev.newSet(vals)
}

// bSetRemove is set.remove(value, ...): a new set without the values.
func bSetRemove(c *callCtx) (any, error) {
	s, err := c.recvSet()
	if err != nil {
		return nil, err
	}
	drop, err := c.appendArgs(nil, 0)
	if err != nil {
		return nil, err
	}
	gone, err := c.ev.newSet(drop)
	if err != nil {
		return nil, err
	}
	var keep []any
	for _, e := range s.list() {
		in, err := gone.has(c.ev, e)
		if err != nil {
			return nil, err
		}
		if !in {
			keep = append(keep, e)
		}
	}
	return c.ev.newSet(keep)
}

// setOrder is Python's <, <=, > and >= on sets: (proper) inclusion.
func setOrder(op string, a, b *pySet) bool {
	switch op {
	case "<":
		return a.used < b.used && a.subset(b)
	case "<=":
		return a.subset(b)
	case ">":
		return b.used < a.used && b.subset(a)
	}
	return b.subset(a)
}
