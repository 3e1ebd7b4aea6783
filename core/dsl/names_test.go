package dsl

import (
	"strings"
	"testing"
)

func TestNameSyntax(t *testing.T) {
	for _, good := range []string{"wf", "wb.wf", "std.echo", "my_flow-2", "wb.sub.wf", "déjà-vu", "a:b", strings.Repeat("x", MaxNameLen)} {
		if p := NameProblem(good); p != "" {
			t.Errorf("%q refused: %s", good, p)
		}
	}
	for _, bad := range []string{"", "..", ".", "../../etc/passwd", "a/b", `a\b`, ".wf", "wf.", "wb..wf", "a b", "tab\there",
		"nl\n", "nul\x00", "bell\a", "bad\xffutf8", strings.Repeat("x", MaxNameLen+1)} {
		if NameProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A bad workflow, workbook or action name is an error at its line.
func TestBadNamesRefusedAtTheirLine(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"version: '2.0'\n'../../etc/passwd':\n  tasks:\n    t:\n      action: std.noop\n", `bad.yaml:2:1: workflow name "../../etc/passwd"`},
		{"version: '2.0'\n'a/b':\n  tasks:\n    t:\n      action: std.noop\n", `bad.yaml:2:1: workflow name "a/b" contains '/'`},
		{"version: '2.0'\n'':\n  tasks:\n    t:\n      action: std.noop\n", `bad.yaml:2:1: workflow name "" is empty`},
		{"version: '2.0'\nname: '..'\nworkflows:\n  wf:\n    tasks:\n      t:\n        action: std.noop\n", `bad.yaml:2:7: workbook name ".."`},
		{"version: '2.0'\nname: wb\nactions:\n  'x/y':\n    base: std.echo\nworkflows:\n  wf:\n    tasks:\n      t:\n        action: std.noop\n", `bad.yaml:4:3: action name "x/y"`},
	} {
		_, err := Load("bad.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error containing %q", err, c.want)
		}
	}
	if _, err := Load("ok.yaml", []byte("version: '2.0'\nname: wb\nworkflows:\n  wf.main:\n    tasks:\n      t:\n        action: std.noop\n")); err != nil {
		t.Errorf("dotted names refused: %v", err)
	}
}
