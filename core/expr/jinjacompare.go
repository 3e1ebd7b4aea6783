package expr

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Comparison as Python's: bools are the numbers 0 and 1 (0 == False),
// strings order by code point, lists lexicographically, and ordering values
// of unrelated types (7 < 'ab', None < 1, two dicts) is a TypeError rather
// than gonja's coercion to text or numbers.

// compareOps are the comparison operators compiled to compareFunc calls.
var compareOps = map[tokens.Type]string{
	tokens.Equals: "==", tokens.Ne: "!=", tokens.LowerThan: "<", tokens.LowerThanOrEqual: "<=",
	tokens.GreaterThan: ">", tokens.GreaterThanOrEqual: ">=",
}

// compareNames are the functions the comparison operators compile to.
var compareNames = map[tokens.Type]string{
	tokens.Equals: "__lf_eq", tokens.Ne: "__lf_ne", tokens.LowerThan: "__lf_lt",
	tokens.LowerThanOrEqual: "__lf_le", tokens.GreaterThan: "__lf_gt", tokens.GreaterThanOrEqual: "__lf_ge",
}

// compareFunc is the global a comparison operator is compiled to.
func compareFunc(sym string) func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
	return func(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
		if len(params.Args) != 2 {
			return errValue(fmt.Errorf("internal: %s needs two operands", sym))
		}
		ok, err := pyCompareValues(sym, params.Args[0], params.Args[1])
		if err != nil {
			return errValue(err)
		}
		return exec.AsValue(ok)
	}
}

// pyCompareValues compares two template values; an undefined operand is
// an error, as StrictUndefined refuses every comparison.
func pyCompareValues(sym string, l, r *exec.Value) (bool, error) {
	for _, v := range []*exec.Value{l, r} {
		if v.IsError() {
			return false, unwrapGonja(v)
		}
	}
	a, err := fromGonja(l)
	if err != nil {
		return false, err
	}
	b, err := fromGonja(r)
	if err != nil {
		return false, err
	}
	return pyCompare(sym, a, b)
}

// pyCompare is Python's a <sym> b on plain values.
func pyCompare(sym string, a, b any) (bool, error) {
	switch sym {
	case "==":
		return pyEqual(a, b), nil
	case "!=":
		return !pyEqual(a, b), nil
	}
	c, err := pyOrder(sym, a, b)
	if err != nil {
		return false, err
	}
	switch sym {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// plainNum is a plain value as a Python number; bools are 0 and 1.
func plainNum(v any) (f float64, ok bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// pyEqual is Python's == on plain values.
func pyEqual(a, b any) bool {
	if x, ok := plainNum(a); ok {
		y, ok := plainNum(b)
		if ai, bi, ints := plainInts(a, b); ints {
			return ai == bi
		}
		return ok && x == y
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// plainInts gives both values as integers when neither is a float, so that
// large integers compare exactly.
func plainInts(a, b any) (int64, int64, bool) {
	toInt := func(v any) (int64, bool) {
		switch x := v.(type) {
		case bool:
			if x {
				return 1, true
			}
			return 0, true
		case int:
			return int64(x), true
		case int64:
			return x, true
		}
		return 0, false
	}
	x, ok1 := toInt(a)
	y, ok2 := toInt(b)
	return x, y, ok1 && ok2
}

// pyOrder orders a and b as Python's sym does (-1, 0 or 1), or fails as
// Python does for values of types that have no order between them.
func pyOrder(sym string, a, b any) (int, error) {
	if x, ok := plainNum(a); ok {
		if y, ok := plainNum(b); ok {
			if ai, bi, ints := plainInts(a, b); ints {
				return cmpOf(ai < bi, ai > bi), nil
			}
			return cmpOf(x < y, x > y), nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if !pyEqual(x[i], y[i]) {
					return pyOrder(sym, x[i], y[i])
				}
			}
			return cmpOf(len(x) < len(y), len(x) > len(y)), nil
		}
	}
	return 0, fmt.Errorf("'%s' not supported between instances of '%s' and '%s'", sym, plainType(a), plainType(b))
}

func cmpOf(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}

// plainType is the Python type name of a plain value.
func plainType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// compareTests are Jinja2's comparison tests with Python's comparison.
func compareTests(tests *exec.TestSet) {
	for sym, names := range map[string][]string{
		"==": {"eq", "equalto", "=="}, "!=": {"ne", "!="}, "<": {"lt", "lessthan", "<"},
		"<=": {"le", "<="}, ">": {"gt", "greaterthan", ">"}, ">=": {"ge", ">="},
	} {
		test := func(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
			if len(a.Args) != 1 {
				return false, fmt.Errorf("the %s test takes one value to compare with", names[0])
			}
			return pyCompareValues(sym, in, a.Args[0])
		}
		for _, name := range names {
			_ = tests.Replace(name, test)
		}
	}
	// lower and upper test str() of any value, as Jinja2 does.
	_ = tests.Replace("lower", caseTest(pyIsLower))
	_ = tests.Replace("upper", caseTest(pyIsUpper))
}

func caseTest(is func(string) bool) func(*exec.Context, *exec.Value, *exec.VarArgs) (bool, error) {
	return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		if in.IsError() {
			return false, unwrapGonja(in)
		}
		v, err := fromGonja(in)
		if err != nil {
			return false, err
		}
		return is(pyStr(v)), nil
	}
}

// pyIsLower is Python's str.islower: some cased character and no
// uppercase or titlecase one.
func pyIsLower(s string) bool {
	cased := false
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return false
		}
		cased = cased || unicode.IsLower(r)
	}
	return cased
}

// pyIsUpper is Python's str.isupper: some cased character and no
// lowercase or titlecase one.
func pyIsUpper(s string) bool {
	cased := false
	for _, r := range s {
		if unicode.IsLower(r) || unicode.IsTitle(r) {
			return false
		}
		cased = cased || unicode.IsUpper(r)
	}
	return cased
}

// sortedKeys are a map's keys in the order Lazyflow iterates a dict.
func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
