package dsl

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

const structureSrc = `version: '2.0'
wf:
  input:
    - x
    - y: 5
  vars:
    v: <% $.x %>
  output:
    r: <% $.r %>
  task-defaults:
    on-error: handle
    retry: count=3 delay=<% $.y %>
    timeout: 10
  tasks:
    a:
      action: std.echo output="hi there" n=3 flag=true l=[1, 2] e=<% $.x %>
      input:
        extra: 1
      on-success:
        publish:
          branch:
            p: <% task().result %>
          global:
            g: 1
        next:
          - b: <% $.x > 1 %>
          - c
          - fail msg="stop <% $.x %>": <% $.x < 0 %>
      on-complete:
        publish:
          done: true
        next: [c]
      timeout: 5
    b:
      workflow: sub p=1
      with-items:
        - i in <% $.list %>
        - j in [1, 2, 3]
      concurrency: <% $.n %>
      on-success: c
      wait-before: 1
      keep-result: false
      safe-rerun: true
      pause-before: <% $.pause %>
    c:
      join: all
      retry:
        count: <% $.n %>
        break-on: <% $.stop %>
    handle:
      action: std.noop
      on-complete:
        - succeed
`

func TestStructure(t *testing.T) {
	doc, err := Load("s.yaml", []byte(structureSrc))
	if err != nil {
		t.Fatal(err)
	}
	wf := doc.Main()
	ctx := &expr.Context{Data: map[string]any{"x": int64(2), "y": int64(7), "r": "R"}}
	eval := func(v *expr.Value) any {
		t.Helper()
		r, err := v.Eval(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if len(wf.Input) != 2 || wf.Input[0].HasDefault || !wf.Input[1].HasDefault || !value.Equal(eval(wf.Input[1].Default), int64(5)) {
		t.Fatalf("input %+v", wf.Input)
	}
	if !value.Equal(eval(wf.Vars), map[string]any{"v": int64(2)}) || !value.Equal(eval(wf.Output), map[string]any{"r": "R"}) {
		t.Fatal("vars/output")
	}
	a := wf.Tasks["a"]
	wantInput := map[string]any{"output": "hi there", "n": int64(3), "flag": true, "l": []any{int64(1), int64(2)}, "e": int64(2), "extra": int64(1)}
	if a.Action != "std.echo" || !value.Equal(eval(a.Input), wantInput) {
		t.Fatalf("a: %s %v", a.Action, eval(a.Input))
	}
	if a.Publish == nil || a.Publish.Expressions()[0] != "<% task().result %>" {
		t.Fatal("a publish branch")
	}
	if !value.Equal(eval(a.PublishGlobal), map[string]any{"g": int64(1)}) {
		t.Fatal("a publish global")
	}
	if len(a.OnSuccess) != 3 || a.OnSuccess[0].Task != "b" || a.OnSuccess[0].Condition == nil || a.OnSuccess[1].Task != "c" || a.OnSuccess[1].Condition != nil {
		t.Fatalf("a on-success %+v", a.OnSuccess)
	}
	fail := a.OnSuccess[2]
	if fail.Command != CmdFail || eval(fail.Msg) != "stop 2" || fail.Condition == nil {
		t.Fatalf("fail transition %+v", fail)
	}
	// The advanced on-complete's publish goes into the publish of both outcomes.
	if len(a.OnComplete) != 1 || a.OnComplete[0].Task != "c" || !value.Equal(eval(a.PublishOnError), map[string]any{"done": true}) ||
		!value.Equal(a.Publish.Source(), value.MapFromPairs("p", "<% task().result %>", "done", true)) {
		t.Fatalf("advanced on-complete %+v", a.OnComplete)
	}
	// task-defaults: on-error and retry come from defaults, timeout is the task's own.
	if len(a.OnError) != 1 || a.OnError[0].Task != "handle" || eval(a.Timeout) != int64(5) {
		t.Fatalf("defaults not merged: %+v timeout %v", a.OnError, eval(a.Timeout))
	}
	if a.Retry == nil || eval(a.Retry.Count) != int64(3) || eval(a.Retry.Delay) != int64(7) {
		t.Fatal("retry one-line form from task-defaults")
	}
	// handle is the target of the default on-error: Mistral drops it from its own.
	if h := wf.Tasks["handle"]; len(h.OnError) != 0 || len(h.OnComplete) != 1 || h.OnComplete[0].Command != CmdSucceed {
		t.Fatalf("handle: %+v %+v", h.OnError, h.OnComplete)
	}
	b := wf.Tasks["b"]
	if b.Workflow != "sub" || b.Action != "" || !value.Equal(eval(b.Input), map[string]any{"p": int64(1)}) {
		t.Fatalf("b workflow %q input", b.Workflow)
	}
	if len(b.WithItems) != 2 || b.WithItems[0].Var != "i" || b.WithItems[1].Var != "j" || !value.Equal(eval(b.WithItems[1].List), []any{int64(1), int64(2), int64(3)}) {
		t.Fatalf("with-items %+v", b.WithItems)
	}
	if b.Concurrency.IsConst() || eval(b.WaitBefore) != int64(1) || eval(b.KeepResult) != false || !b.SafeRerun || b.PauseBefore.IsConst() {
		t.Fatal("b policies")
	}
	c := wf.Tasks["c"]
	if c.Join != JoinAll || c.Action != "std.noop" || c.Retry.BreakOn == nil || eval(c.Timeout) != int64(10) {
		t.Fatalf("c: %+v", c)
	}
	if got := wf.Inbound["c"]; len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("inbound c = %v", got)
	}
	if len(wf.StartTasks) != 1 || wf.StartTasks[0] != "a" {
		t.Fatalf("start %v", wf.StartTasks)
	}
}

func TestWorkbookLookup(t *testing.T) {
	doc, err := Load("wb.yaml", []byte(`version: '2.0'
name: wb
actions:
  hello:
    base: std.echo output="Hello <% $.who %>"
    input: [who]
    output: <% $ %>
workflows:
  first:
    type: reverse
    task-defaults:
      requires: [init]
    tasks:
      init:
        action: wb.hello who=me
      work:
        action: std.noop
  second:
    tasks:
      t:
        workflow: wb.first
`))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Main().Name != "first" {
		t.Fatal("Main is not the first workflow")
	}
	if wf, err := doc.Workflow("wb.second"); err != nil || wf.Name != "second" {
		t.Fatal("prefixed lookup")
	}
	if _, err := doc.Workflow("sekond"); err == nil {
		t.Fatal("unknown workflow found")
	}
	if a := doc.Action("wb.hello"); a == nil || a.Base != "std.echo" || len(a.Input) != 1 {
		t.Fatal("ad-hoc action")
	}
	first := doc.Workflows["first"]
	if r := first.Tasks["work"].Requires; len(r) != 1 || r[0] != "init" {
		t.Fatalf("requires from defaults: %v", r)
	}
	if r := first.Tasks["init"].Requires; len(r) != 0 {
		t.Fatalf("init must not require itself: %v", r)
	}
}
