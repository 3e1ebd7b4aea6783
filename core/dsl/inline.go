package dsl

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lazyflow/lazyflow/core/value"
)

// splitInline splits "std.echo output='hi' x=<% $.y %>" into the name and
// its parameters, as Mistral's action/workflow shorthand allows.
func splitInline(s string) (string, *value.Map, error) {
	name, params, _, err := splitCall(s, false)
	return name, params, err
}

// splitCall is splitInline; with asMistral, the parameters Mistral 23.0.0
// does not read are left out and returned as name=value (see readParams).
func splitCall(s string, asMistral bool) (string, *value.Map, []string, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, " \t\n")
	if i < 0 {
		return s, nil, nil, nil
	}
	name, rest := s[:i], strings.TrimSpace(s[i+1:])
	params, unread, err := readParams(rest, asMistral)
	if err != nil {
		return name, nil, nil, fmt.Errorf("parameters of %s: %w", name, err)
	}
	return name, params, unread, nil
}

// leadingExpr splits s, which starts with an expression, into that
// expression and the text after it; ok is false when the expression is not
// closed or is not followed by a space.
func leadingExpr(s string) (head, rest string, ok bool) {
	closer := "%>"
	if strings.HasPrefix(s, "{{") {
		closer = "}}"
	}
	j := strings.Index(s, closer)
	if j < 0 {
		return "", "", false
	}
	end := j + len(closer)
	if end < len(s) && !isSpace(s[end]) {
		return "", "", false
	}
	return s[:end], strings.TrimSpace(s[end:]), true
}

// parseParams reads space-separated key=value pairs. A value is a quoted
// string, an expression (<% %>, {{ }}), a [list] or {map} in YAML flow
// syntax, or a bare word read as a YAML literal (number, true, null, text).
func parseParams(s string) (*value.Map, error) {
	params, _, err := readParams(s, false)
	return params, err
}

// readParams is parseParams; with asMistral, a value Mistral 23.0.0's
// inline parameter pattern (PARAMS_PTRN) does not read whole is returned in
// unread as name=value too. Mistral reads a quoted string, an expression, a
// [list], true, false, null and digits; a bare word (`output=ab`, `-1`,
// `True`) or a {map} it skips, so the action runs without that input, and
// of 1.5 or 12ab it reads the leading digits.
func readParams(s string, asMistral bool) (out *value.Map, unread []string, err error) {
	out = value.NewMap(2)
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out, unread, nil
		}
		start := i
		for i < len(s) && (isWord(s[i]) || s[i] == '-') {
			i++
		}
		key := s[start:i]
		if key == "" || i >= len(s) || s[i] != '=' {
			return nil, nil, fmt.Errorf("expected name=value at %q", clip(s[start:]))
		}
		i++ // '='
		// Mistral 23.0.0 loads `output= "text"`: a space after '=' is
		// skipped here (Mistral drops such a parameter, which would only
		// turn a typo into a missing input).
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return nil, nil, fmt.Errorf("%s= has no value", key)
		}
		val, next, err := readValue(s, i)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", key, err)
		}
		if asMistral && !mistralReads(s[i:next]) {
			unread = append(unread, key+"="+s[i:next])
		}
		if out.Has(key) {
			return nil, nil, fmt.Errorf("parameter %q is given twice", key)
		}
		out.Set(key, val)
		i = next
		if i < len(s) && !isSpace(s[i]) {
			return nil, nil, fmt.Errorf("expected a space after the value of %s, at %q", key, clip(s[i:]))
		}
	}
}

// mistralReads reports whether Mistral 23.0.0's PARAMS_PTRN reads the
// inline value v whole: its alternatives are a quoted string, an
// expression, a [list], true, false, null and digits.
func mistralReads(v string) bool {
	switch {
	case v == "true" || v == "false" || v == "null":
		return true
	case strings.HasPrefix(v, "{{"):
		return true
	case strings.ContainsRune("\"'<[", rune(v[0])):
		return true
	}
	_, err := strconv.ParseUint(v, 10, 64)
	return err == nil && !strings.HasPrefix(v, "+")
}

// leadingDigits is the digits v starts with, when they fit an int64.
func leadingDigits(v string) string {
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if _, err := strconv.ParseInt(v[:j], 10, 64); err != nil {
		return ""
	}
	return v[:j]
}

func readValue(s string, i int) (any, int, error) {
	switch {
	case s[i] == '"' || s[i] == '\'':
		q := s[i]
		j := strings.IndexByte(s[i+1:], q)
		if j < 0 {
			return nil, 0, fmt.Errorf("unclosed quote %c", q)
		}
		return s[i+1 : i+1+j], i + 2 + j, nil
	case strings.HasPrefix(s[i:], "<%"):
		j := strings.Index(s[i:], "%>")
		if j < 0 {
			return nil, 0, fmt.Errorf("'<%%' has no closing '%%>'")
		}
		return s[i : i+j+2], i + j + 2, nil
	case strings.HasPrefix(s[i:], "{{"):
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, 0, fmt.Errorf("'{{' has no closing '}}'")
		}
		return s[i : i+j+2], i + j + 2, nil
	case s[i] == '[' || s[i] == '{':
		end, err := matchBracket(s, i)
		if err != nil {
			return nil, 0, err
		}
		text := s[i : end+1]
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(text), &n); err != nil || len(n.Content) == 0 {
			return text, end + 1, nil
		}
		l := &loader{}
		return l.plain(n.Content[0]), end + 1, nil
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	word := s[i:j]
	switch word {
	case "true", "True":
		return true, j, nil
	case "false", "False":
		return false, j, nil
	case "null", "None":
		return nil, j, nil
	}
	if n, err := strconv.ParseInt(word, 10, 64); err == nil {
		return n, j, nil
	}
	if f, err := strconv.ParseFloat(word, 64); err == nil {
		return f, j, nil
	}
	return word, j, nil
}

// matchBracket finds the bracket closing the one at s[i], skipping quoted text.
func matchBracket(s string, i int) (int, error) {
	depth := 0
	var quote byte
	for j := i; j < len(s); j++ {
		c := s[j]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed %c", s[i])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWord(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func clip(s string) string {
	if len(s) > 30 {
		return s[:30] + "..."
	}
	return s
}
