package yaql

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lazyflow/lazyflow/core/value"
)

// builtins is filled in init because several entries refer back to it.
var builtins map[string]builtin

func init() {
	builtins = map[string]builtin{
		// Collections (YAQL standard_library/queries.py, collections.py).
		"where": bWhere, "filter": bWhere,
		"select": bSelect, "selectMany": bSelectMany,
		"len": bLen, "count": bCount,
		"keys": bKeys, "values": bValues, "items": bItems,
		"first": bFirst, "last": bLast, "single": bSingle,
		"sum": bSum, "max": bMax, "min": bMin,
		"distinct": bDistinct, "toSet": bDistinct,
		"orderBy": bOrderBy(false), "orderByDescending": bOrderBy(true),
		"thenBy": bThenBy(false), "thenByDescending": bThenBy(true),
		"sort":     bOrderBy(false),
		"toList":   bToList,
		"contains": bContains, "containsKey": bContainsKey, "containsValue": bContainsValue,
		"join": bJoin, "any": bAny, "all": bAll, "isEmpty": bIsEmpty,
		"flatten": bFlatten, "skip": bSkip, "take": bTake, "limit": bTake,
		"indexOf": bIndexOf, "lastIndexOf": bLastIndexOf, "indexWhere": bIndexWhere,
		"append": bAppend, "concat": bConcat, "reverse": bReverse,
		"enumerate": bEnumerate, "toDict": bToDict,
		"aggregate": bAggregate, "reduce": bAggregate,
		"takeWhile": bTakeWhile, "skipWhile": bSkipWhile,
		"defaultIfEmpty": bDefaultIfEmpty, "zip": bZip, "slice": bSlice,
		"groupBy": bGroupBy,
		"get":     bGet, "set": bSet, "delete": bDelete,
		"range": bRange, "list": bList, "dict": bDict,
		// Strings (standard_library/strings.py).
		"split": bSplit, "toUpper": bToUpper, "toLower": bToLower,
		"startsWith": bStartsWith, "endsWith": bEndsWith,
		"replace": bReplace, "trim": bTrim(0), "trimLeft": bTrim(-1), "trimRight": bTrim(1),
		"format": bFormat, "substring": bSubstring, "toCharArray": bToCharArray,
		"str": bStr, "string": bStr, "isEmptyString": bIsEmpty,
		// Regular expressions (standard_library/regex.py).
		"regex": bRegex, "matches": bMatches, "search": bSearch,
		// Conversions and type tests.
		"int": bInt, "float": bFloat, "bool": bBool, "abs": bAbs,
		"isString":  typeTest(func(v any) bool { _, ok := v.(string); return ok }),
		"isList":    typeTest(func(v any) bool { _, ok := v.([]any); return ok }),
		"isDict":    typeTest(func(v any) bool { _, ok := v.(map[string]any); return ok }),
		"isInteger": typeTest(func(v any) bool { _, ok := v.(int64); return ok }),
		"isNumber": typeTest(func(v any) bool {
			switch v.(type) {
			case int64, float64:
				return true
			}
			return false
		}),
		"isBoolean": typeTest(func(v any) bool { _, ok := v.(bool); return ok }),
		// Branching and context (standard_library/branching.py, system.py).
		"switch": bSwitch, "coalesce": bCoalesce, "let": bLet,
		// Mistral's own functions (mistral/utils/expression_utils.py).
		"json_dump": bJSONDump, "json_pp": bJSONDump, "json_parse": bJSONParse,
		"yaml_dump": bYAMLDump, "yaml_parse": bYAMLParse, "uuid": bUUID,
		// More of the standard library (more.go).
		"union": bUnion, "intersect": bIntersect, "difference": bDifference,
		"mergeWith": bMergeWith, "insert": bInsert, "replaceBy": bReplaceBy, "round": bRound,
	}
}

// --- argument helpers ---

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
	}
	return 0, failf("%s() expects an integer, not a %s", name, value.TypeName(v))
}

func (c *callCtx) selfList() ([]any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	return asList(c.name, v)
}

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

func (c *callCtx) strArg(i int) (string, error) {
	v, err := c.arg(i)
	if err != nil {
		return "", err
	}
	return asString(c.name, v)
}

// kwOrArg returns the argument named name, or positional argument i.
func (c *callCtx) kwOrArg(name string, i int) (evalFn, bool) {
	for _, k := range c.kw {
		if k.name == name {
			return k.val, true
		}
	}
	if i < len(c.args) {
		return c.args[i], true
	}
	return nil, false
}

func (c *callCtx) newList(n int) ([]any, error) {
	if err := c.ev.checkList(n, c.name+"()"); err != nil {
		return nil, err
	}
	return make([]any, 0, n), nil
}

// --- collections ---

func bWhere(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 1); err != nil {
		return nil, err
	}
	out := make([]any, 0)
	for _, e := range l {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if value.Truthy(ok) {
			out = append(out, e)
		}
	}
	return out, nil
}

