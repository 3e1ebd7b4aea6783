package expr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/lazyflow/lazyflow/core/value"
)

// pprintWidth is pprint.pformat's default line width.
const pprintWidth = 80

// pprintFilter is Jinja2's pprint: Python's pprint.pformat, which writes a
// value's repr on one line when it fits in 80 columns and otherwise puts
// each list item or dict entry (keys sorted) on a line of its own.
func pprintFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	var b strings.Builder
	// pprint sorts a dict's keys (sort_dicts=True).
	pformat(&b, value.SortKeys(v), 0, 0)
	return exec.AsValue(b.String())
}

func reprOf(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// pformat is pprint.PrettyPrinter._format with indent 1: allowance is the
// room the closing brackets after v need on its last line.
func pformat(b *strings.Builder, v any, indent, allowance int) {
	rep := reprOf(v)
	if utf8.RuneCountInString(rep) <= pprintWidth-indent-allowance {
		b.WriteString(rep)
		return
	}
	switch x := v.(type) {
	case []any:
		b.WriteByte('[')
		pformatItems(b, x, indent+1, allowance+1)
		b.WriteByte(']')
	case *value.Map:
		pformat(b, x.GoMap(), indent, allowance)
	case map[string]any:
		b.WriteByte('{')
		keys := sortedKeys(x)
		for i, k := range keys {
			kr := value.PyQuote(k)
			b.WriteString(kr + ": ")
			last := i == len(keys)-1
			room := 1
			if last {
				room = allowance + 1
			}
			pformat(b, x[k], indent+1+utf8.RuneCountInString(kr)+2, room)
			if !last {
				b.WriteString(",\n" + strings.Repeat(" ", indent+1))
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString(rep)
	}
}

func pformatItems(b *strings.Builder, items []any, indent, allowance int) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(",\n" + strings.Repeat(" ", indent))
		}
		room := 1
		if i == len(items)-1 {
			room = allowance
		}
		pformat(b, it, indent, room)
	}
}

// urlencodeFilter is Jinja2's urlencode: a string or scalar is quoted for a
// URL path, a dict or a sequence of pairs becomes a query string.
func urlencodeFilter(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	var pairs [][2]any
	switch x := v.(type) {
	case *value.Map:
		for k, e := range x.All() {
			pairs = append(pairs, [2]any{k, e})
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			pairs = append(pairs, [2]any{k, x[k]})
		}
	case []any:
		for _, it := range x {
			p, err := unpackPair(it)
			if err != nil {
				return errValue(err)
			}
			pairs = append(pairs, p)
		}
	default:
		return exec.AsValue(urlQuote(pyStr(v), "/"))
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = urlQuote(pyStr(p[0]), "") + "=" + urlQuote(pyStr(p[1]), "")
	}
	return exec.AsValue(strings.Join(parts, "&"))
}

// unpackPair is Python's k, v = item.
func unpackPair(item any) ([2]any, error) {
	var elems []any
	switch x := item.(type) {
	case []any:
		elems = x
	case string:
		for _, r := range x {
			elems = append(elems, string(r))
		}
	case *value.Map:
		elems = append(elems, anyKeys(x)...)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			elems = append(elems, k)
		}
	default:
		return [2]any{}, fmt.Errorf("cannot unpack non-iterable %s object", plainType(item))
	}
	switch {
	case len(elems) > 2:
		return [2]any{}, errors.New("too many values to unpack (expected 2)")
	case len(elems) < 2:
		return [2]any{}, fmt.Errorf("not enough values to unpack (expected 2, got %d)", len(elems))
	}
	return [2]any{elems[0], elems[1]}, nil
}

// urlQuote is Python's urllib.parse.quote of the UTF-8 text with the extra
// safe characters; in a query (safe "") a space becomes "+".
func urlQuote(s, safe string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("_.-~", c) >= 0,
			strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		case c == ' ' && safe == "":
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// htmlEscape is markupsafe's escape, which Jinja2's xmlattr applies.
var htmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

// xmlAttrKeyRe finds what Jinja2 refuses in an attribute name.
var xmlAttrKeyRe = regexp.MustCompile(`[\s/>=]`)

// xmlattrFilter is Jinja2's xmlattr(d, autospace=True): key="value" pairs
// of Python's str() of each value, escaped; None values are left out.
func xmlattrFilter(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	args, err := bindArgs("xmlattr", params, "autospace")
	if err != nil {
		return errValue(err)
	}
	v, err := fromGonja(in)
	if err != nil {
		return errValue(err)
	}
	d, ok := value.AsMap(v)
	if !ok {
		return errValue(noItems(in))
	}
	var items []string
	for k, e := range d.All() {
		if e == nil {
			continue
		}
		if xmlAttrKeyRe.MatchString(k) {
			return errValue(fmt.Errorf("invalid character in attribute name: %s", value.PyQuote(k)))
		}
		items = append(items, htmlEscape.Replace(k)+`="`+htmlEscape.Replace(pyStr(e))+`"`)
	}
	out := strings.Join(items, " ")
	if auto, ok := args["autospace"]; (!ok || auto.IsTrue()) && out != "" {
		out = " " + out
	}
	return exec.AsValue(out)
}

// anyKeys are a dict's keys in its order, as values.
func anyKeys(m *value.Map) []any {
	out := make([]any, 0, m.Len())
	for k := range m.All() {
		out = append(out, k)
	}
	return out
}
