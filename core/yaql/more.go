package yaql

import (
	"crypto/rand"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// Functions of yaql's standard library and of Mistral that real workbooks
// use (found by loading published Mistral workbooks): set operations on
// lists, deep dict merge, insert, replaceBy, round, and Mistral's
// yaml_dump, yaml_parse and uuid.

// bUnion is yaql's union: the distinct elements of the lists, in order.
func bUnion(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	all := append([]any(nil), l...)
	for i := range c.args {
		v, err := c.arg(i)
		if err != nil {
			return nil, err
		}
		o, err := asList(c.name, v)
		if err != nil {
			return nil, err
		}
		all = append(all, o...)
	}
	return c.ev.distinct(all)
}

// bIntersect keeps the distinct elements of the list found in the other.
func bIntersect(c *callCtx) (any, error) { return c.setOp(true) }

// bDifference keeps the distinct elements of the list not in the other.
func bDifference(c *callCtx) (any, error) { return c.setOp(false) }

func (c *callCtx) setOp(keep bool) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	v, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	o, err := asList(c.name, v)
	if err != nil {
		return nil, err
	}
	in := make(map[any]struct{}, len(o))
	for _, e := range o {
		h, err := c.ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		in[h] = struct{}{}
	}
	var out []any
	for _, e := range l {
		h, err := c.ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		if _, found := in[h]; found == keep {
			out = append(out, e)
		}
	}
	if err := c.ev.charge(len(l) + len(o)); err != nil {
		return nil, err
	}
	return c.ev.distinct(out)
}

func (ev *evaluator) distinct(l []any) (any, error) {
	seen := make(map[any]struct{}, len(l))
	out := make([]any, 0, len(l))
	for _, e := range l {
		h, err := ev.hashKey(e)
		if err != nil {
			return nil, err
		}
		if _, dup := seen[h]; !dup {
			seen[h] = struct{}{}
			out = append(out, e)
		}
	}
	return out, ev.charge(len(l))
}

// bMergeWith is yaql's dict.mergeWith(other): a deep merge where dicts
// merge key by key, lists are joined as by union, and any other value is
// taken from other. Custom mergers are not supported.
func bMergeWith(c *callCtx) (any, error) {
	d, err := c.self()
	if err != nil {
		return nil, err
	}
	to, ok := d.(map[string]any)
	if !ok {
		return nil, failf("mergeWith() applies to a dict, not %s", value.TypeName(d))
	}
	if len(c.args) != 1 || len(c.kw) > 0 {
		return nil, failf("mergeWith() takes one dict; custom list and item mergers are not supported")
	}
	v, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	from, ok := v.(map[string]any)
	if !ok {
		return nil, failf("mergeWith() needs a dict to merge, not %s", value.TypeName(v))
	}
	return c.ev.merge(to, from, 0)
}

func (ev *evaluator) merge(to, from map[string]any, depth int) (map[string]any, error) {
	if depth > 100 {
		return nil, failf("mergeWith(): dicts nested more than 100 deep")
	}
	out := make(map[string]any, len(to)+len(from))
	for k, v := range to {
		out[k] = v
	}
	for k, fv := range from {
		tv, both := out[k]
		if !both {
			out[k] = fv
			continue
		}
		switch t := tv.(type) {
		case map[string]any:
			if f, ok := fv.(map[string]any); ok {
				m, err := ev.merge(t, f, depth+1)
				if err != nil {
					return nil, err
				}
				out[k] = m
				continue
			}
		case []any:
			if f, ok := fv.([]any); ok {
				u, err := ev.distinct(append(append([]any(nil), t...), f...))
				if err != nil {
					return nil, err
				}
				out[k] = u
				continue
			}
		}
		out[k] = fv
	}
	return out, ev.charge(len(to) + len(from))
}

// bInsert is list.insert(position, value): a new list with value at
// position (clamped to the list).
func bInsert(c *callCtx) (any, error) {
	l, err := c.selfList()
	if err != nil {
		return nil, err
	}
	pos, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	v, err := c.arg(1)
	if err != nil {
		return nil, err
	}
	at := clampRange(pos, len(l))
	out, err := c.newList(len(l) + 1)
	if err != nil {
		return nil, err
	}
	out = append(append(append(out, l[:at]...), v), l[at:]...)
	return out, nil
}

