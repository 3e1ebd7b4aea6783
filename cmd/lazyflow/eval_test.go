package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalPrintsResult(t *testing.T) {
	ctx := `{"a": 3, "name": "Ada", "xs": [1, 2]}`
	cases := []struct{ expr, want string }{
		{`<% $.a + 1 %>`, "4"},
		{`{{ _.a * 2 }}`, "6"},
		{`Hello, <% $.name %>!`, "Hello, Ada!"},
		{`{{ _.name | upper }}`, "ADA"},
		{`<% $.xs %>`, "[\n  1,\n  2\n]"},
		{`plain text`, "plain text"},
	}
	for _, c := range cases {
		code, out, errs := runCLI("eval", c.expr, "--context", ctx)
		if code != 0 || strings.TrimSuffix(out, "\n") != c.want {
			t.Errorf("eval %s: exit %d, out %q (want %q), stderr %s", c.expr, code, out, c.want, errs)
		}
	}
}

func TestEvalJSONIsOneDocument(t *testing.T) {
	for _, e := range []string{`<% $.name %>`, `<% {a => [1, 2.5, null, true]} %>`, `{{ _.a }}`} {
		code, out, errs := runCLI("eval", "--json", e, "--context", `{"a": 3, "name": "Ada"}`)
		if code != 0 {
			t.Fatalf("eval %s: exit %d, stderr %s", e, code, errs)
		}
		if strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("eval --json %s: want one line, got %q", e, out)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Errorf("eval --json %s: not exactly one JSON document: %q (%v)", e, out, err)
		}
	}
	_, out, _ := runCLI("eval", "--json", `<% $.name %>`, "--context", `{"name": "Ada"}`)
	if strings.TrimSpace(out) != `"Ada"` {
		t.Errorf("a string result must be a JSON string with --json, got %q", out)
	}
}

func TestEvalContextFileAndNonObjectRoot(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ctx.json")
	if err := os.WriteFile(p, []byte(`{"n": 41}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI("eval", `<% $.n + 1 %>`, "--context-file", p); code != 0 || out != "42\n" {
		t.Errorf("--context-file: exit %d, out %q, stderr %s", code, out, errs)
	}
	if code, out, errs := runCLI("eval", `<% $ + "!" %>`, "--context", `"hi"`); code != 0 || out != "hi!\n" {
		t.Errorf("string context: exit %d, out %q, stderr %s", code, out, errs)
	}
}

// --context-file reads a file as run's --input-file does: JSON first, then
// YAML with PyYAML's booleans (yes is true), the keys in written order.
func TestEvalContextFileYAML(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ctx.yaml")
	if err := os.WriteFile(p, []byte("ok: yes\nzed: 1\nalpha: [2, 3]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("eval", "--json", `<% $ %>`, "--context-file", p)
	if want := `{"ok": true, "zed": 1, "alpha": [2, 3]}`; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("YAML --context-file: exit %d, out %q (want %s), stderr %s", code, out, want, errs)
	}
	if err := os.WriteFile(p, []byte("a: [1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("eval", `<% $ %>`, "--context-file", p); code != exitUsage || !strings.Contains(errs, "neither JSON nor YAML") {
		t.Errorf("a broken file: exit %d, stderr %q", code, errs)
	}
	missing := filepath.Join(t.TempDir(), "none.json")
	if code, _, errs := runCLI("eval", `<% $ %>`, "--context-file", missing); code != exitUsage || !strings.Contains(errs, "--context-file: open "+missing) {
		t.Errorf("a missing file: exit %d, stderr %q", code, errs)
	}
}

func TestEvalErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"eval", `<% 1 / 0 %>`}, exitFailure, "division by zero"},
		{[]string{"eval", `<% $.a.b %>`, "--context", `{"a": 1}`}, exitFailure, `cannot evaluate "<% $.a.b %>"`},
		{[]string{"eval", `<% 1 + %>`}, exitUsage, "invalid expression"},
		{[]string{"eval", `<% $ %>`, "--context", `{bad`}, exitUsage, "--context is not valid JSON"},
		{[]string{"eval", `<% $ %>`, "--context", `{}`, "--context-file", "x"}, exitUsage, "cannot be used together"},
		{[]string{"eval"}, exitUsage, "exactly one expression"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != c.code || out != "" || !strings.Contains(errs, c.msg) {
			t.Errorf("%q: exit %d (want %d), out %q, stderr %q (want %q)", c.args, code, c.code, out, errs, c.msg)
		}
	}
}

// Text without <% %> or {{ }} is a value and prints as it is (exit 0), but
// what eval was given is most likely an expression without its
// delimiters: stderr says how to write it. An expression gets no note.
func TestEvalPlainTextNotesTheDelimiters(t *testing.T) {
	code, out, errs := runCLI("eval", "$.xs.sum()", "--context", `{"xs": [1, 2]}`)
	if code != exitOK || out != "$.xs.sum()\n" || !strings.Contains(errs, "'<% $.xs.sum() %>'") {
		t.Errorf("exit %d, out %q, stderr %q; want the text, and a note naming '<%% $.xs.sum() %%>'", code, out, errs)
	}
	if _, _, errs := runCLI("eval", "<% $.xs.sum() %>", "--context", `{"xs": [1, 2]}`); errs != "" {
		t.Errorf("an expression got a note: %q", errs)
	}
}