func bSelect(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 1); err != nil {
		return nil, err
	}
	out, err := c.newList(len(l))
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		v, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func bSelectMany(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 1); err != nil {
		return nil, err
	}
	var out []any
	for _, e := range l {
		v, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if sub, ok := v.([]any); ok {
			if err := c.ev.limitList(len(out)+len(sub), "selectMany()"); err != nil {
				return nil, err
			}
			if err := c.ev.charge(len(sub)); err != nil {
				return nil, err
			}
			out = append(out, sub...)
		} else {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func bLen(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	if err := c.arity(0, 0); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []any:
		return int64(len(x)), nil
	case map[string]any:
		return int64(len(x)), nil
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	}
	return nil, failf("len() expects a list, dict or string, not a %s", value.TypeName(v))
}

func bCount(c *callCtx) (any, error) {
	if len(c.args) == (map[bool]int{true: 1, false: 2})[c.method] {
		l, err := c.selfList()
		if err != nil {
			return nil, err
		}
		n := int64(0)
		for _, e := range l {
			ok, err := c.lambda(0, e)
			if err != nil {
				return nil, err
			}
			if value.Truthy(ok) {
				n++
			}
		}
		return n, nil
	}
	return bLen(c)
}

func (c *callCtx) selfDict() (map[string]any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, failf("%s() expects a dict, not a %s", c.name, value.TypeName(v))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Go maps are unordered; sorting keeps results deterministic.
	sort.Strings(keys)
	return keys
}

func bKeys(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(m))
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		out = append(out, k)
	}
	return out, nil
}

func bValues(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(m))
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out, nil
}

func bItems(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(m))
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		out = append(out, []any{k, m[k]})
	}
	return out, nil
}

func bFirst(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) > 0 {
		return l[0], nil
	}
	if len(c.args) > 0 {
		return c.arg(0)
	}
	return nil, failf("first() of an empty list (pass a default: first(null))")
}

func bLast(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) > 0 {
		return l[len(l)-1], nil
	}
	if len(c.args) > 0 {
		return c.arg(0)
	}
	return nil, failf("last() of an empty list (pass a default: last(null))")
}

func bSingle(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) != 1 {
		return nil, failf("single() expects exactly one element, got %d", len(l))
	}
	return l[0], nil
}

func bSum(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	acc, err := c.argOr(0, int64(0))
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		if acc, err = opAdd(c.ev, acc, e); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// extreme implements max and min. As a method (list.max(init)) it folds the
// list; as a function with two arguments (max(a, b)) it compares them.
func extreme(c *callCtx, want int) (any, error) {
	if !c.method && len(c.args) == 2 {
		a, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		b, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		cmp, err := c.ev.compare(b, a)
		if err != nil {
			return nil, err
		}
		if cmp == want {
			return b, nil
		}
		return a, nil
	}
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		if len(c.args) > 0 {
			return c.arg(0)
		}
		return nil, failf("%s() of an empty list (pass an initial value)", c.name)
	}
	best := l[0]
	for _, e := range l[1:] {
		cmp, err := c.ev.compare(e, best)
		if err != nil {
			return nil, err
		}
		if cmp == want {
			best = e
		}
	}
	return best, c.ev.charge(len(l))
}

func bMax(c *callCtx) (any, error) { return extreme(c, 1) }
func bMin(c *callCtx) (any, error) { return extreme(c, -1) }

func bDistinct(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(c.args) == 0 {
		return c.ev.distinct(l)
	}
	seen := make(map[any]struct{}, len(l))
	out := make([]any, 0, len(l))
	for _, e := range l {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		h, err := c.ev.hashKey(k)
		if err != nil {
			return nil, err
		}
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		out = append(out, e)
	}
	return out, c.ev.charge(len(l))
}

func bOrderBy(desc bool) builtin {
	return func(c *callCtx) (any, error) {
		l, err := c.selfList()
		if err != nil {
			return nil, err
		}
		keys, err := c.sortKeys(l)
		if err != nil {
			return nil, err
		}
		return c.sorted(l, nil, keys, desc)
	}
}

// bThenBy refines the order of an orderBy() (or thenBy()) result among the
// elements its earlier keys left equal, as yaql's thenBy on an ordering.
func bThenBy(desc bool) builtin {
	return func(c *callCtx) (any, error) {
		l, err := c.selfList()
		if err != nil {
			return nil, err
		}
		if len(l) == 0 {
			return l, nil
		}
		prev, ok := c.ev.orders[&l[0]]
		if !ok || len(prev.keys) != len(l) {
			return nil, failf("%s() applies to the result of orderBy(), orderByDescending() or %s()", c.name, c.name)
		}
		keys, err := c.sortKeys(l)
		if err != nil {
			return nil, err
		}
		return c.sorted(l, &prev, keys, desc)
	}
}

