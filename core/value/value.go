// Package value defines the JSON-like values that flow through Lazyflow:
// nil, bool, int64, float64, string, []any and *Map (a dict that keeps
// insertion order, as Python's does), and *big.Int for the integers int64
// does not hold.
//
// Workflow inputs, task results, published variables and expression results
// are all of this shape, so every package can compare, print and test them the
// same way. Anything else (int, float32, json.Number, []string, ...) is brought
// into this shape by Normalize at the edges.
//
// The comparison and truthiness rules follow Python, because Mistral (and the
// YAQL it embeds) are written in Python and workflows rely on that behaviour:
// 1 == 1.0, an empty list is false, null sorts before everything else.
package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// Normalize converts v into the canonical JSON-like shape. Numbers become
// int64 or float64 (an unsigned value that does not fit int64 becomes
// float64), json.Number becomes int64 when integral, slices of any element
// type become []any and maps with string keys become *Map (a Go map's keys
// sorted, the one deterministic order it has; a *Map keeps its order). Values with no JSON-like
// form (structs, channels, ...) go through encoding/json, which is also how a
// host would have serialised them; a value that cannot be marshalled is
// returned as its fmt %v string so Normalize never fails.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, PyReprer:
		return x
	case *big.Int:
		if x == nil {
			return nil
		}
		if x.IsInt64() {
			return x.Int64()
		}
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return fromUint(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return fromUint(x)
	case float32:
		return float64(x)
	case json.Number:
		return fromNumber(x)
	case []any, *Map, map[string]any:
		return Transform(x, Normalize)
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		return MapOf(out)
	}
	return normalizeReflect(v)
}

// NormalizeFields normalises the values of a set of named values and keeps
// it a Go map (never nil).
func NormalizeFields(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = Normalize(e)
	}
	return out
}

func fromUint(u uint64) any {
	if u > math.MaxInt64 {
		return float64(u)
	}
	return int64(u)
}

func fromNumber(n json.Number) any {
	return numberOf(n, false)
}

func numberOf(n json.Number, exact bool) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	if !strings.ContainsAny(string(n), ".eE") {
		if v, ok := intFromDigits(string(n), exact); ok {
			return v
		}
		return string(n)
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return f
	}
	return string(n)
}

func normalizeReflect(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fromUint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		if rv.Kind() == reflect.Interface {
			return Normalize(rv.Elem().Interface())
		}
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte is a JSON string (base64), as encoding/json does.
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = Normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			if rv.IsNil() {
				return nil
			}
			out := make(map[string]any, rv.Len())
			it := rv.MapRange()
			for it.Next() {
				out[it.Key().String()] = Normalize(it.Value().Interface())
			}
			return MapOf(out)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	out, err := FromJSON(b)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return out
}

// FromJSON decodes JSON text that Lazyflow wrote (stored values). Integral
// numbers become int64, or *big.Int beyond it, so that counters and ids
// survive a round trip without turning into floats; the plain digits
// encoding/json prints for a float64 from 2^63 to 1e21 read back as that
// float. Objects become *Map in document order.
func FromJSON(b []byte) (any, error) { return fromJSON(b, false) }

// FromJSONExact is FromJSON for input from outside: numbers are read as
// Python's json.loads reads them, so any number without a fraction or
// exponent is an integer (a 39-digit id is kept exactly). An integer of
// more than MaxIntDigits digits is a RangeError.
func FromJSONExact(b []byte) (any, error) { return fromJSON(b, true) }

func fromJSON(b []byte, exact bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return nil, fmt.Errorf("value: decode JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("value: decode JSON: unexpected data after the first value")
	}
	if orders, err := keyOrders(b); err == nil {
		return (&ordered{orders: orders, exact: exact}).value(plain)
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeOrdered(dec, exact)
	var re *RangeError
	if errors.As(err, &re) {
		return nil, re
	}
	if err != nil {
		return nil, fmt.Errorf("value: decode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("value: decode JSON: unexpected data after the first value")
	}
	return v, nil
}

// RangeError is a JSON number no float64 can hold, or (Integer) an
// integer of more than MaxIntDigits digits; At is where it is in the value
// ("a.b[2]"; empty for the value itself).
type RangeError struct {
	Number, At string
	Integer    bool
}

func (e *RangeError) Error() string {
	if e.At == "" {
		return e.Problem()
	}
	return e.Problem() + " (at " + e.At + ")"
}

// Problem says what is wrong with the number, without where it is.
func (e *RangeError) Problem() string {
	if e.Integer {
		return fmt.Sprintf("integer %s has more than %d digits; send it as a string", clipDigits(e.Number), MaxIntDigits)
	}
	return fmt.Sprintf("number %s is out of range", e.Number)
}

// number is a JSON number as a value. A number no float64 can hold (1e400)
// or an integer of more than MaxIntDigits digits is an error (its place is
// filled in by the caller), not a string that later fails far away.
func number(x json.Number, exact bool) (any, error) {
	n := numberOf(x, exact)
	if _, isStr := n.(string); isStr {
		return nil, &RangeError{Number: string(x), Integer: !strings.ContainsAny(string(x), ".eE")}
	}
	return n, nil
}

// inside prefixes a RangeError's place with the member or index it is in
// ("a.b[1]").
func inside(err error, seg string) error {
	re, ok := err.(*RangeError)
	if !ok {
		return err
	}
	switch {
	case re.At == "":
		re.At = seg
	case re.At[0] == '[':
		re.At = seg + re.At
	default:
		re.At = seg + "." + re.At
	}
	return re
}

// TypeName names the kind of a value as error messages show it: "null",
// "bool", "int", "float", "string", "list", "dict"; other Go types are named
// by their Go type unless they have a TypeName method (the values that
// live only inside an expression evaluation).
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64, int, int32, *big.Int:
		return "int"
	case float64, float32:
		return "float"
	case string:
		return "string"
	case []any:
		return "list"
	case *Map, map[string]any:
		return "dict"
	case interface{ TypeName() string }:
		return x.TypeName()
	}
	return fmt.Sprintf("%T", v)
}