// bReplaceBy is yaql's string.replaceBy(regex, selector[, count]) (or
// regex.replaceBy(string, ...)): each match is replaced by the selector's
// value, evaluated with the match as $ ({value, start, end}).
func bReplaceBy(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	x, err := c.arg(0)
	if err != nil {
		return nil, err
	}
	s, pattern := v, x
	if _, ok := v.(*regexValue); ok {
		s, pattern = x, v
	}
	str, err := asString("replaceBy", s)
	if err != nil {
		return nil, err
	}
	re, err := asRegex(pattern)
	if err != nil {
		return nil, err
	}
	count, err := c.intArg(2, 0)
	if err != nil {
		return nil, err
	}
	if count <= 0 {
		count = -1 // yaql: 0, the default, replaces every match
	}
	var out []byte
	last, n := 0, int64(0)
	for _, loc := range re.FindAllStringIndex(str, -1) {
		if count >= 0 && n >= count {
			break
		}
		r, err := c.lambda(1, map[string]any{"value": str[loc[0]:loc[1]], "start": int64(loc[0]), "end": int64(loc[1])})
		if err != nil {
			return nil, err
		}
		rs, err := asString("replaceBy", r)
		if err != nil {
			return nil, err
		}
		out = append(append(out, str[last:loc[0]]...), rs...)
		last = loc[1]
		n++
		if err := c.ev.checkStr(len(out), "replaceBy()"); err != nil {
			return nil, err
		}
	}
	return string(append(out, str[last:]...)), nil
}

// bRound is round(number[, digits]).
func bRound(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	digits, err := c.intArg(0, 0)
	if err != nil {
		return nil, err
	}
	var f float64
	switch x := v.(type) {
	case int64:
		if digits >= 0 {
			return x, nil
		}
		f = float64(x)
	case float64:
		f = x
	default:
		return nil, failf("round() needs a number, not %s", value.TypeName(v))
	}
	// yaql's round is Python's round(n, digits): half to even on the
	// exact value (2.675 is 2.67499…, so 2.67), a float. strconv rounds
	// the exact binary value that way.
	if digits >= 0 && digits <= 20 {
		r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(digits), 64), 64)
		if err == nil {
			return r, nil
		}
	}
	p := math.Pow(10, float64(digits))
	return math.RoundToEven(f*p) / p, nil
}

// bYAMLDump is Mistral's yaml_dump: the value as block-style YAML.
func bYAMLDump(c *callCtx) (any, error) {
	v, err := c.self()
	if err != nil {
		return nil, err
	}
	out, err := YAMLDump(v)
	if err != nil {
		return nil, failf("yaml_dump(): %v", err)
	}
	return out, c.ev.checkStr(len(out), "yaml_dump()")
}

// YAMLDump is Mistral's yaml_dump, for both expression languages.
func YAMLDump(v any) (string, error) {
	b, err := yaml.Marshal(value.Normalize(v))
	return string(b), err
}

// YAMLParse is Mistral's yaml_parse, for both expression languages: the
// document as JSON-like values.
func YAMLParse(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return plainYAML(reflect.ValueOf(v), 0)
}

// bYAMLParse is Mistral's yaml_parse.
func bYAMLParse(c *callCtx) (any, error) {
	s, err := c.selfString()
	if err != nil {
		return nil, err
	}
	if err := c.ev.checkStr(len(s), "yaml_parse()"); err != nil {
		return nil, err
	}
	v, err := YAMLParse(s)
	if err != nil {
		return nil, failf("yaml_parse(): %v", err)
	}
	return v, nil
}

// plainYAML turns what yaml.v3 decoded into JSON-like values.
func plainYAML(v reflect.Value, depth int) (any, error) {
	if depth > 100 {
		return nil, failf("yaml_parse(): nested more than 100 deep")
	}
	if !v.IsValid() {
		return nil, nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return plainYAML(v.Elem(), depth)
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			e, err := plainYAML(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(it.Key().Interface())] = e
		}
		return out, nil
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			e, err := plainYAML(v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return value.Normalize(v.Interface()), nil
}

// bUUID is Mistral's uuid(): a random (version 4) UUID. Unlike the other
// functions it differs at every call; with-items evaluates its list again
// for every item, so a list built with uuid() is not stable there.
func bUUID(c *callCtx) (any, error) { return UUID(), nil }

// UUID is a random (version 4) UUID, as Mistral's uuid() makes.
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
