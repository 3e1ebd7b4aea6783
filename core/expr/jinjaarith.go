package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/value"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Jinja arithmetic as Python computes it, since Mistral's Jinja is Python's:
// bools are the integers 0 and 1, // and % floor, / always gives a float,
// int ** non-negative int stays an int, a zero divisor is an error, and a
// number mixed with text or a list is a type error. Python's integers are
// unbounded; an integer result beyond int64 is a *big.Int, as everywhere in
// Lazyflow, up to value.MaxIntDigits digits.

// errZeroDivision is Python's ZeroDivisionError.
var errZeroDivision = errors.New("division by zero")

// pyNum is a Jinja operand as a Python number: ok is false for anything else.
func pyNum(v *exec.Value) (i int64, f float64, isFloat, ok bool) {
	switch {
	case v.IsBool():
		if v.Bool() {
			return 1, 0, false, true
		}
		return 0, 0, false, true
	case v.IsInteger():
		return int64(v.Integer()), 0, false, true
	case v.IsFloat():
		return 0, v.Float(), true, true
	}
	return 0, 0, false, false
}

// pyInt is an integer operand (a bool is 0 or 1) as a *big.Int, which the
// caller must not modify; ok is false for anything else.
func pyInt(v *exec.Value) (*big.Int, bool) {
	if b, ok := v.Interface().(*big.Int); ok {
		return b, true
	}
	if i, _, isFloat, ok := pyNum(v); ok && !isFloat {
		return big.NewInt(i), true
	}
	return nil, false
}

// isBig reports a value holding an integer beyond int64.
func isBig(v *exec.Value) bool {
	_, ok := v.Interface().(*big.Int)
	return ok
}

// errIntToFloat is Python's OverflowError for a float made of a huge integer.
var errIntToFloat = errors.New("int too large to convert to float")

var opSymbols = map[tokens.Type]string{
	tokens.Addition: "+", tokens.Subtraction: "-", tokens.Multiply: "*", tokens.Division: "/",
	tokens.FloorDivision: "//", tokens.Modulo: "%", tokens.Power: "**",
}

// pyArith evaluates an arithmetic operator when both operands are numbers,
// or refuses a number mixed with a string or list where Python has no such
// operator. ok is false when gonja should evaluate the operator.
func pyArith(op tokens.Type, l, r *exec.Value) (*exec.Value, bool) {
	sym, arith := opSymbols[op]
	if !arith {
		return nil, false
	}
	_, _, lFloat, lok := pyNum(l)
	_, _, rFloat, rok := pyNum(r)
	lok, rok = lok || isBig(l), rok || isBig(r)
	if !lok || !rok {
		if l.IsError() || r.IsError() || sequenceOp(op, l, r) {
			return nil, false
		}
		return errValue(fmt.Errorf("unsupported operand types for %s: %s and %s", sym, pyType(l), pyType(r))), true
	}
	out, err := numOp(op, l, r, lFloat || rFloat)
	if err != nil {
		return errValue(err), true
	}
	return exec.AsValue(out), true
}

// numOp is op on two numbers, in floats when either is a float.
func numOp(op tokens.Type, l, r *exec.Value, inFloats bool) (any, error) {
	if inFloats {
		lf, err := pyFloat(l)
		if err != nil {
			return nil, err
		}
		rf, err := pyFloat(r)
		if err != nil {
			return nil, err
		}
		return floatOp(op, lf, rf)
	}
	x, _ := pyInt(l)
	y, _ := pyInt(r)
	if op == tokens.Division {
		return intDiv(x, y)
	}
	return intOp(op, x, y)
}

// intDiv is int / int in Python: the correctly rounded float of the exact
// quotient, so 10**400 / 10**399 is 10.0.
func intDiv(x, y *big.Int) (any, error) {
	if y.Sign() == 0 {
		return nil, errZeroDivision
	}
	if x.IsInt64() && y.IsInt64() && max(x.BitLen(), y.BitLen()) <= 53 {
		return float64(x.Int64()) / float64(y.Int64()), nil
	}
	f, _ := new(big.Rat).SetFrac(x, y).Float64()
	if math.IsInf(f, 0) {
		return nil, errors.New("integer division result too large for a float")
	}
	return f, nil
}

