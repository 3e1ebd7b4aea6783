package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Jinja arithmetic as Python computes it, since Mistral's Jinja is Python's:
// bools are the integers 0 and 1, // and % floor, / always gives a float,
// int ** non-negative int stays an int, a zero divisor is an error, and a
// number mixed with text or a list is a type error. Python's integers are
// unbounded; Lazyflow's are 64-bit, so a result beyond them is an error,
// never a wrapped value.

// errIntOverflow is an integer result beyond 64 bits.
var errIntOverflow = errors.New("integer result out of range: Lazyflow's integers are 64-bit (Python's are unbounded)")

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
	li, lf, lFloat, lok := pyNum(l)
	ri, rf, rFloat, rok := pyNum(r)
	if !lok || !rok {
		if l.IsError() || r.IsError() || sequenceOp(op, l, r) {
			return nil, false
		}
		return errValue(fmt.Errorf("unsupported operand types for %s: %s and %s", sym, pyType(l), pyType(r))), true
	}
	var out any
	var err error
	if lFloat || rFloat || op == tokens.Division {
		if !lFloat {
			lf = float64(li)
		}
		if !rFloat {
			rf = float64(ri)
		}
		out, err = floatOp(op, lf, rf)
	} else {
		out, err = intOp(op, li, ri)
	}
	if err != nil {
		return errValue(err), true
	}
	return exec.AsValue(out), true
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
	case v.IsInteger():
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

func intOp(op tokens.Type, a, b int64) (any, error) {
	x, y := big.NewInt(a), big.NewInt(b)
	z := new(big.Int)
	switch op {
	case tokens.Addition:
		z.Add(x, y)
	case tokens.Subtraction:
		z.Sub(x, y)
	case tokens.Multiply:
		z.Mul(x, y)
	case tokens.FloorDivision, tokens.Modulo:
		if b == 0 {
			return nil, errZeroDivision
		}
		q, m := floorDivMod(x, y)
		if op == tokens.Modulo {
			z = m
		} else {
			z = q
		}
	case tokens.Power:
		if b < 0 {
			return floatOp(op, float64(a), float64(b))
		}
		if b > 64 && (a > 1 || a < -1) {
			return nil, errIntOverflow
		}
		z.Exp(x, y, nil)
	}
	if !z.IsInt64() {
		return nil, errIntOverflow
	}
	return int(z.Int64()), nil
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
		m := math.Mod(a, b)
		if m != 0 && (m < 0) != (b < 0) {
			m += b
		}
		if op == tokens.Modulo {
			return m, nil
		}
		return math.Round((a - m) / b), nil
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