// sortKeys is the sort key of each element: the lambda's value, or the
// element itself.
func (c *callCtx) sortKeys(l []any) ([]any, error) {
	if len(c.args) == 0 {
		return l, nil
	}
	keys := make([]any, len(l))
	for i, e := range l {
		var err error
		if keys[i], err = c.lambda(0, e); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// ordering is what thenBy needs of an ordered list: each element's keys so
// far, in the list's order, and each key's direction.
type ordering struct {
	keys [][]any
	desc []bool
}

// sorted sorts l stably by prev's keys (if any) and then by keys, and
// remembers the result's ordering for a following thenBy.
func (c *callCtx) sorted(l []any, prev *ordering, keys []any, desc bool) (any, error) {
	idx := make([]int, len(l))
	for i := range idx {
		idx[i] = i
	}
	if err := c.ev.charge(len(l) * 4); err != nil {
		return nil, err
	}
	var cmpErr error
	cmp := func(a, b any, desc bool) int {
		r, err := c.ev.compare(a, b)
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		if desc {
			return -r
		}
		return r
	}
	sort.SliceStable(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if prev != nil {
			for k, d := range prev.desc {
				if r := cmp(prev.keys[i][k], prev.keys[j][k], d); r != 0 {
					return r < 0
				}
			}
		}
		return cmp(keys[i], keys[j], desc) < 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	out := make([]any, len(l))
	next := ordering{keys: make([][]any, len(l))}
	if prev != nil {
		next.desc = append(next.desc, prev.desc...)
	}
	next.desc = append(next.desc, desc)
	for i, j := range idx {
		out[i] = l[j]
		var k []any
		if prev != nil {
			k = append(k, prev.keys[j]...)
		}
		next.keys[i] = append(k, keys[j])
	}
	if len(out) > 0 {
		if c.ev.orders == nil {
			c.ev.orders = map[*any]ordering{}
		}
		c.ev.orders[&out[0]] = next
	}
	return out, nil
}

func bToList(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		return stringChars(c, x)
	}
	return []any{v}, nil
}

func bContains(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 1); err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	return opIn(c.ev, x, v)
}

func bContainsKey(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	k, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	ks, err := dictKey(k)
	if err != nil {
		return false, nil
	}
	_, ok := m[ks]
	return ok, nil
}

func bContainsValue(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	for _, v := range m {
		if eq, err := c.ev.equal(v, x); err != nil || eq {
			return eq, err
		}
	}
	return false, nil
}

// bJoin accepts both spellings YAQL allows: list.join(sep) and
// sep.join(list).
func bJoin(c *callCtx) (any, error) {
	a, err := c.self()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 1); err != nil {
		return nil, err
	}
	b, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	list, sep := a, b
	if _, ok := a.(string); ok {
		list, sep = b, a
	}
	l, err := asList("join", list)
	if err != nil {
		return nil, err
	}
	s, err := asString("join", sep)
	if err != nil {
		return nil, err
	}
	n := len(s) * len(l)
	parts := make([]string, len(l))
	for i, e := range l {
		if parts[i], err = c.ev.str(e); err != nil {
			return nil, err
		}
		n += len(parts[i])
		if err := c.ev.limitStr(n, "join()"); err != nil {
			return nil, err
		}
	}
	return strings.Join(parts, s), c.ev.charge(n / 64)
}

func bAny(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		v := e
		if len(c.args) > 0 {
			if v, err = c.lambda(0, e); err != nil {
				return nil, err
			}
		}
		if value.Truthy(v) {
			return true, nil
		}
	}
	return false, nil
}

func bAll(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		v := e
		if len(c.args) > 0 {
			if v, err = c.lambda(0, e); err != nil {
				return nil, err
			}
		}
		if !value.Truthy(v) {
			return false, nil
		}
	}
	return true, nil
}

// bIsEmpty follows YAQL: null, "" and whitespace-only strings are empty; so
// are empty lists and dicts (a Lazyflow extension: YAQL only takes strings).
func bIsEmpty(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return true, nil
	case string:
		return strings.TrimSpace(x) == "", nil
	case []any:
		return len(x) == 0, nil
	case map[string]any:
		return len(x) == 0, nil
	}
	return false, nil
}

