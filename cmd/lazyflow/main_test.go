package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// A workflow that pauses ends the run (nothing in it can resume): exit 3
// with PAUSED, not a wait forever.
func TestRunStopsAtPause(t *testing.T) {
	p := write(t, `version: '2.0'
wf:
  tasks:
    before:
      action: std.noop
      on-success:
        - pause
        - after
    after:
      action: std.noop
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"run", p}, &out, &errb)
	if code != 3 || !strings.Contains(out.String(), ": PAUSED") || !strings.Contains(out.String(), "can resume") {
		t.Fatalf("exit %d, out %q, stderr %q; want 3 and PAUSED", code, out.String(), errb.String())
	}
}

// Each task's state is printed once, live or at the end; a task started
// with the fail command is waited for.
func TestRunPrintsEachStateOnceAndWaitsForNotify(t *testing.T) {
	p := write(t, `version: '2.0'
wf:
  tasks:
    work:
      action: std.fail
      on-error:
        - notify
        - fail
    notify:
      action: std.sleep seconds=0.3
`)
	code, out, _ := runCLI("run", p)
	if code != 3 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if strings.Count(out, "ERROR     work") != 1 || !strings.Contains(out, "SUCCESS   notify") {
		t.Fatalf("progress %q: want work's ERROR once and notify's SUCCESS", out)
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

// validate knows the aws.* actions and their inputs on a machine with no
// AWS region or credentials: the example app's workflow passes, and a bad
// call to an AWS action is refused at its position like a std.* one.
func TestValidateAWSActionsOffline(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	code, out, errs := runCLI("validate", "../../examples/aws-app/workflows/order.yaml")
	if code != 0 || !strings.Contains(out, "order.yaml: ok") {
		t.Fatalf("validate order.yaml: exit %d out %q err %q", code, out, errs)
	}
	p := write(t, `version: '2.0'
wf:
  tasks:
    send:
      action: aws.sqs.send_message
      input:
        message_bodi: hello
    call:
      action: aws.lambda.invok function_name=f
`)
	code, _, errs = runCLI("validate", p)
	for _, want := range []string{
		`wf.yaml:4:5: task "send" gives action "aws.sqs.send_message" the input "message_bodi", which it does not take (did you mean "message_body"?)`,
		`wf.yaml:4:5: task "send" calls action "aws.sqs.send_message" without its required input "queue_url", "message_body"`,
		`wf.yaml:8:5: task "call" calls action "aws.lambda.invok", which does not exist (did you mean "aws.lambda.invoke"?)`,
	} {
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("validate: exit %d, stderr lacks %q:\n%s", code, want, errs)
		}
	}
}

// A workbook with calls that lack a required input loads, as in Mistral
// 23.0.0: validate warns (exit 0), validate --strict refuses it (exit 2,
// file:line:col), the workbook's other workflows run, and the call fails
// when its task runs with Mistral's "Invalid input" message.
func TestMissingCallInputWarnsAndStrict(t *testing.T) {
	p := "../../core/engine/testdata/fidelity/workbook-missing-input.yaml"
	code, out, errs := runCLI("validate", p)
	if code != 0 || !strings.Contains(out, "ok") || !strings.Contains(errs, `workbook-missing-input.yaml:23:7: warning: task "call" calls workflow "needs" without its required input "a"`) {
		t.Fatalf("validate: exit %d out %q err %q", code, out, errs)
	}
	code, _, errs = runCLI("validate", "--strict", p)
	if code != 2 || !strings.Contains(errs, `workbook-missing-input.yaml:23:7: task "call" calls workflow "needs" without its required input "a"`) {
		t.Fatalf("validate --strict: exit %d err %q", code, errs)
	}
	if code, _, errs = runCLI("run", p, "--workflow", "good"); code != 0 {
		t.Fatalf("run good: exit %d err %q", code, errs)
	}
	code, out, _ = runCLI("run", p, "--workflow", "bad_sub_oc", "--json")
	if code != 3 || !strings.Contains(out, `Invalid input [name=needs, class=DirectWorkflowSpec, missing=['a']]`) {
		t.Fatalf("run bad: exit %d out %q", code, out)
	}
}

// TestRunJSONKeepsDictOrder: run --json shows dicts in the order they were
// written (the input's JSON, the publish and output clauses), as Mistral.
func TestRunJSONKeepsDictOrder(t *testing.T) {
	p := write(t, `version: '2.0'
wf:
  input:
    - doc
  output:
    zulu: <% $.doc %>
    alpha: 1
  tasks:
    t1:
      action: std.noop
      publish:
        second: <% $.doc.b %>
        first: 2
`)
	code, out, errs := runCLI("run", p, "--input", `{"doc": {"b": {"y": 1, "x": 2}, "a": 3}}`, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, want := range []string{
		`"output":{"zulu":{"b":{"y":1,"x":2},"a":3},"alpha":1}`,
		`"published":{"second":{"y":1,"x":2},"first":2}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s: %s", want, out)
		}
	}
}

