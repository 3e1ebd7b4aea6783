package main

import (
	"strings"
	"testing"
)

const graphWF = `
version: '2.0'
flow:
  tasks:
    first:
      action: std.noop
      on-success: [second]
      on-error: [fail]
    second:
      workflow: other
`

func TestGraphFormats(t *testing.T) {
	file := write(t, graphWF)
	for format, want := range map[string]string{"svg": `data-task="second"`, "mermaid": "flowchart TD", "dot": `"first" -> "second"`} {
		code, out, errs := runCLI("graph", file, "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr %s", format, code, errs)
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "first") {
			t.Errorf("%s output lacks %q:\n%s", format, want, out)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	file := write(t, graphWF)
	if code, _, _ := runCLI("graph", file, "--format", "png"); code != exitUsage {
		t.Errorf("unknown format: exit %d", code)
	}
	if code, _, errs := runCLI("graph", file, "--workflow", "nope"); code != exitUsage || !strings.Contains(errs, "nope") {
		t.Errorf("unknown workflow: exit %d, %s", code, errs)
	}
	bad := write(t, "version: '2.0'\nflow:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [missing]\n")
	if code, _, errs := runCLI("graph", bad); code != exitUsage || !strings.Contains(errs, ":6:") {
		t.Errorf("invalid file: exit %d, %s", code, errs)
	}
	if code, _, _ := runCLI("graph"); code != exitUsage {
		t.Errorf("no file: exit %d", code)
	}
}