func bFlatten(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	depth, err := c.intArg(0, MaxDepth)
	if err != nil {
		return nil, err
	}
	var out []any
	var walk func(l []any, d int64) error
	walk = func(l []any, d int64) error {
		for _, e := range l {
			if sub, ok := e.([]any); ok && d > 0 {
				if err := walk(sub, d-1); err != nil {
					return err
				}
				continue
			}
			if err := c.ev.limitList(len(out)+1, "flatten()"); err != nil {
				return err
			}
			if err := c.ev.charge(1); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	}
	if err := walk(l, depth); err != nil {
		return nil, err
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func clampRange(n int64, length int) int {
	if n < 0 {
		return 0
	}
	if n > int64(length) {
		return length
	}
	return int(n)
}

func bSkip(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	n, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	return l[clampRange(n, len(l)):], nil
}

func bTake(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	n, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	return l[:clampRange(n, len(l)):clampRange(n, len(l))], nil
}

func bIndexOf(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case string:
		sub, err := asString("indexOf", x)
		if err != nil {
			return nil, err
		}
		rs := []rune(t)
		start, err := c.intArg(1, 0)
		if err != nil {
			return nil, err
		}
		if start < 0 {
			start += int64(len(rs))
		}
		s := clampRange(start, len(rs))
		length, err := c.intArg(2, int64(len(rs)))
		if err != nil {
			return nil, err
		}
		if length < 0 {
			length = int64(len(rs))
		}
		e := clampRange(int64(s)+length, len(rs))
		i := strings.Index(string(rs[s:e]), sub)
		if i < 0 {
			return int64(-1), nil
		}
		return int64(s + utf8.RuneCountInString(string(rs[s:e])[:i])), nil
	case []any:
		for i, e := range t {
			if eq, err := c.ev.equal(e, x); err != nil || eq {
				return int64(i), err
			}
		}
		return int64(-1), nil
	}
	return nil, failf("indexOf() expects a list or string, not a %s", value.TypeName(v))
}

func bLastIndexOf(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case string:
		sub, err := asString("lastIndexOf", x)
		if err != nil {
			return nil, err
		}
		i := strings.LastIndex(t, sub)
		if i < 0 {
			return int64(-1), nil
		}
		return int64(utf8.RuneCountInString(t[:i])), nil
	case []any:
		for i := len(t) - 1; i >= 0; i-- {
			if eq, err := c.ev.equal(t[i], x); err != nil || eq {
				return int64(i), err
			}
		}
		return int64(-1), nil
	}
	return nil, failf("lastIndexOf() expects a list or string, not a %s", value.TypeName(v))
}

func bIndexWhere(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	for i, e := range l {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if value.Truthy(ok) {
			return int64(i), nil
		}
	}
	return int64(-1), nil
}

func bAppend(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(l) + len(c.args))
	if err != nil {
		return nil, err
	}
	out = append(out, l...)
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// bConcat joins strings (concat(a, b, c)) or lists ($.concat(other)),
// deciding by the type of the first value.
func bConcat(c *callCtx) (any, error) {
	vals := make([]any, 0, len(c.args)+1)
	if c.method {
		vals = append(vals, c.recv)
	}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		return "", nil
	}
	if _, ok := vals[0].([]any); ok {
		var out []any
		for _, v := range vals {
			l, err := asList("concat", v)
			if err != nil {
				return nil, err
			}
			if err := c.ev.limitList(len(out)+len(l), "concat()"); err != nil {
				return nil, err
			}
			if err := c.ev.charge(len(l)); err != nil {
				return nil, err
			}
			out = append(out, l...)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	var b strings.Builder
	for _, v := range vals {
		s, err := asString("concat", v)
		if err != nil {
			return nil, err
		}
		if err := c.ev.limitStr(b.Len()+len(s), "concat()"); err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), c.ev.charge(b.Len() / 64)
}

func bReverse(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	out := make([]any, len(l))
	for i, e := range l {
		out[len(l)-1-i] = e
	}
	return out, c.ev.charge(len(l))
}

func bEnumerate(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	start, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	out, err := c.newList(len(l))
	if err != nil {
		return nil, err
	}
	for i, e := range l {
		out = append(out, []any{start + int64(i), e})
	}
	return out, nil
}

func bToDict(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 2); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(l))
	for _, e := range l {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		v := e
		if len(c.args) > 1 {
			if v, err = c.lambda(1, e); err != nil {
				return nil, err
			}
		}
		out[ks] = v
	}
	return out, nil
}

func bAggregate(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 2); err != nil {
		return nil, err
	}
	var acc any
	rest := l
	if len(c.args) > 1 {
		if acc, err = c.arg(1); err != nil {
			return nil, err
		}
	} else {
		if len(l) == 0 {
			return nil, failf("%s() of an empty list needs an initial value", c.name)
		}
		acc, rest = l[0], l[1:]
	}
	for _, e := range rest {
		if acc, err = c.lambda2(0, acc, e); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func bTakeWhile(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	for i, e := range l {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if !value.Truthy(ok) {
			return l[:i:i], nil
		}
	}
	return l, nil
}

func bSkipWhile(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	for i, e := range l {
		ok, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		if !value.Truthy(ok) {
			return l[i:], nil
		}
	}
	return []any{}, nil
}

func bDefaultIfEmpty(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if len(l) > 0 {
		return l, nil
	}
	return c.arg(0)
}

func bZip(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	lists := [][]any{l}
	n := len(l)
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		o, err := asList("zip", v)
		if err != nil {
			return nil, err
		}
		lists = append(lists, o)
		n = min(n, len(o))
	}
	out, err := c.newList(n * len(lists))
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		row := make([]any, len(lists))
		for j, o := range lists {
			row[j] = o[i]
		}
		out = append(out, row)
	}
	return out, nil
}

