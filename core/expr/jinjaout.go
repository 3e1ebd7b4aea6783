package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
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

// undefinedMark stands for an Undefined inside a value that is being made
// text: Python's str() of a list or dict writes an Undefined item as
// Undefined ({{ [None[0]] ~ "" }} is "[Undefined]"), while storing one fails.
const undefinedMark = "__lf_undefined__"

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
	out := strings.ReplaceAll(pyStr(p), "'"+undefinedMark+"'", "Undefined")
	if strings.Contains(out, markupMark) {
		out = markupRepr(out)
	}
	return out, nil
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
		out := value.NewMap(len(d.Pairs))
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
			if !ok {
				ks = toString(k)
			}
			out.Set(ks, e)
		}
		return out, nil
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
			return undefinedMark, nil
		}
		return nil, err
	}
	if text && depth > 0 && v.Type() == markupType {
		return markupMark + v.String(), nil
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