// sequenceOp reports the operators Python defines on operands that are not
// both numbers: concatenation of two strings or two lists, repetition (str or
// list times an integer) and % formatting.
func sequenceOp(op tokens.Type, l, r *exec.Value) bool {
	switch op {
	case tokens.Addition:
		return l.IsString() && r.IsString() || l.IsList() && r.IsList()
	case tokens.Multiply:
		return (l.IsString() || l.IsList()) && (r.IsInteger() || r.IsBool()) ||
			(r.IsString() || r.IsList()) && (l.IsInteger() || l.IsBool())
	case tokens.Modulo:
		return l.IsString()
	}
	return false
}

func pyType(v *exec.Value) string {
	switch {
	case v.IsBool():
		return "bool"
	case v.IsInteger(), isBig(v):
		return "int"
	case v.IsFloat():
		return "float"
	case v.IsString():
		return "str"
	case v.IsList():
		return "list"
	case v.IsDict():
		return "dict"
	case v.IsNil():
		return "NoneType"
	}
	return "object"
}

func intOp(op tokens.Type, x, y *big.Int) (any, error) {
	z := new(big.Int)
	switch op {
	case tokens.Addition:
		z.Add(x, y)
	case tokens.Subtraction:
		z.Sub(x, y)
	case tokens.Multiply:
		z.Mul(x, y)
	case tokens.FloorDivision, tokens.Modulo:
		if y.Sign() == 0 {
			return nil, errZeroDivision
		}
		q, m := floorDivMod(x, y)
		if op == tokens.Modulo {
			z = m
		} else {
			z = q
		}
	case tokens.Power:
		return intPow(x, y)
	}
	return jinjaInt(z)
}

// intPow is int ** int: a float for a negative exponent, and a result too
// large to keep refused before it is computed.
func intPow(x, y *big.Int) (any, error) {
	if y.Sign() < 0 {
		xf, ok := value.BigFloat(x)
		yf, ok2 := value.BigFloat(y)
		if !ok || !ok2 {
			return nil, errIntToFloat
		}
		return floatOp(tokens.Power, xf, yf)
	}
	if x.CmpAbs(big.NewInt(1)) > 0 {
		// |x| ** y has at least y * (bits(x) - 1) + 1 bits.
		minBits := new(big.Int).Mul(y, big.NewInt(int64(x.BitLen()-1)))
		if minBits.Cmp(big.NewInt(maxIntBits)) > 0 {
			return nil, value.ErrIntTooLarge
		}
	}
	return jinjaInt(new(big.Int).Exp(x, y, nil))
}

// maxIntBits is the bit length of 10 ** value.MaxIntDigits, beyond which
// every integer has too many digits.
var maxIntBits = int64(math.Ceil(value.MaxIntDigits * math.Log2(10)))

// jinjaInt is an integer result as a template value: int while int64 holds
// it (gonja's integer kind), the *big.Int beyond.
func jinjaInt(z *big.Int) (any, error) {
	v, err := value.IntOf(z)
	if err != nil {
		return nil, err
	}
	if i, ok := v.(int64); ok {
		return int(i), nil
	}
	return v, nil
}

// floorDivMod is Python's divmod on integers: the quotient rounds toward
// negative infinity and the remainder takes the divisor's sign.
func floorDivMod(x, y *big.Int) (*big.Int, *big.Int) {
	q, m := new(big.Int).QuoRem(x, y, new(big.Int))
	if m.Sign() != 0 && (m.Sign() < 0) != (y.Sign() < 0) {
		q.Sub(q, big.NewInt(1))
		m.Add(m, y)
	}
	return q, m
}

func floatOp(op tokens.Type, a, b float64) (any, error) {
	switch op {
	case tokens.Addition:
		return a + b, nil
	case tokens.Subtraction:
		return a - b, nil
	case tokens.Multiply:
		return a * b, nil
	case tokens.Division:
		if b == 0 {
			return nil, errZeroDivision
		}
		return a / b, nil
	case tokens.FloorDivision, tokens.Modulo:
		if b == 0 {
			return nil, errZeroDivision
		}
		div, m := value.FloatDivMod(a, b)
		if op == tokens.Modulo {
			return m, nil
		}
		return div, nil
	case tokens.Power:
		if a == 0 && b < 0 {
			return nil, fmt.Errorf("%w: 0.0 cannot be raised to a negative power", errZeroDivision)
		}
		if a < 0 && b != math.Trunc(b) {
			return nil, errors.New("a negative number raised to a fractional power is a complex number")
		}
		r := pyPow(a, b)
		if math.IsInf(r, 0) {
			return nil, errors.New("numerical result out of range")
		}
		return r, nil
	}
	return nil, fmt.Errorf("internal: no float operator %v", op)
}