func bSlice(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	n, err := c.intArg(0, 1)
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, failf("slice() needs a positive size, got %d", n)
	}
	var out []any
	for i := 0; i < len(l); i += int(min(n, int64(len(l)))) {
		end := min(i+int(min(n, int64(len(l)))), len(l))
		out = append(out, l[i:end:end])
	}
	if out == nil {
		out = []any{}
	}
	return out, c.ev.charge(len(l))
}

// bGroupBy returns [key, values] pairs in first-seen order;
// groupBy(keySelector, valueSelector, aggregator) as in YAQL.
func bGroupBy(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 3); err != nil {
		return nil, err
	}
	type group struct {
		key  any
		vals []any
	}
	var groups []*group
	index := map[any]*group{}
	for _, e := range l {
		k, err := c.lambda(0, e)
		if err != nil {
			return nil, err
		}
		v := e
		if len(c.args) > 1 {
			if v, err = c.lambda(1, e); err != nil {
				return nil, err
			}
		}
		h, err := c.ev.hashKey(k)
		if err != nil {
			return nil, err
		}
		g := index[h]
		if g == nil {
			g = &group{key: k}
			index[h] = g
			groups = append(groups, g)
		}
		g.vals = append(g.vals, v)
	}
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		var agg any = g.vals
		if len(c.args) > 2 {
			if agg, err = c.lambda(2, g.vals); err != nil {
				return nil, err
			}
		}
		out = append(out, []any{g.key, agg})
	}
	return out, nil
}

func bGet(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, 2); err != nil {
		return nil, err
	}
	k, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	ks, err := dictKey(k)
	if err != nil {
		return nil, err
	}
	if v, ok := m[ks]; ok {
		return v, nil
	}
	return c.argOr(1, nil)
}

// bSet returns a copy of the dict with keys replaced: set(k, v),
// set({k => v}) or set(k => v, ...). The receiver is never modified.
func bSet(c *callCtx) (any, error) {
	m, err := c.selfDict()
	if err != nil {
		return nil, err
	}
	updates := map[string]any{}
	switch len(c.args) {
	case 0:
	case 1:
		v, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		d, ok := v.(map[string]any)
		if !ok {
			return nil, failf("set() with one argument expects a dict, not a %s", value.TypeName(v))
		}
		updates = d
	case 2:
		k, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		v, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		updates[ks] = v
	default:
		return nil, failf("set() takes a key and a value, a dict, or key => value pairs")
	}
	for _, kw := range c.kw {
		k, err := kw.key(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		v, err := kw.val(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		updates[ks] = v
	}
	if err := c.ev.checkList(len(m)+len(updates), "set()"); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+len(updates))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range updates {
		out[k] = v
	}
	return out, nil
}

// bDelete removes keys from a dict (d.delete(a, b)) or a range from a list
// (l.delete(index, count)); the receiver is never modified.
func bDelete(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case map[string]any:
		drop := map[string]bool{}
		for i := range c.args {
			k, err := c.arg(i)
			if err != nil {
				return nil, err
			}
			ks, err := dictKey(k)
			if err != nil {
				return nil, err
			}
			drop[ks] = true
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !drop[k] {
				out[k] = e
			}
		}
		return out, c.ev.charge(len(x))
	case []any:
		pos, err := c.intArg(0, 0)
		if err != nil {
			return nil, err
		}
		count, err := c.intArg(1, 1)
		if err != nil {
			return nil, err
		}
		start := clampRange(pos, len(x))
		end := len(x)
		if count >= 0 {
			end = clampRange(int64(start)+count, len(x))
		}
		out := make([]any, 0, len(x)-(end-start))
		out = append(append(out, x[:start]...), x[end:]...)
		return out, c.ev.charge(len(x))
	}
	return nil, failf("delete() expects a dict or list, not a %s", value.TypeName(v))
}

// bRange is range(stop), range(start, stop) or range(start, stop, step).
// The length is checked before anything is allocated, so range(10**12)
// fails at once.
func bRange(c *callCtx) (any, error) {
	if err := c.arity(1, 3); err != nil {
		return nil, err
	}
	var nums [3]int64
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		if nums[i], err = asInt("range", v); err != nil {
			return nil, err
		}
	}
	start, stop, step := int64(0), nums[0], int64(1)
	if len(c.args) >= 2 {
		start, stop = nums[0], nums[1]
	}
	if len(c.args) == 3 {
		step = nums[2]
	}
	if step == 0 {
		return nil, failf("range() step must not be zero")
	}
	var n float64
	if step > 0 && stop > start {
		n = math.Ceil((float64(stop) - float64(start)) / float64(step))
	} else if step < 0 && stop < start {
		n = math.Ceil((float64(start) - float64(stop)) / float64(-step))
	}
	if n > float64(c.ev.maxList) {
		return nil, &opError{msg: "range() would build a list of " + strconv.FormatFloat(n, 'f', 0, 64) + " items, more than the limit of " + strconv.Itoa(c.ev.maxList), err: ErrLimit}
	}
	out, err := c.newList(int(n))
	if err != nil {
		return nil, err
	}
	for i, v := 0, start; i < int(n); i, v = i+1, v+step {
		out = append(out, v)
	}
	return out, nil
}

