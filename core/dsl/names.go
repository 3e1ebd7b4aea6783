package dsl

import (
	"fmt"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// MaxNameLen bounds workflow, workbook and action names, in bytes.
const MaxNameLen = 255

// NameProblem says what is wrong with a workflow, workbook or action name,
// or returns "" for a good one. Names end up in URLs, store keys, file
// names and logs, so they are one line of printable text without path
// syntax: not empty, at most MaxNameLen bytes, no '/' or '\', no
// whitespace or control characters, and no empty dotted part (no leading
// or trailing '.', no ".."), so "wb.wf" and "std.echo" are good names and
// "..", "../etc/passwd" and "a/b" are not.
func NameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(name), MaxNameLen)
	case strings.ContainsAny(name, `/\`):
		return "contains '/' or '\\'"
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, ".."):
		return "has an empty dotted part (a leading or trailing '.', or '..')"
	}
	for _, r := range name {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Sprintf("contains the character %q; use letters, digits and punctuation such as _ - .", r)
		}
	}
	return ""
}

// checkName reports a bad name (kind: "workflow", "action", "workbook")
// at its node.
func (l *loader) checkName(n *yaml.Node, kind, name string) {
	if p := NameProblem(name); p != "" {
		l.errf(n, "%s name %q %s", kind, name, p)
	}
}
