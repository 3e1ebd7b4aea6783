package expr

import (
	"slices"
	"strings"
)

// RootNames lists the names v's expressions read from $ when they read $
// only as $.name, never as a whole (no bare $, no method called on $ such as
// $.get(x) or $.keys(), no Jinja): $ may then hold just those names and give
// the same results, which spares building it from every layer of the
// context. ok is false otherwise. A name inside a lambda, where $ is the
// item, is listed too: looking it up in vain costs nothing.
func (v *Value) RootNames() (names []string, ok bool) {
	if v == nil {
		return nil, true
	}
	return v.names, v.namesOK
}

// rootNames computes RootNames from the expression strings, reading the
// text conservatively: a '$' anywhere (a string literal too) must be
// followed by '.', a name of ASCII word characters, and no call.
func rootNames(exprs []string) ([]string, bool) {
	var names []string
	for _, e := range exprs {
		if strings.Contains(e, "{{") || strings.Contains(e, "{%") {
			return nil, false
		}
		for i := strings.IndexByte(e, '$'); i >= 0; {
			start := i + 2
			if start > len(e) || e[i+1] != '.' {
				return nil, false
			}
			end := start
			for end < len(e) && isWordByte(e[end]) {
				end++
			}
			if end == start || end < len(e) && e[end] >= 0x80 {
				return nil, false
			}
			next := end
			for next < len(e) && strings.IndexByte(" \t\r\n", e[next]) >= 0 {
				next++
			}
			if next < len(e) && e[next] == '(' {
				return nil, false
			}
			if name := e[start:end]; !slices.Contains(names, name) {
				names = append(names, name)
			}
			j := strings.IndexByte(e[end:], '$')
			if j < 0 {
				break
			}
			i = end + j
		}
	}
	return names, true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
