package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
)

// Map is a dict that keeps insertion order, as Python's dict does. Mistral
// shows workflow inputs, results, published values and expression results in
// the order their keys were first set (a JSON document's order, a YAML
// mapping's order), and workflows rely on it when they iterate a dict or
// print it, so every dict of user data is a *Map.
//
// Setting an existing key keeps its position; a new key goes last. A nil
// *Map reads as an empty dict. A Map is not safe for concurrent writes.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map with room for n keys.
func NewMap(n int) *Map {
	return &Map{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// MapOf builds a Map from a Go map with its keys sorted, the one
// deterministic order a Go map can give. The values are kept as they are.
func MapOf(m map[string]any) *Map {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &Map{keys: keys, vals: make(map[string]any, len(m))}
	for k, v := range m {
		out.vals[k] = v
	}
	return out
}

// MapFromPairs builds a Map from alternating keys and values, in that order.
// It is for literals in code: MapFromPairs("a", 1, "b", 2).
func MapFromPairs(kv ...any) *Map {
	m := NewMap(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// Len is the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Get returns the value of k and whether k is set.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

// Value returns the value of k, or nil when k is not set.
func (m *Map) Value(k string) any {
	v, _ := m.Get(k)
	return v
}

// Has reports whether k is set.
func (m *Map) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Set sets k to v; a new key goes last, an existing one keeps its place.
func (m *Map) Set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	// One hash operation, not a lookup and then a store: the map grows
	// exactly when k is new. Building $ for every evaluation sets every
	// name of the context.
	n := len(m.vals)
	m.vals[k] = v
	if len(m.vals) > n {
		m.keys = append(m.keys, k)
	}
}

// Delete removes k; the other keys keep their order.
func (m *Map) Delete(k string) {
	if m == nil {
		return
	}
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in order. The slice is the caller's.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.keys...)
}

// Key is the i-th key in order (0 ≤ i < Len), for walking two maps in step
// without copying their keys.
func (m *Map) Key(i int) string { return m.keys[i] }

// All yields the keys and values in order.
func (m *Map) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if m == nil {
			return
		}
		for _, k := range m.keys {
			if !yield(k, m.vals[k]) {
				return
			}
		}
	}
}

// Clone returns a shallow copy: the same values in the same order.
func (m *Map) Clone() *Map {
	if m == nil {
		return NewMap(0)
	}
	out := &Map{keys: append([]string(nil), m.keys...), vals: make(map[string]any, len(m.vals))}
	for k, v := range m.vals {
		out.vals[k] = v
	}
	return out
}

// Update sets every key of from in from's order, as Python's dict.update
// does.
func (m *Map) Update(from *Map) {
	for k, v := range from.All() {
		m.Set(k, v)
	}
}

// GoMap returns the keys and values as a Go map (shallow), for code that
// looks keys up and never shows them in order.
func (m *Map) GoMap() map[string]any {
	out := make(map[string]any, m.Len())
	for k, v := range m.All() {
		out[k] = v
	}
	return out
}

// MarshalJSON writes the keys in order.
func (m *Map) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalYAML gives YAML encoders the keys sorted, as PyYAML's safe_dump
// (Mistral's yaml_dump) writes them by default.
func (m *Map) MarshalYAML() (any, error) { return m.GoMap(), nil }

// UnmarshalJSON reads a JSON object keeping its key order, with numbers as
// FromJSON reads them.
func (m *Map) UnmarshalJSON(b []byte) error {
	v, err := FromJSON(b)
	if err != nil {
		return err
	}
	got, ok := v.(*Map)
	if !ok {
		return fmt.Errorf("value: decode JSON: want an object, got %s", TypeName(v))
	}
	*m = *got
	return nil
}

// AsMap returns v as a *Map when it is a dict: a *Map itself, or a Go map
// (its keys sorted).
func AsMap(v any) (*Map, bool) {
	switch x := v.(type) {
	case *Map:
		if x == nil {
			return NewMap(0), true
		}
		return x, true
	case map[string]any:
		return MapOf(x), true
	}
	return nil, false
}

// AsGoMap returns v as a Go map (shallow) when it is a dict of either
// shape, for code that looks names up and never shows them in order.
func AsGoMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case *Map:
		return x.GoMap(), true
	}
	return nil, false
}

// IsDict reports whether v is a dict (a *Map or a Go map[string]any).
func IsDict(v any) bool {
	switch v.(type) {
	case *Map, map[string]any:
		return true
	}
	return false
}

// decodeOrdered reads one JSON value from dec token by token, so objects
// become *Map in document order.
func decodeOrdered(dec *json.Decoder, exact bool) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap(4)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec, exact)
				if err != nil {
					return nil, inside(err, k)
				}
				m.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec, exact)
				if err != nil {
					return nil, inside(err, "["+strconv.Itoa(len(l))+"]")
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, errors.New("unexpected " + t.String())
	case json.Number:
		return number(t, exact)
	}
	return tok, nil
}

// Transform copies the lists and dicts of v (dicts in their order) and
// replaces every other value by leaf's answer. It is the one walk over a
// JSON-like tree: deep copies, number normalisation and masking are leaf
// functions.
func Transform(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Transform(e, leaf)
		}
		return out
	case *Map:
		out := &Map{keys: make([]string, 0, x.Len()), vals: make(map[string]any, x.Len())}
		for k, e := range x.All() {
			out.keys = append(out.keys, k)
			out.vals[k] = Transform(e, leaf)
		}
		return out
	case map[string]any:
		return Transform(MapOf(x), leaf)
	}
	return leaf(v)
}

// SortKeys is a deep copy of v with every dict's keys sorted, for output
// that Python writes with sort_keys=True (Jinja2's tojson).
func SortKeys(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = SortKeys(e)
		}
		return out
	case *Map:
		out := make(map[string]any, x.Len())
		for k, e := range x.All() {
			out[k] = SortKeys(e)
		}
		return MapOf(out)
	case map[string]any:
		return SortKeys(MapOf(x))
	}
	return v
}

// Copy is a deep copy of v's lists and dicts.
func Copy(v any) any { return Transform(v, func(x any) any { return x }) }
