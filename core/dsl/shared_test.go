package dsl

import (
	"reflect"
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// TestSameExpressionInTwoTasks checks that tasks repeating one expression
// text (compiled once per load) still evaluate independently.
func TestSameExpressionInTwoTasks(t *testing.T) {
	src := `version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=<% $.x %>
      publish:
        r: <% $.x %>
        s: "<% $.x %>-a"
        j: "{{ _.x }}"
      on-success:
        - b: <% $.x > 1 %>
    b:
      action: std.echo output=<% $.x %>
      publish:
        r: <% $.x %>
        s: "<% $.x %>-b"
        j: "{{ _.x }}"
`
	doc, err := Load("wf.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	wf := doc.Main()
	for i, name := range []string{"a", "b"} {
		x := int64(i + 1)
		ctx := &expr.Context{Data: map[string]any{"x": x}}
		task := wf.Tasks[name]
		got, err := task.Publish.Eval(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// In the order the publish clause is written.
		want := value.MapFromPairs("r", x, "s", map[int64]string{1: "1-a", 2: "2-b"}[x], "j", x)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("publish of %s = %v, want %v", name, got, want)
		}
		in, err := task.Input.Eval(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, value.MapFromPairs("output", x)) {
			t.Errorf("input of %s = %v", name, in)
		}
	}
}

// evalWant is what a value evaluates to with no context, as JSON in its own
// order.
type evalWant struct {
	v    *expr.Value
	json string
}

// checkEvals evaluates each value and compares it with what is wanted.
func checkEvals(t *testing.T, wants map[string]evalWant) {
	t.Helper()
	for what, w := range wants {
		v, err := w.v.Eval(nil)
		if got := value.JSON(v, -1, false); err != nil || got != w.json {
			t.Errorf("%s: %s, %v; want %s", what, got, err, w.json)
		}
	}
}

// taskOf loads src, which must load, and returns task name of workflow wf
// with the document's warnings.
func taskOf(t *testing.T, file, src, name string) (*Task, Errors) {
	t.Helper()
	doc, err := Load(file, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Workflows["wf"].Tasks[name], doc.Warnings
}
