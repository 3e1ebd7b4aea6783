package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

// TestMistralExamples loads every example kept from Mistral's documentation
// and test resources; each must load and validate without errors.
func TestMistralExamples(t *testing.T) {
	for _, dir := range []string{"testdata/mistral-doc", "testdata/mistral-resources", "testdata/valid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Load(f, src)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if doc.Main() == nil && len(doc.Actions) == 0 {
				t.Errorf("%s: no workflow or action loaded", f)
			}
		}
	}
}

// Mistral 23.0.0 loads an inline parameter with a space after '='
// (test_dataflow test_empty_with_items: `std.echo output= "Task 1"`); the
// value is read as written.
func TestInlineParamSpaceAfterEquals(t *testing.T) {
	doc, err := Load("w.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo output= \"Task 1\" n=  2\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := doc.Workflows["wf"].Tasks["t1"].Input.Eval(nil)
	m, _ := v.(*value.Map)
	if err != nil || m.Value("output") != "Task 1" || m.Value("n") != int64(2) {
		t.Fatalf("input %#v, %v", v, err)
	}
}

// An inline value Mistral 23.0.0's pattern does not read whole (a bare
// word, a {map}, True, -1, 1.5) is read as written, with a warning that
// Mistral does not read it so and how to write it for both. Found by
// TestWorkflowDraws: `std.echo output=ab` echoes "ab" where Mistral's task
// fails for want of output.
func TestInlineParamsMistralDoesNotRead(t *testing.T) {
	doc, err := Load("w.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    t1:\n"+
		"      action: 'std.echo output=\"ok\" a=ab b={q: 1} c=True d=-1 e=1.5 f=12 g=null h=[1]'\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkEvals(t, map[string]evalWant{
		"t1 input": {doc.Workflows["wf"].Tasks["t1"].Input, `{"output": "ok", "a": "ab", "b": {"q": 1}, "c": true, "d": -1, "e": 1.5, "f": 12, "g": null, "h": [1]}`},
	})
	var got []string
	for _, w := range doc.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		`w.yaml:5:15: task "t1": inline parameter a=ab: Mistral 23.0 ignores it (an inline value there is quoted text, an expression, a [list], digits, true, false or null); write a='ab' or give it under input: to run the same on both`,
		`inline parameter b={q: 1}: Mistral 23.0 ignores it`, `inline parameter c=True: Mistral 23.0 ignores it`,
		`inline parameter d=-1: Mistral 23.0 ignores it`, `inline parameter e=1.5: Mistral 23.0 reads it as e=1`,
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("no warning %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// Inline parameters merge into the input clause as Mistral 23.0.0's
// merge_dicts(input, inline) merges them: the clause's names in its order,
// an inline value winning over the clause's in that name's place (two dicts
// merge key by key), the other inline names after. A string input merges
// the same way.
func TestInlineParamsWinOverInput(t *testing.T) {
	doc, err := Load("w.yaml", []byte(`version: '2.0'
wf:
  tasks:
    t1:
      workflow: "sub z=1 a=2 d={q: 1, p: 2}"
      input:
        m: 0
        a: 9
        d: {p: 0, r: 3}
    t2:
      action: std.echo output=1
      input: output=2 extra=3
sub:
  input: [m, a, z, d]
  tasks:
    x:
      action: std.noop
`))
	if err != nil {
		t.Fatal(err)
	}
	tasks := doc.Workflows["wf"].Tasks
	checkEvals(t, map[string]evalWant{
		"t1 input": {tasks["t1"].Input, `{"m": 0, "a": 2, "d": {"p": 2, "r": 3, "q": 1}, "z": 1}`},
		"t2 input": {tasks["t2"].Input, `{"output": 1, "extra": 3}`},
	})
}

// An on-clause's publish merges with the task's own as Mistral 23.0.0's
// get_publish merges them (merge_dicts(on_clause, own)): the on-clause's
// names first, the task's own value winning, two dicts merged key by key.
func TestOnClausePublishMergesUnderTheTasksOwn(t *testing.T) {
	t1, _ := taskOf(t, "w.yaml", `version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish: {x: 1, y: 1, n: {a: 1}}
      publish-on-error: {e: 1}
      on-success:
        publish:
          branch: {x: 2, z: 2, n: {b: 2, a: 0}}
        next: t2
      on-error:
        publish: {branch: {e: 2, f: 2}}
    t2:
      action: std.noop
`, "t1")
	checkEvals(t, map[string]evalWant{
		"publish":          {t1.Publish, `{"x": 1, "z": 2, "n": {"b": 2, "a": 1}, "y": 1}`},
		"publish-on-error": {t1.PublishOnError, `{"e": 1, "f": 2}`},
	})
}
