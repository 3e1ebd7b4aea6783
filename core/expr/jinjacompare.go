package expr

import (
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"

	"github.com/lazyflow/lazyflow/core/value"
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
	a, err := scalarOrPlain(l)
	if err != nil {
		return false, err
	}
	b, err := scalarOrPlain(r)
	if err != nil {
		return false, err
	}
	return pyCompare(sym, a, b)
}

// scalarOrPlain is fromGonja without its reflective walk for the numbers
// and strings most conditions compare.
func scalarOrPlain(v *exec.Value) (any, error) {
	if i, f, isFloat, ok := pyNum(v); ok && !v.IsBool() {
		if isFloat {
			return f, nil
		}
		return i, nil
	}
	if v.IsString() {
		return v.String(), nil
	}
	return fromGonja(v)
}

// pyCompare is Python's a <sym> b on plain values.
func pyCompare(sym string, a, b any) (bool, error) {
	switch sym {
	case "==":
		return value.Equal(a, b), nil
	case "!=":
		return !value.Equal(a, b), nil
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

// pyOrder orders a and b as Python's sym does (-1, 0 or 1), or fails as
// Python does for values of types that have no order between them: None
// and dicts have none, a bool is the int 0 or 1.
func pyOrder(sym string, a, b any) (int, error) {
	x, y := boolAsInt(a), boolAsInt(b)
	switch x.(type) {
	case int64, float64, *big.Int:
		switch y.(type) {
		case int64, float64, *big.Int:
			return value.Compare(x, y)
		}
	case string:
		if _, ok := y.(string); ok {
			return value.Compare(x, y)
		}
	case []any:
		if ys, ok := y.([]any); ok {
			xs := x.([]any)
			for i := 0; i < len(xs) && i < len(ys); i++ {
				if !value.Equal(xs[i], ys[i]) {
					return pyOrder(sym, xs[i], ys[i])
				}
			}
			return value.Compare(int64(len(xs)), int64(len(ys)))
		}
	}
	return 0, fmt.Errorf("'%s' not supported between instances of '%s' and '%s'", sym, plainType(a), plainType(b))
}

func boolAsInt(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// plainType is the Python type name of a plain value.
func plainType(v any) string {
	switch t := value.TypeName(v); t {
	case "null":
		return "NoneType"
	case "string":
		return "str"
	default:
		return t
	}
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
	_ = tests.Replace("in", inTest)
	_ = tests.Replace("number", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		_, _, _, ok := pyNum(in)
		return ok || isBig(in), nil
	})
	_ = tests.Replace("integer", func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsInteger() || isBig(in), nil
	})
	_ = tests.Replace("filter", func(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsString() && e.Environment.Filters.Exists(in.String()), nil
	})
	_ = tests.Replace("test", func(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) (bool, error) {
		return in.IsString() && e.Environment.Tests.Exists(in.String()), nil
	})
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
func pyIsLower(s string) bool { return pyIsCase(s, unicode.IsLower, unicode.IsUpper) }

// pyIsUpper is Python's str.isupper: some cased character and no
// lowercase or titlecase one.
func pyIsUpper(s string) bool { return pyIsCase(s, unicode.IsUpper, unicode.IsLower) }

func pyIsCase(s string, is, opposite func(rune) bool) bool {
	cased := false
	for _, r := range s {
		if opposite(r) || unicode.IsTitle(r) {
			return false
		}
		cased = cased || is(r)
	}
	return cased
}

// sortedKeys are a map's keys in the order Lazyflow iterates a dict.
func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// notName is the function not compiles to: Python's not gives a bool
// (gonja's gave 0 for not 1).
const notName = "__lf_not"

func notFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 1 {
		return errValue(errors.New("internal: not takes one operand"))
	}
	v, err := fromGonja(params.Args[0])
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(!truthy(v))
}

// inTest is Python's in, which Jinja2's in operator and test are: a
// substring, a list item (==), a dict key.
func inTest(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
	if len(a.Args) != 1 {
		return false, errors.New("in needs one container")
	}
	x, err := fromGonja(in)
	if err != nil {
		return false, err
	}
	c, err := fromGonja(a.Args[0])
	if err != nil {
		return false, err
	}
	switch seq := c.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", plainType(x))
		}
		return strings.Contains(seq, s), nil
	case []any:
		for _, e := range seq {
			if value.Equal(x, e) {
				return true, nil
			}
		}
		return false, nil
	case *value.Map, map[string]any:
		switch k := x.(type) {
		case string:
			if m, isGo := seq.(map[string]any); isGo {
				_, ok := m[k]
				return ok, nil
			}
			return seq.(*value.Map).Has(k), nil
		case []any, *value.Map, map[string]any:
			return false, fmt.Errorf("unhashable type: '%s'", plainType(x))
		}
		return false, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", plainType(c))
}

