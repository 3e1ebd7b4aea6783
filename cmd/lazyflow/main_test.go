package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wf.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunJSONSuccess(t *testing.T) {
	code, out, errs := runCLI("run", "../../examples/hello.yaml", "--input", `{"name":"Ada"}`, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("--json must print exactly one line, got %q", out)
	}
	var rep struct {
		ID, Workflow, State string
		StateInfo           string `json:"state_info"`
		Output              map[string]any
		Tasks               []struct {
			Name, State string
			Published   map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	if rep.State != "SUCCESS" || rep.Workflow != "hello" || rep.ID == "" {
		t.Fatalf("report %+v", rep)
	}
	if rep.Output["greeting"] != "Hello, Ada!" || rep.Output["letters"] != float64(11) {
		t.Fatalf("output %v", rep.Output)
	}
	if len(rep.Tasks) != 2 || rep.Tasks[0].Name != "greet" || rep.Tasks[1].Name != "count" {
		t.Fatalf("tasks not in start order: %+v", rep.Tasks)
	}
}

func TestRunErrorExit3(t *testing.T) {
	p := write(t, `version: '2.0'
wf:
  tasks:
    boom:
      action: std.fail error_data="disk full"
`)
	code, out, _ := runCLI("run", p, "--json")
	if code != 3 {
		t.Fatalf("exit %d, want 3; out %s", code, out)
	}
	if !strings.Contains(out, `"state":"ERROR"`) || !strings.Contains(out, "disk full") {
		t.Fatalf("report lacks the failure: %s", out)
	}
}

func TestInvalidDefinitionExit2WithPosition(t *testing.T) {
	p := write(t, `version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-sucess: t2
`)
	code, _, errs := runCLI("run", p)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errs, "wf.yaml:6:7") || !strings.Contains(errs, "on-success") {
		t.Fatalf("stderr lacks file:line:col and a suggestion: %s", errs)
	}
	code, _, errs = runCLI("validate", p)
	if code != 2 || !strings.Contains(errs, "wf.yaml:6:7") {
		t.Fatalf("validate: exit %d stderr %s", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"run"}, {"run", "a.yaml", "b.yaml"},
		{"run", "../../examples/hello.yaml", "--input", "[1]"},
		{"run", "../../examples/hello.yaml", "--input", "{}", "--input-file", "x"}} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestValidateOK(t *testing.T) {
	code, out, errs := runCLI("validate", "../../examples/hello.yaml")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
}
