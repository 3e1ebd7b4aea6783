package main

import (
	"strings"
	"testing"
)

func TestValidateRefusesBadNamesWithFileLine(t *testing.T) {
	f := write(t, "version: '2.0'\n'../../etc/passwd':\n  tasks:\n    t:\n      action: std.noop\n")
	code, _, errs := runCLI("validate", f)
	if code != exitUsage || !strings.Contains(errs, f+":2:1: workflow name \"../../etc/passwd\"") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}
