package dsl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/dsl"
)

// With the action registry as catalog, calls of std actions are checked
// at validation, with their place, instead of failing at run time with
// "Invalid input"; unknown names outside std.* and inputs given as one
// expression are left to run time, as Mistral does.
func TestCatalogChecksStdActions(t *testing.T) {
	src := `version: '2.0'
name: wb
actions:
  greet:
    base: std.echo
    base-input:
      outptu: hi
  bad_base:
    base: std.slep
workflows:
  wf:
    tasks:
      a:
        action: std.ech output=1
        on-success: b
      b:
        action: std.echo outptu=1
        on-success: c
      c:
        action: std.sleep
        input:
          secs: 1
        on-success: d
      d:
        action: nova.servers_list
        on-success: e
      e:
        action: std.echo
        input: <% {output => 1} %>
        on-success: f
      f:
        action: greet
        on-success: g
      g:
        action: <% 'std.ech' %>
`
	want := []string{
		`wb.yaml:4:3: ad-hoc action "greet" calls action "std.echo" without its required input "output"`,
		`wb.yaml:4:3: ad-hoc action "greet" gives action "std.echo" the input "outptu", which it does not take (did you mean "output"?)`,
		`wb.yaml:8:3: ad-hoc action "bad_base" calls action "std.slep", which does not exist (did you mean "std.sleep"?)`,
		`wb.yaml:13:7: task "a" calls action "std.ech", which does not exist (did you mean "std.echo"?)`,
		`wb.yaml:16:7: task "b" calls action "std.echo" without its required input "output"`,
		`wb.yaml:16:7: task "b" gives action "std.echo" the input "outptu", which it does not take (did you mean "output"?)`,
		`wb.yaml:19:7: task "c" gives action "std.sleep" the input "secs", which it does not take (it takes "seconds")`,
	}
	_, err := dsl.LoadWith("wb.yaml", []byte(src), dsl.Options{Actions: actions.New()})
	var errs dsl.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want dsl.Errors, got %v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without a catalog the same file loads: stored definitions never stop loading.
	if _, err := dsl.Load("wb.yaml", []byte(src)); err != nil {
		t.Fatalf("plain Load: %v", err)
	}
}

// An aws.* action the host does not provide (lazyflow serve without an AWS
// region) is refused at validation, saying where AWS actions run; other
// unknown names stay run-time matters.
func TestCatalogRefusesAWSActionsTheHostLacks(t *testing.T) {
	src := `version: '2.0'
wf:
  tasks:
    a:
      action: aws.lambda.invoke function_name=f
      on-success: b
    b:
      action: my_pack.thing x=1
`
	_, err := dsl.LoadWith("wf.yaml", []byte(src), dsl.Options{Actions: actions.New()})
	var des dsl.Errors
	if !errors.As(err, &des) || len(des) != 1 || des[0].Pos.Line != 4 ||
		!strings.Contains(des[0].Msg, `"aws.lambda.invoke", which this host does not provide`) ||
		!strings.Contains(des[0].Msg, "AWS_REGION") {
		t.Fatalf("want one error at line 4 about aws.lambda.invoke, got %v", err)
	}
}