// inputEcho outputs its execution's input.
const inputEcho = `version: '2.0'
wf:
  input:
    - zed
    - mid
    - alpha: 3
  output: <% execution().input %>
  tasks:
    t:
      action: std.noop
`

// The input given with --input keeps the order it was written in, the
// workflow's defaults after it, as the execution shows it.
func TestRunInputKeepsOrder(t *testing.T) {
	p := write(t, inputEcho)
	code, out, errs := runCLI("run", p, "--input", `{"mid": 1, "zed": 0}`, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if want := `"output":{"mid":1,"zed":0,"alpha":3}`; !strings.Contains(out, want) {
		t.Fatalf("report %s lacks %s", out, want)
	}
}

// --input-file reads YAML as well as JSON, keeping the order of its keys
// and reading yes as true, as Mistral's client (PyYAML) does.
func TestRunInputFileYAML(t *testing.T) {
	p := write(t, inputEcho)
	in := filepath.Join(t.TempDir(), "input.yaml")
	if err := os.WriteFile(in, []byte("mid: yes\nzed:\n  - 1\n  - b: 2\n    a: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("run", p, "--input-file", in, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if want := `"output":{"mid":true,"zed":[1,{"b":2,"a":3}],"alpha":3}`; !strings.Contains(out, want) {
		t.Fatalf("report %s lacks %s", out, want)
	}
	if err := os.WriteFile(in, []byte("a: [1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("run", p, "--input-file", in); code != exitUsage || !strings.Contains(errs, "neither JSON nor YAML") {
		t.Fatalf("a broken file: exit %d, %s", code, errs)
	}
}

// `lazyflow CMD --help` is a request, not a mistake: the command's usage
// line and every option go to stdout, and the exit status is 0.
func TestSubcommandHelp(t *testing.T) {
	for cmd, opts := range map[string][]string{
		"run":      {"--workflow", "--input", "--input-file", "--task", "--json", "--timeout"},
		"validate": {"--strict"},
		"serve":    {"--addr", "--data", "--retention", "--drain", "--inline-steps", "--log-level"},
		"graph":    {"--workflow", "--format"},
		"ui":       {"--api", "--addr", "--profile", "--region"},
		"eval":     {"--context", "--context-file", "--json"},
	} {
		for _, h := range []string{"--help", "-h"} {
			code, out, errs := runCLI(cmd, h)
			if code != exitOK || errs != "" {
				t.Errorf("%s %s: exit %d, stderr %q; want 0 and nothing on stderr", cmd, h, code, errs)
			}
			if !strings.Contains(out, "lazyflow "+cmd+" ") || strings.Count(out, "lazyflow ") != 1 {
				t.Errorf("%s %s: want only its own usage line, got %q", cmd, h, out)
			}
			for _, o := range opts {
				if !strings.Contains(out, "  "+o+" ") {
					t.Errorf("%s %s: option %s not listed in %q", cmd, h, o, out)
				}
			}
		}
	}
	if code, out, _ := runCLI("help", "graph"); code != exitOK || !strings.Contains(out, "--format FORMAT") {
		t.Errorf("help graph: exit %d, %q; want graph --help", code, out)
	}
	if code, _, errs := runCLI("help", "frob"); code != exitUsage || !strings.Contains(errs, `unknown command "frob"`) {
		t.Errorf("help frob: exit %d, stderr %q", code, errs)
	}
	if _, out, _ := runCLI("serve", "--help"); !strings.Contains(out, "(default 127.0.0.1:8080)") {
		t.Errorf("serve --help does not give --addr's default: %q", out)
	}
}

// A mistake in a command's options names the command and the option as
// written (two dashes), and shows that command's usage, not all six.
func TestUnknownOptionNamesCommand(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"run ../../examples/hello.yaml --frob", "run: unknown option --frob"},
		{"validate --frob ../../examples/hello.yaml", "validate: unknown option --frob"},
		{"eval --context", "eval: option --context needs a value"},
		{"serve --drain soon", "serve: invalid value \"soon\" for option --drain"},
	} {
		code, _, errs := runCLI(strings.Fields(c.args)...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
		cmd := strings.Fields(c.args)[0]
		if !strings.Contains(errs, "lazyflow "+cmd+" ") || strings.Contains(errs, "lazyflow ui ") && cmd != "ui" {
			t.Errorf("%s: want the command's own usage line, got %q", c.args, errs)
		}
	}
}

func TestValidateCountsInEnglish(t *testing.T) {
	_, out, _ := runCLI("validate", "../../examples/hello.yaml")
	if !strings.Contains(out, "ok (1 workflow, 0 actions)") {
		t.Errorf("validate: %q", out)
	}
}

// Every workflow file under examples/ is one the README tells a newcomer to
// use as it is: each must validate, even with --strict.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		if code, _, errs := runCLI("validate", "--strict", f); code != exitOK {
			t.Errorf("%s: exit %d, stderr %q", f, code, errs)
		}
	}
}