// chainComparisons rewrites Python's chained comparison a < b < c, which
// gonja parses as (a < b) < c, into (a < b) and (b < c); an explicitly
// parenthesized (a < b) < c is left alone.
func (g *astGuard) chainComparisons(b *nodes.BinaryExpression) {
	if !isComparison(b) {
		return
	}
	l, ok := b.Left.(*nodes.BinaryExpression)
	if !ok || !isComparison(l) && !isChain(l) || g.parenthesized(l, b) {
		return
	}
	g.chainComparisons(l)
	last := l
	if isChain(l) {
		last = l.Right.(*nodes.BinaryExpression)
	}
	b.Right = &nodes.BinaryExpression{Left: last.Right, Operator: b.Operator, Right: b.Right}
	b.Operator = &nodes.BinOperator{Token: &tokens.Token{Type: tokens.And, Val: "and", Line: b.Operator.Token.Line, Col: b.Operator.Token.Col, Pos: b.Operator.Token.Pos}}
}

func isComparison(b *nodes.BinaryExpression) bool {
	if b.Operator == nil || b.Operator.Token == nil {
		return false
	}
	_, ok := compareOps[b.Operator.Token.Type]
	return ok
}

// isChain is a comparison chain already rewritten: an and whose right side
// is a comparison and whose rewrite chainComparisons made.
func isChain(b *nodes.BinaryExpression) bool {
	if b.Operator == nil || b.Operator.Token == nil || b.Operator.Token.Type != tokens.And {
		return false
	}
	r, ok := b.Right.(*nodes.BinaryExpression)
	return ok && isComparison(r)
}

// parenthesized reports whether inner, the left operand of outer, was
// written in parentheses: a ")" closes between their operators.
func (g *astGuard) parenthesized(inner, outer *nodes.BinaryExpression) bool {
	from, to := inner.Operator.Token.Pos, outer.Operator.Token.Pos
	if from < 0 || to > len(g.src) || from >= to {
		return true
	}
	return closesParen(g.src[from:to])
}

// bindFiltersToIn gives a filter chain written after `A in B` to B, as
// Jinja2's grammar does ({{ 1 in [1]|list }} is 1 in ([1]|list)); gonja's
// parser reads in as a test and applies the chain to the whole comparison.
// A chain after a closing parenthesis, ({{ (1 in [1])|list }}), stays.
func (g *astGuard) bindFiltersToIn(f *nodes.FilteredExpression) {
	t := rightmostInTest(f.Expression)
	if t == nil || len(f.Filters) == 0 || f.Filters[0].Token == nil {
		return
	}
	from, to := t.Test.Token.Pos, f.Filters[0].Token.Pos
	if from < 0 || to > len(g.src) || from >= to || closesParen(g.src[from:to]) {
		return
	}
	t.Test.Args[0] = &nodes.FilteredExpression{Expression: t.Test.Args[0], Filters: f.Filters}
	f.Filters = nil
}

// rightmostInTest is the in test parsed last in e, the one a following
// filter chain was written after: down the right operands of and/or and
// through not.
func rightmostInTest(e nodes.Expression) *nodes.TestExpression {
	for {
		switch n := e.(type) {
		case *nodes.BinaryExpression:
			e = n.Right
		case *nodes.Negation:
			e = n.Term
		case *nodes.TestExpression:
			if n.Test == nil || n.Test.Token == nil || n.Test.Name != "in" || len(n.Test.Args) != 1 {
				return nil
			}
			return n
		default:
			return nil
		}
	}
}

// closesParen reports whether the source s closes a parenthesis it did not
// open, ignoring those inside string literals.
func closesParen(s string) bool {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return true
			}
		}
	}
	return false
}