// repeatText is str * int in Python: the text repeated, empty for a count
// below one.
func repeatText(l, r *exec.Value) (*exec.Value, bool) {
	if r.IsString() && (l.IsInteger() || l.IsBool()) {
		l, r = r, l
	}
	if !l.IsString() || !(r.IsInteger() || r.IsBool()) {
		return nil, false
	}
	n, _, _, _ := pyNum(r)
	return exec.AsValue(strings.Repeat(l.String(), int(max(n, 0)))), true
}

// binopNames are the functions the operators are compiled to.
var binopNames = map[tokens.Type]string{
	tokens.Addition: "__lf_add", tokens.Multiply: "__lf_mul", tokens.Modulo: "__lf_mod",
	tokens.Tilde: "__lf_cat", tokens.Subtraction: "__lf_sub", tokens.Division: "__lf_div",
	tokens.FloorDivision: "__lf_fdiv", tokens.Power: "__lf_pow",
}

// evalOperands lets gonja evaluate n, an expression over __lf_l and
// __lf_r, with those bound to already evaluated operands.
func evalOperands(e *exec.Evaluator, n nodes.Expression, l, r *exec.Value) *exec.Value {
	sub := *e
	env := *e.Environment
	env.Context = e.Environment.Context.Inherit()
	env.Context.Set("__lf_l", l)
	env.Context.Set("__lf_r", r)
	sub.Environment = &env
	return sub.Eval(n)
}

// negName and posName are the functions unary - and + compile to: in
// Python a bool is an int there too ({{ -True }} is -1, {{ +False }} is 0),
// and anything but a number is a type error.
const (
	negName = "__lf_neg"
	posName = "__lf_pos"
)

func unaryFunc(negative bool) func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
	sym := "+"
	if negative {
		sym = "-"
	}
	return func(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
		if len(params.Args) != 1 {
			return errValue(fmt.Errorf("internal: unary %s takes one operand", sym))
		}
		v := params.Args[0]
		if v.IsError() {
			return v
		}
		_, f, isFloat, ok := pyNum(v)
		switch {
		case !ok && !isBig(v):
			return errValue(fmt.Errorf("bad operand type for unary %s: '%s'", sym, pyType(v)))
		case isFloat && negative:
			return exec.AsValue(-f)
		case isFloat:
			return exec.AsValue(f)
		}
		i, _ := pyInt(v)
		if negative {
			i = new(big.Int).Neg(i)
		}
		r, err := jinjaInt(i)
		if err != nil {
			return errValue(err)
		}
		return exec.AsValue(r)
	}
}

// bigIntName is what an integer literal past int64 compiles to: gonja's
// parser reads literals as int64 and refuses a longer one, while Python's
// literals have no width ({{ 99999999999999999999 }}).
const bigIntName = "__lf_bigint"

// longIntLiteral is a quick test for text that may hold such a literal.
var longIntLiteral = regexp.MustCompile(`[0-9][0-9_]{18,}|0[xXoObB][0-9a-fA-F_]{16,}`)

// bigIntLiterals rewrites each integer literal of src that int64 cannot
// hold into __lf_bigint('literal'). The positions of later tokens in a
// compile error shift by the added text.
func bigIntLiterals(src string) string {
	if !longIntLiteral.MatchString(src) {
		return src
	}
	// Token positions index the lexer's text, which has only \n newlines.
	norm := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(src)
	var b strings.Builder
	last := 0
	for s := tokens.LexAll(norm, jinjaConfig); !s.End(); s.Next() {
		t := s.Current()
		if t.Type != tokens.Integer || t.Pos < last || !strings.HasPrefix(norm[t.Pos:], t.Val) {
			continue
		}
		if _, err := strconv.ParseInt(strings.ReplaceAll(t.Val, "_", ""), 0, 64); err == nil {
			continue
		}
		b.WriteString(norm[last:t.Pos])
		fmt.Fprintf(&b, "%s('%s')", bigIntName, t.Val)
		last = t.Pos + len(t.Val)
	}
	if last == 0 {
		return src
	}
	b.WriteString(norm[last:])
	return b.String()
}

func bigIntFunc(_ *exec.Evaluator, params *exec.VarArgs) *exec.Value {
	if len(params.Args) != 1 {
		return errValue(errors.New("internal: " + bigIntName + " needs one literal"))
	}
	b, ok := new(big.Int).SetString(params.Args[0].String(), 0)
	if !ok {
		return errValue(fmt.Errorf("invalid integer literal %s", params.Args[0].String()))
	}
	v, err := value.IntOf(b)
	if err != nil {
		return errValue(err)
	}
	return exec.AsValue(v)
}