// bList is list(a, b, ...). With a single list argument it returns that
// list's elements: YAQL flattens query results passed to list(), and in
// Lazyflow every query result is a plain list.
func bList(c *callCtx) (any, error) {
	if c.method {
		return bToList(c)
	}
	if err := c.noKw(); err != nil {
		return nil, err
	}
	if len(c.args) == 1 {
		v, err := c.arg(0)
		if err != nil {
			return nil, err
		}
		if l, ok := v.([]any); ok {
			return l, nil
		}
		return []any{v}, nil
	}
	out, err := c.newList(len(c.args))
	if err != nil {
		return nil, err
	}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// bDict is dict(k => v, ...) or dict(list of [k, v] pairs).
func bDict(c *callCtx) (any, error) {
	out := map[string]any{}
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		var pairs []any
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out[k] = e
			}
			continue
		case []any:
			pairs = x
		default:
			return nil, failf("dict() expects key => value pairs or a list of pairs, not a %s", value.TypeName(v))
		}
		for _, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, failf("dict() expects pairs like [key, value], got a %s", value.TypeName(p))
			}
			ks, err := dictKey(kv[0])
			if err != nil {
				return nil, err
			}
			out[ks] = kv[1]
		}
	}
	for _, kw := range c.kw {
		k, err := kw.key(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		ks, err := dictKey(k)
		if err != nil {
			return nil, err
		}
		v, err := kw.val(c.ev, c.sc)
		if err != nil {
			return nil, err
		}
		out[ks] = v
	}
	return out, c.ev.checkList(len(out), "dict()")
}

// --- strings ---

func (c *callCtx) selfString() (string, error) {
	v, err := c.self()
	if err != nil {
		return "", err
	}
	return asString(c.name, v)
}

func stringChars(c *callCtx, s string) ([]any, error) {
	out, err := c.newList(utf8.RuneCountInString(s))
	if err != nil {
		return nil, err
	}
	for _, r := range s {
		out = append(out, string(r))
	}
	return out, nil
}

func bToCharArray(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	return stringChars(c, s)
}

// bSplit follows Python's str.split: without a separator it splits on runs
// of whitespace; maxSplits limits the number of cuts.
func bSplit(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	var parts []string
	sepV, err := c.argOr(0, nil)
	if err != nil {
		return nil, err
	}
	maxSplit, err := c.intArg(1, -1)
	if err != nil {
		return nil, err
	}
	if sepV == nil {
		parts = strings.Fields(s)
		if maxSplit >= 0 && int64(len(parts)) > maxSplit+1 {
			// Re-split keeping the remainder intact, as Python does.
			rest := strings.TrimLeftFunc(s, unicode.IsSpace)
			parts = parts[:0]
			for i := int64(0); i < maxSplit; i++ {
				f := strings.IndexFunc(rest, unicode.IsSpace)
				parts = append(parts, rest[:f])
				rest = strings.TrimLeftFunc(rest[f:], unicode.IsSpace)
			}
			parts = append(parts, rest)
		}
	} else {
		sep, err := asString("split", sepV)
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, failf("split() separator must not be empty")
		}
		n := -1
		if maxSplit >= 0 {
			n = int(min(maxSplit, int64(len(s)))) + 1
		}
		parts = strings.SplitN(s, sep, n)
	}
	out, err := c.newList(len(parts))
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		out = append(out, p)
	}
	return out, nil
}

func bToUpper(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	return strings.ToUpper(s), c.ev.checkStr(len(s), "toUpper()")
}

func bToLower(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	return strings.ToLower(s), c.ev.checkStr(len(s), "toLower()")
}

func affix(c *callCtx, test func(s, p string) bool) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	if err := c.arity(1, -1); err != nil {
		return nil, err
	}
	for i := range c.args {
		p, err := c.strArg(i)
		if err != nil {
			return nil, err
		}
		if test(s, p) {
			return true, nil
		}
	}
	return false, nil
}

func bStartsWith(c *callCtx) (any, error) { return affix(c, strings.HasPrefix) }
func bEndsWith(c *callCtx) (any, error)   { return affix(c, strings.HasSuffix) }