// A run the workflow refuses to start says which option gives what is
// missing: the input for a required one, --task for a reverse workflow.
func TestRunRefusedStartNamesTheOption(t *testing.T) {
	needsInput := write(t, "version: '2.0'\nwf:\n  input: [name]\n  tasks:\n    a:\n      action: std.noop\n")
	reverse := write(t, "version: '2.0'\nrev:\n  type: reverse\n  tasks:\n    a:\n      action: std.noop\n    b:\n      action: std.noop\n      requires: [a]\n")
	// Its input is checked before its target: given neither, the input is
	// what is refused, and --task would not give it.
	reverseInput := write(t, "version: '2.0'\nrev:\n  type: reverse\n  input: [x]\n  tasks:\n    a:\n      action: std.noop\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", needsInput}, "missing required input name (workflow wf takes name, given as --input JSON or --input-file PATH)"},
		{[]string{"run", reverse}, "needs a target task: name the task to reach with --task (one of a, b)"},
		{[]string{"run", reverse, "--task", "c"}, "name the task to reach with --task (one of a, b)"},
		{[]string{"run", reverseInput}, "missing required input x (workflow rev takes x, given as --input JSON or --input-file PATH)"},
		{[]string{"run", reverseInput, "--input", `{"x": 1}`}, "needs a target task: name the task to reach with --task (one of a)"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Contains(errs, ": invalid input") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args[1:], code, errs, c.want)
		}
	}
}

// --workflow naming no workflow of the file lists the file's workflows,
// each once.
func TestRunUnknownWorkflowListsTheFiles(t *testing.T) {
	code, _, errs := runCLI("run", "../../examples/my_workbook.yaml", "--workflow", "my_wff")
	if code != exitUsage || !strings.Contains(errs, `no workflow "my_wff" in this definition (it has only "my_wf")`) || strings.Count(errs, `"my_wf"`) != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
