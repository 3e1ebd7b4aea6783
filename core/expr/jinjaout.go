package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// A template's result leaves gonja as plain JSON-like values: what a
// workflow stores.

func unwrapGonja(v *exec.Value) error {
	if err, ok := v.Interface().(error); ok {
		return err
	}
	return errors.New(v.String())
}

type limitWriter struct {
	b   strings.Builder
	max int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		return 0, fmt.Errorf("%w: rendered text is longer than %d bytes", ErrLimit, w.max)
	}
	return w.b.Write(p)
}

// fromGonja turns a template result into a plain JSON-like value.
func fromGonja(v *exec.Value) (any, error) {
	if v == nil || v.IsNil() {
		return nil, nil
	}
	if v.IsError() {
		return nil, unwrapGonja(v)
	}
	return plain(reflect.ValueOf(v.Interface()), 0, false)
}

// undefinedItem is an Undefined inside a value that is being made text:
// Python's str() of a list or dict writes an Undefined item as Undefined
// ({{ [None[0]] ~ "" }} is "[Undefined]"), while storing one fails.
type undefinedItem struct{}

// PyRepr is Jinja2's repr of an Undefined.
func (undefinedItem) PyRepr() string { return "Undefined" }

// pyText is Python's str() of a template value, an Undefined item
// written as Undefined.
func pyText(v *exec.Value) (string, error) {
	if v.IsString() {
		return v.String(), nil
	}
	p, err := plain(reflect.ValueOf(v.Interface()), 0, true)
	if err != nil {
		return "", err
	}
	return pyStr(p), nil
}

const maxDepth = 200

var markupType = reflect.TypeFor[markup]()

func plain(v reflect.Value, depth int, text bool) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: value nested deeper than %d levels", ErrLimit, maxDepth)
	}
	if !v.IsValid() || !v.CanInterface() {
		return nil, nil
	}
	if b, ok := v.Interface().(*big.Int); ok && b != nil {
		return b, nil
	}
	if d, ok := v.Interface().(*exec.Dict); ok && d != nil {
		return plainDict(d, depth, text)
	}
	if m, ok := v.Interface().(*value.Map); ok {
		return value.Normalize(m), nil
	}
	if v.Type() == reflect.TypeFor[*exec.Value]() {
		if v.IsNil() {
			return nil, nil
		}
		return plain(reflect.ValueOf(v.Interface().(*exec.Value).Interface()), depth+1, text)
	}
	// An undefined item kept inside a list or dict fails when the value is
	// stored, as Mistral's to_json_str fails on Jinja2's Undefined.
	if err, ok := v.Interface().(error); ok && err != nil && !isGonjaValue(v) {
		if text && depth > 0 {
			return undefinedItem{}, nil
		}
		return nil, err
	}
	if text && depth > 0 && v.Type() == markupType {
		return markupText(v.String()), nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return plain(v.Elem(), depth+1, text)
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return float64(u), nil
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return v.Float(), nil
	case reflect.String:
		return v.String(), nil
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			e, err := plain(v.Index(i), depth+1, text)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case reflect.Map:
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			var ks string
			if k.Kind() == reflect.String {
				ks = k.String()
			} else {
				kv, err := plain(k, depth+1, text)
				if err != nil {
					return nil, err
				}
				ks = toString(kv)
			}
			e, err := plain(iter.Value(), depth+1, text)
			if err != nil {
				return nil, err
			}
			out[ks] = e
		}
		return value.MapOf(out), nil
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String(), nil
	}
	return nil, fmt.Errorf("expression produced a %s, which is not a data value", v.Type())
}

// isGonjaValue reports a *exec.Value, which has an Error method of its own.
func isGonjaValue(v reflect.Value) bool {
	_, ok := v.Interface().(*exec.Value)
	return ok
}

// internalCall is how gonja names a call of one of the functions Lazyflow
// compiles Jinja's operators and subscripts to (__lf_add, __lf_item…), or
// the subscript __lf_item evaluates: names the user never wrote.
var internalCall = regexp.MustCompile(`invalid call to function '__lf_\w+': |unable to evaluate __lf_l\[__lf_r\]: `)

// readableError is what a user reads of a template failure. gonja wraps a
// failure once per node it passed through, and prints most nodes as Go
// values ("unable to evaluate filter &{<Token[Name] Val='first' Pos=7 …> …}")
// or as the calls Lazyflow compiles operators to: of the wrappers, only
// those naming a part of the expression as written (Unable to evaluate
// _.a.b) are kept, before the innermost failure, which is what went wrong.
func readableError(err error) error {
	var parts []string
	cur := err
	for {
		next := gonjaCause(cur)
		if next == nil {
			break
		}
		own := strings.TrimSuffix(strings.TrimSuffix(cur.Error(), next.Error()), ": ")
		if namesSource(own) {
			parts = append(parts, own)
		}
		cur = next
	}
	parts = append(parts, dropTargets(internalCall.ReplaceAllString(cur.Error(), "")))
	msg := strings.Join(parts, ": ")
	if msg == cur.Error() {
		return cur
	}
	return &tidyError{msg: msg, err: cur}
}

// dropTargets drops the leading "Unable to evaluate target X: " of a text
// gonja flattened: what follows says X's own failure, naming it again.
func dropTargets(msg string) string {
	for {
		rest, ok := strings.CutPrefix(msg, "Unable to evaluate target ")
		if !ok {
			return msg
		}
		i := strings.Index(rest, ": Unable to evaluate ")
		if i < 0 {
			return msg
		}
		msg = rest[i+2:]
	}
}

// gonjaCause is the failure err wraps: gonja wraps a failed value itself
// (an *exec.Value holding the error) as well as errors. Nil at the end of
// the chain.
func gonjaCause(err error) error {
	if v, ok := err.(*exec.Value); ok {
		if e, ok := v.Interface().(error); ok {
			return e
		}
		return nil
	}
	if c, ok := err.(interface{ Cause() error }); ok {
		return c.Cause()
	}
	return nil
}

// namesSource reports whether a wrapper's own text names a part of the
// expression as the user wrote it.
func namesSource(own string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(own), "unable to evaluate ")
	// "target X" is followed by X's own failure, which names X again.
	if !ok || rest == "parameters" || strings.HasPrefix(rest, "target ") {
		return false
	}
	for _, mark := range []string{"&{", "token[", "map[", "__lf_", "line="} {
		if strings.Contains(rest, mark) {
			return false
		}
	}
	return true
}

// tidyError rewords an error and keeps it for errors.Is and errors.As.
type tidyError struct {
	msg string
	err error
}

func (e *tidyError) Error() string { return e.msg }
func (e *tidyError) Unwrap() error { return e.err }

// plainDict is plain() of a Jinja dict.
func plainDict(d *exec.Dict, depth int, text bool) (any, error) {
	out := value.NewMap(len(d.Pairs))
	var marked map[string]bool
	for _, p := range d.Pairs {
		k, err := plain(reflect.ValueOf(p.Key), depth+1, text)
		if err != nil {
			return nil, err
		}
		e, err := plain(reflect.ValueOf(p.Value), depth+1, text)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		// Python keeps a dict's first key object: {m: 1, 'k': 2} with
		// m a Markup('k') is {Markup('k'): 2}.
		if m, isMarkup := k.(markupText); isMarkup {
			ks, ok = string(m), true
			if !out.Has(ks) {
				if marked == nil {
					marked = map[string]bool{}
				}
				marked[ks] = true
			}
		}
		if !ok {
			ks = toString(k)
		}
		out.Set(ks, e)
	}
	if marked != nil {
		return markupKeyDict{out, marked}, nil
	}
	return out, nil
}