// bReplace covers string.replace(old, new[, count]),
// string.replace({old => new}[, count]), regex.replace(string, new) and
// list.replace(position, value[, count]).
func bReplace(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		return replaceString(c, x)
	case *regexValue:
		s, err := c.strArg(0)
		if err != nil {
			return nil, err
		}
		repl, err := c.strArg(1)
		if err != nil {
			return nil, err
		}
		out := x.re.ReplaceAllString(s, pythonGroupRefs(repl))
		return out, c.ev.checkStr(len(out), "replace()")
	case []any:
		pos, err := c.intArg(0, 0)
		if err != nil {
			return nil, err
		}
		nv, err := c.arg(1)
		if err != nil {
			return nil, err
		}
		count, err := c.intArg(2, 1)
		if err != nil {
			return nil, err
		}
		start := clampRange(pos, len(x))
		end := len(x)
		if count >= 0 {
			end = clampRange(int64(start)+count, len(x))
		}
		out := make([]any, 0, len(x))
		out = append(append(append(out, x[:start]...), nv), x[end:]...)
		return out, c.ev.charge(len(x))
	}
	return nil, failf("replace() expects a string or list, not a %s", value.TypeName(v))
}

// pythonGroupRefs turns \1 in a Python replacement into Go's ${1}.
func pythonGroupRefs(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
			continue
		}
		if s[i] == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func replaceString(c *callCtx, s string) (any, error) {
	first, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	if m, ok := first.(map[string]any); ok {
		count, err := c.intArg(1, -1)
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(m) {
			n := -1
			if count >= 0 {
				n = int(min(count, int64(len(s)+1)))
			}
			nw, err := c.ev.str(m[k])
			if err != nil {
				return nil, err
			}
			s = strings.Replace(s, k, nw, n)
			if err := c.ev.checkStr(len(s), "replace()"); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	old, err := asString("replace", first)
	if err != nil {
		return nil, err
	}
	nw, err := c.strArg(1)
	if err != nil {
		return nil, err
	}
	count, err := c.intArg(2, -1)
	if err != nil {
		return nil, err
	}
	n := -1
	if count >= 0 {
		n = int(min(count, int64(len(s)+1)))
	}
	hits := strings.Count(s, old)
	if n >= 0 && hits > n {
		hits = n
	}
	if err := c.ev.checkStr(len(s)+hits*(len(nw)-len(old)), "replace()"); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, nw, n), nil
}

func bTrim(side int) builtin {
	return func(c *callCtx) (any, error) {
		s, err := c.selfString()
		if err != nil {
			return nil, err
		}
		cut := func(r rune) bool { return unicode.IsSpace(r) }
		if len(c.args) > 0 {
			chars, err := c.strArg(0)
			if err != nil {
				return nil, err
			}
			cut = func(r rune) bool { return strings.ContainsRune(chars, r) }
		}
		switch side {
		case -1:
			return strings.TrimLeftFunc(s, cut), nil
		case 1:
			return strings.TrimRightFunc(s, cut), nil
		}
		return strings.TrimFunc(s, cut), nil
	}
}

func bSubstring(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	rs := []rune(s)
	start, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	length, err := c.intArg(1, -1)
	if err != nil {
		return nil, err
	}
	if start < 0 {
		start += int64(len(rs))
	}
	st := clampRange(start, len(rs))
	end := int64(len(rs))
	if length >= 0 {
		end = int64(st) + length
	} else if len(c.args) > 1 {
		end = int64(len(rs)) + length + 1
	}
	e := clampRange(end, len(rs))
	if e < st {
		return "", nil
	}
	return string(rs[st:e]), nil
}

// bFormat implements Python's str.format for the forms workflows use:
// {} {0} {name}, {{ and }}, and the specs .Nf, d, s and widths.
func bFormat(c *callCtx) (any, error) {
	f, err := c.selfString()
	if err != nil {
		return nil, err
	}
	pos := make([]any, len(c.args))
	for i := range c.args {
		if pos[i], err = c.arg(i); err != nil {
			return nil, err
		}
	}
	named := map[string]any{}
	for _, kw := range c.kw {
		if kw.name == "" {
			return nil, failf("format() keyword names must be words")
		}
		if named[kw.name], err = kw.val(c.ev, c.sc); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		ch := f[i]
		if ch == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if ch != '{' {
			b.WriteByte(ch)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, failf("format() string has an unclosed {")
		}
		field := f[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		var v any
		switch {
		case name == "":
			if auto >= len(pos) {
				return nil, failf("format() has more {} than arguments")
			}
			v = pos[auto]
			auto++
		case name[0] >= '0' && name[0] <= '9':
			k, err := strconv.Atoi(name)
			if err != nil || k >= len(pos) {
				return nil, failf("format() has no argument %s", name)
			}
			v = pos[k]
		default:
			var ok bool
			if v, ok = named[name]; !ok {
				return nil, failf("format() has no argument named %s", name)
			}
		}
		s, err := formatSpec(c.ev, v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
		if err := c.ev.limitStr(b.Len(), "format()"); err != nil {
			return nil, err
		}
	}
	return b.String(), c.ev.charge(b.Len() / 64)
}

func formatSpec(ev *evaluator, v any, spec string) (string, error) {
	if spec == "" {
		return ev.display(v)
	}
	align := byte(0)
	if len(spec) > 0 && (spec[0] == '<' || spec[0] == '>' || spec[0] == '^') {
		align, spec = spec[0], spec[1:]
	}
	zero := strings.HasPrefix(spec, "0")
	i := 0
	for i < len(spec) && spec[i] >= '0' && spec[i] <= '9' {
		i++
	}
	width, _ := strconv.Atoi(spec[:i])
	if width > 1000 {
		return "", failf("format() width %d is too large", width)
	}
	rest := spec[i:]
	var s string
	switch {
	case rest == "" || rest == "s" || rest == "d":
		if rest == "d" {
			if _, ok := v.(int64); !ok {
				return "", failf("format() spec d needs an integer, not a %s", value.TypeName(v))
			}
		}
		var err error
		if s, err = ev.display(v); err != nil {
			return "", err
		}
	case strings.HasPrefix(rest, ".") && strings.HasSuffix(rest, "f"):
		prec, err := strconv.Atoi(rest[1 : len(rest)-1])
		f, ok := toFloat(v)
		if err != nil || !ok || prec > 100 {
			return "", failf("format() cannot apply spec %q to a %s", spec, value.TypeName(v))
		}
		s = strconv.FormatFloat(f, 'f', prec, 64)
	default:
		return "", failf("format() spec %q is not supported", spec)
	}
	pad := width - utf8.RuneCountInString(s)
	if pad <= 0 {
		return s, nil
	}
	_, isNum := toFloat(v)
	switch {
	case zero && isNum && align == 0:
		if strings.HasPrefix(s, "-") {
			return "-" + strings.Repeat("0", pad) + s[1:], nil
		}
		return strings.Repeat("0", pad) + s, nil
	case align == '>' || (align == 0 && isNum):
		return strings.Repeat(" ", pad) + s, nil
	case align == '^':
		return strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2), nil
	}
	return s + strings.Repeat(" ", pad), nil
}

func bStr(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	s, err := c.ev.str(v)
	if err != nil {
		return nil, err
	}
	return s, c.ev.checkStr(len(s), "str()")
}

// --- regular expressions ---

func bRegex(c *callCtx) (any, error) {
	p, err := c.self()
	if err != nil {
		return nil, err
	}
	ps, err := asString("regex", p)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(ps)
	if err != nil {
		return nil, err
	}
	c.ev.internal = true
	return &regexValue{re: re}, nil
}

// bMatches is regex(p).matches(s) or s.matches(p): true when p occurs in s
// (Python's re.search, which YAQL uses).
func bMatches(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(*regexValue); ok {
		return regexMatch(c.ev, x, v)
	}
	return regexMatch(c.ev, v, x)
}

// bSearch is regex(p).search(s): the first match, or null.
func bSearch(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	s, pattern := x, v
	if _, ok := v.(string); ok {
		s, pattern = v, x
	}
	str, err := asString("search", s)
	if err != nil {
		return nil, err
	}
	re, err := asRegex(pattern)
	if err != nil {
		return nil, err
	}
	loc := re.FindStringIndex(str)
	if loc == nil {
		return nil, nil
	}
	return str[loc[0]:loc[1]], nil
}

// --- conversions ---

func bInt(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return int64(0), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.Abs(x) >= 9.2e18 {
			return nil, failf("int() cannot convert %s", value.FormatFloat(x))
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, failf("int() cannot convert %q", x)
		}
		return n, nil
	}
	return nil, failf("int() cannot convert a %s", value.TypeName(v))
}

func bFloat(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return 0.0, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, failf("float() cannot convert %q", x)
		}
		return f, nil
	}
	return nil, failf("float() cannot convert a %s", value.TypeName(v))
}

func bBool(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	return value.Truthy(v), nil
}

func bAbs(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, failf("integer overflow in abs()")
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, failf("abs() expects a number, not a %s", value.TypeName(v))
}

func typeTest(test func(any) bool) builtin {
	return func(c *callCtx) (any, error) {
		v, err := c.self()
		if err != nil {
			return nil, err
		}
		return test(v), nil
	}
}

// --- branching and context ---

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

func bCoalesce(c *callCtx) (any, error) {
	if c.method {
		if c.recv != nil {
			return c.recv, nil
		}
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
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		lc.args = append(lc.args, v)
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

// --- Mistral ---

// bJSONDump is Mistral's json_dump (and the deprecated json_pp): Python's
// json.dumps(value, indent=4).
func bJSONDump(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	if err := c.ev.charge(1); err != nil {
		return nil, err
	}
	return c.ev.json(v, 4, true, c.name+"()")
}

func bJSONParse(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	if err := c.ev.checkStr(len(s), "json_parse()"); err != nil {
		return nil, err
	}
	v, err := value.FromJSON([]byte(s))
	if err != nil {
		return nil, failf("json_parse(): %v", err)
	}
	return v, nil
}
