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
