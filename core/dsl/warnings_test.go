package dsl

import (
	"os"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

// What Mistral accepts but looks like a mistake loads, with a warning: an
// unknown workflow key far from any known one, a '<%' never closed (kept
// as text), requires in a direct workflow's task-defaults. A key close to a
// known one is still a misspelling, and an error.
func TestWarnings(t *testing.T) {
	doc := wantWarnings(t, `version: '2.0'
wf:
  source: "print('x')"
  task-defaults:
    requires: [t1]
  tasks:
    t1:
      action: std.echo
      input:
        output: <% $.get('status', 'SUCCESS')
`, `w.yaml:3:3: unknown key "source" in workflow "wf" is ignored (as Mistral ignores it)`,
		`w.yaml:5:5: requires in task-defaults is ignored: workflow "wf" is direct`,
		`w.yaml:10:9: "<% $.get('status', 'SUCCESS')" has a '<%' with no closing '%>': it is kept as plain text, as Mistral keeps it`)
	v, err := doc.Workflows["wf"].Tasks["t1"].Input.Eval(nil)
	if err != nil || v.(*value.Map).Value("output") != "<% $.get('status', 'SUCCESS')" {
		t.Fatalf("input %v, %v: want the text as written", v, err)
	}
	_, err = Load("w.yaml", []byte("version: '2.0'\nwf:\n  ouptut: {}\n  tasks:\n    t1:\n      action: std.noop\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown key "ouptut" in workflow "wf" (did you mean "output"?)`) {
		t.Fatalf("a misspelt workflow key: %v", err)
	}
}

// A retry delay may be a fraction of a second, in both forms.
func TestRetryDelaySeconds(t *testing.T) {
	doc, err := Load("r.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      retry: delay=0.1 count=3\n    b:\n      action: std.noop\n      retry: {count: 1, delay: 0.5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{"a": 0.1, "b": 0.5} {
		if v, err := doc.Workflows["wf"].Tasks[name].Retry.Delay.Eval(nil); err != nil || v != want {
			t.Errorf("task %s delay %v, %v; want %v", name, v, err, want)
		}
	}
	if _, err := Load("r.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      retry: {count: 1, delay: -0.5}\n")); err == nil {
		t.Error("a negative delay loaded")
	}
}

// An on-clause's atomic publish is parsed and ignored, as in Mistral, with
// a warning.
func TestAtomicPublishWarns(t *testing.T) {
	doc, err := Load("a.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      on-success:\n        publish:\n          atomic:\n            x: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0].Msg, "atomic publish in on-success is ignored") {
		t.Fatalf("warnings %v", doc.Warnings)
	}
}

// A task's own publish, publish-on-error and publish-on-skip are variables
// whatever their names, as Mistral 23.0.0 publishes them: branch, global and
// atomic there are plain variables, and one holding a mapping (the scoped
// form, which only an on-clause reads) is warned about at its place.
func TestTopLevelPublishScopeNamesArePlainVariables(t *testing.T) {
	doc, err := Load("p.yaml", []byte(`version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      publish:
        global: {g: 1}
        branch: <% 'main' %>
      publish-on-error:
        atomic: {x: 1}
        branch: {b: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	a := doc.Workflows["wf"].Tasks["a"]
	if a.PublishGlobal != nil || a.PublishOnErrorGlobal != nil {
		t.Fatal("a top-level publish gave a global scope")
	}
	checkEvals(t, map[string]evalWant{
		"publish":          {a.Publish, `{"global": {"g": 1}, "branch": "main"}`},
		"publish-on-error": {a.PublishOnError, `{"atomic": {"x": 1}, "branch": {"b": 2}}`},
	})
	var got []string
	for _, w := range doc.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		`p.yaml:7:9: publish of task "a": global at the top level is a plain variable named "global" in Mistral, not a scope; use on-success: {publish: {global: ...}, next: ...} for scoped publishing`,
		`p.yaml:10:9: publish-on-error of task "a": atomic at the top level is a plain variable named "atomic" in Mistral, not a scope; use on-error: {publish: {atomic: ...}, next: ...} for scoped publishing`,
		`p.yaml:11:9: publish-on-error of task "a": branch at the top level is a plain variable named "branch" in Mistral, not a scope; use on-error: {publish: {branch: ...}, next: ...} for scoped publishing`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A call of a sub-workflow or ad-hoc action without a required input loads,
// as in Mistral 23.0.0 (which fails only that task, when it runs), with a
// warning at the call, so the document's other workflows can run.
func TestMissingCallInputWarns(t *testing.T) {
	for file, want := range map[string]string{
		"missing-subworkflow-input.yaml":  `missing-subworkflow-input.yaml:6:7: task "call" calls workflow "child" without its required input "a" (the task will fail when it runs)`,
		"missing-adhoc-action-input.yaml": `missing-adhoc-action-input.yaml:13:7: task "hello" calls action "greet" without its required input "name" (the task will fail when it runs)`,
	} {
		src, err := os.ReadFile("testdata/warn/" + file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Load(file, src)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(doc.Warnings) != 1 || doc.Warnings[0].Error() != want {
			t.Errorf("%s: warnings %v, want %s", file, doc.Warnings, want)
		}
	}
}

// A join all that only one task reaches loads with a warning: Mistral
// 23.0.0 runs it once that task completes (test_join
// test_join_saving_task_context_with_all).
func TestJoinOneInboundWarns(t *testing.T) {
	src, err := os.ReadFile("testdata/warn/join-single-inbound.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Load("join-single-inbound.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	want := `join-single-inbound.yaml:8:13: task "b" has join but only one task leads to it: it runs as soon as that task completes, as in Mistral`
	if len(doc.Warnings) != 1 || doc.Warnings[0].Error() != want {
		t.Fatalf("warnings %v, want %s", doc.Warnings, want)
	}
}

// A publish goes only into the scopes of the publish it merges into, as
// Mistral 23.0.0 merges them (DirectWorkflowTaskSpec.get_publish): beside
// the task's own publish, on-complete's global is dropped, and an
// on-clause's publish without a branch drops the task's own publish and
// on-complete's branch. Each drop loads with a warning at its place.
func TestClausePublishDropsScopesAsMistral(t *testing.T) {
	t1, warnings := taskOf(t, "d.yaml", `version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish: {p: 1}
      on-success:
        publish:
          global: {g: 1}
        next: t2
      on-complete:
        publish:
          branch: {c: 1}
          global: {cg: 1}
    t2:
      action: std.noop
`, "t1")
	checkEvals(t, map[string]evalWant{
		"success branch": {t1.Publish, "null"},
		"success global": {t1.PublishGlobal, `{"g": 1}`},
		"error branch":   {t1.PublishOnError, `{"c": 1}`},
		"error global":   {t1.PublishOnErrorGlobal, `{"cg": 1}`},
	})
	var got []string
	for _, w := range warnings {
		got = append(got, w.Error())
	}
	want := []string{
		`d.yaml:9:11: when task "t1" succeeds, its on-success publish has no branch, so the task's own publish and on-complete's branch publish are dropped, as Mistral drops them; put them under on-success: publish: branch:`,
		`d.yaml:13:11: when task "t1" succeeds, the global publish of its on-complete is dropped, as Mistral drops it beside the task's own publish (it merges only on-complete's branch into it); publish it from on-success or give the task no publish`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An empty publish is no publish, as Mistral's get_publish tests the
// clause's truth: on-complete's global is kept beside it, without a warning.
func TestEmptyOwnPublishKeepsOnCompleteGlobal(t *testing.T) {
	t1, warnings := taskOf(t, "d.yaml", `version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish: {}
      on-complete:
        publish:
          global: {g: 2}
`, "t1")
	checkEvals(t, map[string]evalWant{
		"success global": {t1.PublishGlobal, `{"g": 2}`},
		"error global":   {t1.PublishOnErrorGlobal, `{"g": 2}`},
	})
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
}

// A call of a workflow the file does not define loads, as in Mistral (it
// may be registered on its own), but a name one typo away from one the
// file defines is warned of at the task; other names and names given by an
// expression are not.
func TestMisspeltSubWorkflowWarns(t *testing.T) {
	doc, err := Load("w.yaml", []byte(`version: '2.0'
main:
  tasks:
    a:
      workflow: sbu
    b:
      workflow: billing.charge
    c:
      workflow: <% $.callee %>
sub:
  tasks:
    x:
      action: std.noop
`))
	if err != nil {
		t.Fatal(err)
	}
	want := `w.yaml:4:5: task "a" calls workflow "sbu", which this file does not define (did you mean "sub"?); the task fails when it runs unless a workflow "sbu" is registered`
	if len(doc.Warnings) != 1 || doc.Warnings[0].Error() != want {
		t.Fatalf("warnings %v, want only:\n%s", doc.Warnings, want)
	}
}

// A publish or output value that reads as an expression without <% %>
// ($.x, task().result) is kept as text, as Mistral keeps it, with a warning
// at the value; text that only starts with $ ($5 fee) and an action's input
// (a JSONPath query is $.a.b) are left alone.
func TestBareExpressionWarns(t *testing.T) {
	wantWarnings(t, `version: '2.0'
wf:
  output:
    r: $.x
    fee: $5 fee
  tasks:
    a:
      action: std.echo
      input:
        output: $.a.b
      publish:
        x: task().result
        y: <% $.z %>
      on-success:
        publish:
          branch:
            z: $.q
        next: b
    b:
      action: std.noop
`, `w.yaml:4:8: output of workflow "wf": key "r" is the text "$.x": an expression needs <% %> (<% $.x %>) or {{ }}`,
		`w.yaml:12:12: publish of task "a": variable "x" is the text "task().result": an expression needs <% %> (<% task().result %>) or {{ }}`,
		`w.yaml:17:16: on-success publish branch: variable "z" is the text "$.q": an expression needs <% %> (<% $.q %>) or {{ }}`)
}

// wantWarnings loads src as w.yaml and wants exactly these warnings, in
// order.
func wantWarnings(t *testing.T, src string, want ...string) *Document {
	t.Helper()
	doc, err := Load("w.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range doc.Warnings {
		got = append(got, w.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return doc
}
