package embedded_test

// Error handling and expression-function shapes pinned to what Mistral
// 23.0.0 itself did with these workflows, run in-process as its engine unit
// tests run (SQLite in memory, fake transport, local executor): the state of
// every task and of the workflow, and the user-visible state_info text.

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const fidelityOnComplete = `version: '2.0'
oc_only:
  tasks:
    t1:
      action: std.fail
      on-complete: [t2]
    t2:
      action: std.noop
oc_parent:
  tasks:
    sub:
      workflow: oc_only
      on-complete: [after]
    after:
      action: std.noop
oc_handled:
  tasks:
    t1:
      action: std.fail
      on-error: [e]
      on-complete: [t2]
    e:
      action: std.noop
    t2:
      action: std.noop
`

const fidelityPublish = `version: '2.0'
pub_err:
  tasks:
    t1:
      action: std.noop
      publish:
        x: <% unknown_fn() %>
      on-success: [s]
      on-error: [e]
      on-complete: [c]
    s:
      action: std.noop
    e:
      action: std.noop
    c:
      action: std.noop
pub_err_on_error:
  tasks:
    t1:
      action: std.fail
      publish-on-error:
        x: <% unknown_fn() %>
      on-error: [e]
      on-complete: [c]
    e:
      action: std.noop
    c:
      action: std.noop
pub_err_parallel:
  tasks:
    t1:
      action: std.async_noop
      publish:
        x: <% unknown_fn() %>
      on-complete: [c]
    slow:
      action: std.sleep seconds=1
      on-success: [after_slow]
    after_slow:
      action: std.noop
    c:
      action: std.noop
`

const fidelityShape = `version: '2.0'
shape:
  tasks:
    t1:
      description: first task
      tags: [a, b]
      action: std.echo output=1
      on-success: [t2]
    t2:
      action: std.noop
      publish:
        tkeys: <% task(t1).keys().orderBy($) %>
        skeys: <% task(t1).spec.keys().orderBy($) %>
        spec: <% task(t1).spec %>
        desc: <% task(t1).spec.description %>
        tags: <% task(t1).spec.tags %>
        type: <% task(t1).type %>
        tskeys: <% tasks().first().keys().orderBy($) %>
        ekeys: <% execution().keys().orderBy($) %>
        etasks: <% execution().spec.tasks.keys().orderBy($) %>
        eroot: <% execution().root_execution_id %>
        eparams: <% execution().params.keys().orderBy($) %>
        missing: <% task(nope) %>
`

// fidelityWorkbookFile is shared with the CLI's tests: a case's workflow
// given as a file in testdata is read from there.
const fidelityWorkbookFile = "../engine/testdata/fidelity/workbook-missing-input.yaml"

// The expectations below are what Mistral 23.0.0 gave for each workflow.
var fidelityCases = []struct {
	name, workflow, expect string
}{
	// A failed task with only on-complete: on-complete runs, but the error
	// is not handled, so the workflow ends ERROR, and so does its parent.
	{"on-complete does not handle an error", fidelityOnComplete, `
start: oc_only
expect:
  state: ERROR
  state_info: Fail action expected exception
  tasks: {t1: ERROR, t2: SUCCESS}`},
	{"the parent of a workflow failed after on-complete fails", fidelityOnComplete, `
start: oc_parent
expect:
  state: ERROR
  tasks: {sub: ERROR, after: SUCCESS}`},
	{"on-error handles an error, on-complete runs too", fidelityOnComplete, `
start: oc_handled
expect:
  state: SUCCESS
  tasks: {t1: ERROR, e: SUCCESS, t2: SUCCESS}`},
	// A publish that cannot be evaluated fails the task and the workflow:
	// neither on-success, on-error nor on-complete runs.
	{"a publish error fails the workflow", fidelityPublish, `
start: pub_err
expect:
  state: ERROR
  state_info: unknown_fn
  tasks: {t1: ERROR}
  task_info: {t1: unknown_fn}
  absent: [s, e, c]`},
	{"a publish-on-error error fails the workflow", fidelityPublish, `
start: pub_err_on_error
expect:
  state: ERROR
  tasks: {t1: ERROR}
  absent: [e, c]`},
	{"a publish error ends the workflow while a branch runs", fidelityPublish, `
start: pub_err_parallel
# t1 ends (as a delegate, when told) only once slow's action is claimed: an
# action not yet claimed is cancelled with the execution (README), and a
# loaded machine's runner may not have claimed it by then. Claimed, it
# outlives the end and is recorded.
steps: [{claimed: slow}, {complete: {task: t1, output: 1}}, {wait: ERROR}, {wait_task: {task: slow, state: SUCCESS}}]
expect:
  state: ERROR
  tasks: {t1: ERROR, slow: SUCCESS}
  absent: [c, after_slow]`},
	// task(), tasks() and execution() have Mistral's keys; spec is the
	// definition as written plus name, type and version.
	{"task() and execution() shapes", fidelityShape, `
start: shape
expect:
  state: SUCCESS
  published:
    t2:
      tkeys: [created_at, id, name, published, result, spec, state, state_info, type, updated_at, workflow_execution_id]
      skeys: [action, description, name, on-success, tags, type, version]
      spec: {description: first task, tags: [a, b], action: std.echo output=1, on-success: [t2], type: direct, name: t1, version: '2.0'}
      desc: first task
      tags: [a, b]
      type: ACTION
      tskeys: [created_at, id, name, published, result, spec, state, state_info, type, updated_at, workflow_execution_id]
      ekeys: [created_at, id, input, name, params, root_execution_id, spec, updated_at]
      etasks: [t1, t2]
      eroot: null
      eparams: [env, namespace]
      missing: null`},
	// A call without a required input: the workbook loads, its other
	// workflows run, and the call fails when its task runs.
	{"a workbook with a bad call runs its other workflows", fidelityWorkbookFile, `
start: wb.good
expect:
  state: SUCCESS
  tasks: {t: SUCCESS}`},
	{"a sub-workflow call without a required input fails its task", fidelityWorkbookFile, `
start: wb.bad_sub
expect:
  state: SUCCESS
  tasks: {call: ERROR, c: SUCCESS, e: SUCCESS}
  task_info: {call: "Invalid input [name=needs, class=DirectWorkflowSpec, missing=['a']]"}`},
	{"a failed sub-workflow call with only on-complete fails the workflow", fidelityWorkbookFile, `
start: wb.bad_sub_oc
expect:
  state: ERROR
  state_info: "Invalid input [name=needs, class=DirectWorkflowSpec, missing=['a']]"
  tasks: {call: ERROR, c: SUCCESS}`},
	{"an ad-hoc action call without a required input fails the workflow at once", fidelityWorkbookFile, `
start: wb.bad_adhoc
expect:
  state: ERROR
  state_info: "Failed to run task [error=Invalid input [name=wb.greet, class=mistral.actions.adhoc.AdHocAction, missing=['who']]"
  tasks: {call: ERROR}
  task_info: {call: "Invalid input [name=wb.greet, class=mistral.actions.adhoc.AdHocAction, missing=['who']]"}
  absent: [c]`},
}

func TestMistralFidelity(t *testing.T) {
	for _, fc := range fidelityCases {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			var c mistralCase
			if err := yaml.Unmarshal([]byte(fc.expect), &c); err != nil {
				t.Fatal(err)
			}
			c.Workflow = fc.workflow
			if strings.HasSuffix(fc.workflow, ".yaml") {
				src, err := os.ReadFile(fc.workflow)
				if err != nil {
					t.Fatal(err)
				}
				c.Workflow = string(src)
			}
			runMistralCase(t, &c)
		})
	}
}
