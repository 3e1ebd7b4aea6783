package kvstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// fill sets every field reachable from v to a non-zero value, with the
// non-canonical shapes (int, []string, empty maps) a caller may hand the
// store, so a field added to a record later is covered without editing
// this test.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		if depth > 0 {
			p := reflect.New(v.Type().Elem())
			fill(p.Elem(), depth-1)
			v.Set(p)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(s.Index(i), depth-1)
		}
		v.Set(s)
	case reflect.Map:
		v.Set(reflect.ValueOf(sample()))
	case reflect.Interface:
		v.Set(reflect.ValueOf(sample()))
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Now().UTC())) // with a monotonic reading
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth)
			}
		}
	}
}

func sample() map[string]any {
	return map[string]any{
		"int": 3, "float": 2.5, "list": []string{"x", "y"}, "empty": map[string]any{},
		"nested": map[string]any{"n": []any{int32(1), map[string]string{"k": "v"}}},
	}
}

func records() []any {
	out := []any{&engine.Execution{}, &engine.Task{}, &engine.Slot{}, &engine.Leaf{}, &engine.Definition{}}
	for _, r := range out {
		fill(reflect.ValueOf(r).Elem(), 3)
	}
	// Empty omitempty fields: JSON drops them, so the copy must too.
	out = append(out, &engine.Task{Ctx: value.NewMap(0), Outbox: []engine.Command{}}, &engine.Execution{Vars: value.NewMap(0), Env: value.NewMap(0)})
	return out
}

// TestCopyCodecMatchesJSON: the memory store returns every record exactly as
// a durable store (JSON) would, so `lazyflow run` and `lazyflow serve` see
// the same values.
func TestCopyCodecMatchesJSON(t *testing.T) {
	for _, rec := range records() {
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		want := reflect.New(reflect.TypeOf(rec).Elem()).Interface()
		if err := engine.Decode(raw, want); err != nil {
			t.Fatal(err)
		}
		kept, _, err := copyCodec{}.encode(rec, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(reflect.TypeOf(rec).Elem()).Interface()
		if err := (copyCodec{}).decode(kept, got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			t.Errorf("%T: copy differs from the JSON round trip\ncopy: %s\njson: %s\ncopy: %#v\njson: %#v", rec, g, raw, got, want)
		}
	}
}

// mutate changes every map and slice element reachable from v.
func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			mutate(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			mutate(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			mutate(v.MapIndex(k)) // map values are not addressable; only nested maps change
		}
		if !v.IsNil() && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.Interface {
			v.SetMapIndex(reflect.ValueOf("mutated"), reflect.ValueOf(any(true)))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && v.Field(i).CanSet() {
				mutate(v.Field(i))
			}
		}
	}
}

// TestCopyCodecIsolates: neither the record handed to the store nor the one
// read back shares a map with what the store keeps.
func TestCopyCodecIsolates(t *testing.T) {
	for _, rec := range records() {
		kept, _, err := copyCodec{}.encode(rec, 0)
		if err != nil {
			t.Fatal(err)
		}
		read := func() any {
			v := reflect.New(reflect.TypeOf(rec).Elem()).Interface()
			if err := (copyCodec{}).decode(kept, v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		before := read()
		mutate(reflect.ValueOf(rec))
		mutate(reflect.ValueOf(read()))
		if after := read(); !reflect.DeepEqual(after, before) {
			t.Errorf("%T: a caller's change reached the stored record", rec)
		}
	}
}
