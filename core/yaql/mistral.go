package yaql

import (
	"crypto/rand"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// mistralFuncs are Mistral's own functions on values
// (mistral/utils/expression_utils.py): json_dump, json_parse, yaml_dump,
// yaml_parse and uuid. task(), execution(), env() and the other functions
// on an execution's state come from the host as Env.Funcs.
var mistralFuncs = []fn{
	{names: []string{"json_dump", "json_pp"}, form: functionOf, recv: kAny, call: bJSONDump},
	{names: []string{"json_parse"}, form: functionOf, recv: kString, call: bJSONParse},
	{names: []string{"yaml_dump"}, form: functionOf, recv: kAny, call: bYAMLDump},
	{names: []string{"yaml_parse"}, form: functionOf, recv: kString, call: bYAMLParse},
	{names: []string{"uuid"}, form: function, call: bUUID},
}

// bJSONDump is Mistral's json_dump (and the deprecated json_pp): Python's
// json.dumps(value, indent=4).
func bJSONDump(c *callCtx) (any, error) {
	if err := c.ev.charge(1); err != nil {
		return nil, err
	}
	v := c.recv
	if c.ev.internal {
		// Mistral's jsonutils prints a datetime as its stored text and
		// fails on what it cannot convert (a timespan, a regex).
		var err error
		if v, err = c.ev.exportValue(v); err != nil {
			return nil, err
		}
	}
	return c.ev.json(v, 4, true, c.name+"()")
}

// parseText is json_parse and yaml_parse: the receiver, within the string
// limit, parsed by parse.
func parseText(c *callCtx, parse func(string) (any, error)) (any, error) {
	s := c.recvString()
	if err := c.ev.checkStr(len(s), c.name+"()"); err != nil {
		return nil, err
	}
	v, err := parse(s)
	if err != nil {
		return nil, failf("%s(): %v", c.name, err)
	}
	return v, nil
}

func bJSONParse(c *callCtx) (any, error) {
	return parseText(c, func(s string) (any, error) { return value.FromJSONExact([]byte(s)) })
}

// bYAMLDump is Mistral's yaml_dump (YAMLDump) within the string limit.
func bYAMLDump(c *callCtx) (any, error) {
	out, ok := YAMLDumpLimit(c.recv, c.ev.maxStr)
	if !ok {
		return nil, c.ev.limitStr(c.ev.maxStr+1, "yaml_dump()")
	}
	return out, c.ev.checkStr(len(out), "yaml_dump()")
}

// YAMLParse is Mistral's yaml_parse, for both expression languages: the
// document as JSON-like values.
func YAMLParse(s string) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return nil, err
	}
	yaml11Bools(&doc, 0)
	budget := maxYAMLValues
	return yamlValue(&doc, 0, &budget)
}

// maxYAMLValues bounds what a document may expand to through aliases.
const maxYAMLValues = 1 << 20

// yamlValue turns a parsed node into a JSON-like value. Mappings become
// *value.Map in document order, as PyYAML's safe_load builds a Python dict;
// merge keys (<<) put the merged entries first, as PyYAML does.
func yamlValue(n *yaml.Node, depth int, budget *int) (any, error) {
	if depth > 100 {
		return nil, failf("yaml_parse(): nested more than 100 deep")
	}
	if *budget--; *budget < 0 {
		return nil, failf("yaml_parse(): the document expands to more than %d values", maxYAMLValues)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], depth, budget)
	case yaml.AliasNode:
		return yamlValue(n.Alias, depth+1, budget)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			e, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case yaml.MappingNode:
		return yamlMapping(n, depth, budget)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return plainYAML(reflect.ValueOf(v), depth)
}

func yamlMapping(n *yaml.Node, depth int, budget *int) (any, error) {
	out := value.NewMap(len(n.Content) / 2)
	var own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag != "!!merge" {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		from := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			from = v.Content
		}
		for j := len(from) - 1; j >= 0; j-- {
			m, err := yamlValue(from[j], depth+1, budget)
			if err != nil {
				return nil, err
			}
			mm, ok := m.(*value.Map)
			if !ok {
				return nil, failf("yaml_parse(): a merge key (<<) needs a mapping, not a %s", value.TypeName(m))
			}
			out.Update(mm)
		}
	}
	for _, p := range own {
		k, err := yamlValue(p[0], depth+1, budget)
		if err != nil {
			return nil, err
		}
		v, err := yamlValue(p[1], depth+1, budget)
		if err != nil {
			return nil, err
		}
		out.Set(fmt.Sprint(k), v)
	}
	return out, nil
}

// yaml11Words are the plain scalars YAML 1.1, and so PyYAML's safe_load
// that Mistral's yaml_parse is, reads as booleans; YAML 1.2 reads them as
// strings.
var yaml11Words = map[string]string{
	"yes": "true", "Yes": "true", "YES": "true", "on": "true", "On": "true", "ON": "true",
	"no": "false", "No": "false", "NO": "false", "off": "false", "Off": "false", "OFF": "false",
}

func yaml11Bools(n *yaml.Node, depth int) {
	if depth > 100 {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 && n.Tag == "!!str" {
		if b, ok := yaml11Words[n.Value]; ok {
			n.Tag, n.Value = "!!bool", b
		}
	}
	for _, c := range n.Content {
		yaml11Bools(c, depth+1)
	}
}

// bYAMLParse is Mistral's yaml_parse.
func bYAMLParse(c *callCtx) (any, error) { return parseText(c, YAMLParse) }

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
		return value.MapOf(out), nil
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