// Truthy reports Python truthiness: null, false, 0, 0.0, "" and empty
// lists and dicts are false; everything else is true. Mistral applies it to
// the result of on-complete/on-success conditions and to YAQL's and/or/not.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) != 0
	case *Map:
		return x.Len() != 0
	case map[string]any:
		return len(x) != 0
	case int:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	}
	return true
}

// Equal reports deep equality with Python's numeric rule, which yaql and
// Jinja2 follow: an int and a float holding the same number are equal, and
// a bool is the int 0 or 1 (0 = false and 1.0 = true are true).
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case int64, float64:
			return Equal(int64(b2i(x)), y)
		}
		return false
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return intEqFloat(x, y)
		case bool:
			return x == int64(b2i(y))
		case *big.Int:
			c, _ := cmpBig(y, x)
			return c == 0
		}
		return false
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int64:
			return intEqFloat(y, x)
		case bool:
			return x == float64(b2i(y))
		case *big.Int:
			c, ok := cmpBig(y, x)
			return ok && c == 0
		}
		return false
	case *big.Int:
		c, ok := cmpBig(x, b)
		return ok && c == 0
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := AsMap(b)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for k, xv := range x.All() {
			yv, ok := y.Get(k)
			if !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	case map[string]any:
		return Equal(MapOf(x), b)
	}
	na, nb := Normalize(a), Normalize(b)
	if reflect.TypeOf(na) != reflect.TypeOf(a) || reflect.TypeOf(nb) != reflect.TypeOf(b) {
		return Equal(na, nb)
	}
	return reflect.DeepEqual(a, b)
}

func intEqFloat(i int64, f float64) bool {
	return cmpIntFloat(i, f) == 0 && !math.IsNaN(f)
}

// IncomparableError is returned by Compare for values that have no order,
// such as a string and an int, or two dicts.
type IncomparableError struct{ A, B string }

func (e *IncomparableError) Error() string {
	return "cannot compare " + e.A + " with " + e.B
}

// Compare orders a and b and returns -1, 0 or +1. Numbers compare by value
// across int and float, strings by bytes (code points), bools false < true,
// lists lexicographically. null is smaller than any other value and equal to
// itself, as in YAQL, so a missing optional value sorts first instead of
// failing a whole orderBy. Any other pairing is an *IncomparableError.
func Compare(a, b any) (int, error) {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0, nil
		case a == nil:
			return -1, nil
		default:
			return 1, nil
		}
	}
	if y, ok := b.(*big.Int); ok {
		if _, isBool := a.(bool); !isBool {
			if c, ok := cmpBig(y, a); ok {
				return -c, nil
			}
		}
	}
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmpOrdered(x, y), nil
		case float64:
			return cmpIntFloat(x, y), nil
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmpOrdered(x, y), nil
		case int64:
			return -cmpIntFloat(y, x), nil
		}
	case *big.Int:
		if _, isBool := b.(bool); !isBool {
			if c, ok := cmpBig(x, b); ok {
				return c, nil
			}
		}
	case string:
		if y, ok := b.(string); ok {
			return cmpOrdered(x, y), nil
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmpOrdered(b2i(x), b2i(y)), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				c, err := Compare(x[i], y[i])
				if err != nil || c != 0 {
					return c, err
				}
			}
			return cmpOrdered(len(x), len(y)), nil
		}
	}
	return 0, &IncomparableError{A: TypeName(a), B: TypeName(b)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T int | int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares exactly even when the int does not fit a float64's
// mantissa (beyond 2^53 a plain conversion would round).
func cmpIntFloat(i int64, f float64) int {
	if math.IsNaN(f) {
		return -1
	}
	const two63 = 9223372036854775808.0
	if f >= two63 {
		return -1
	}
	if f < -two63 {
		return 1
	}
	t := math.Trunc(f)
	ti := int64(t)
	if i != ti {
		return cmpOrdered(i, ti)
	}
	return cmpOrdered(0, f-t)
}
