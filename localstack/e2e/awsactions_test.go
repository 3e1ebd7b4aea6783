//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lazyflow/lazyflow/functions/aws/awstest"
)

// UserFunction is the user's Lambda function the suite calls with the aws.* actions;
// deploy.sh lists its ARN in userFunctionArns, so the runner's role may invoke it.
const UserFunction = "lazyflow-e2e-user-fn"

// deployUserFunction creates the user's function (functions/aws/awsactions/testdata/userfn: it
// doubles n, fails on request, and answers a delegate event through its callback URL) as
// UserFunction, replacing an earlier run's.
func deployUserFunction(t *testing.T, ctx context.Context) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := awstest.DeployUserFunction(ctx, lambda.NewFromConfig(cfg), env.root, UserFunction); err != nil {
		t.Fatal(err)
	}
}

// TestLambdaInvokeThroughDeployedAPI: a workflow registered through the deployed, signed API
// calls the user's Lambda function with aws.lambda.invoke and gets its answer, and with
// aws.lambda.invoke_delegate finishes when the function posts to its callback URL (the
// stack's public /callbacks route).
func TestLambdaInvokeThroughDeployedAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	deployUserFunction(t, ctx)
	name := wf("lambda")
	register(t, `version: '2.0'
`+name+`:
  input: [n]
  tasks:
    call:
      action: aws.lambda.invoke function_name=`+UserFunction+` payload=<% {n => $.n} %>
      publish:
        doubled: <% task().result.doubled %>
      on-success: [delegate]
    delegate:
      action: aws.lambda.invoke_delegate function_name=`+UserFunction+` payload=<% {n => $.doubled} %>
      publish:
        tripled: <% task().result.tripled %>
  output:
    doubled: <% $.doubled %>
    tripled: <% $.tripled %>
`)
	e := waitTerminal(t, start(t, name, map[string]any{"n": 7}).ID)
	if e.State != "SUCCESS" {
		t.Fatalf("want SUCCESS, got %s (%s); tasks %s", e.State, e.StateInfo, TaskSummary(e))
	}
	if want := map[string]any{"doubled": 14, "tripled": 42}; !jsonEqual(e.Output, want) {
		t.Fatalf("output: want %v (the function's answer, then its callback), got %v", want, e.Output)
	}

	failing := wf("lambda_error")
	register(t, `version: '2.0'
`+failing+`:
  tasks:
    call:
      action: aws.lambda.invoke function_name=`+UserFunction+` payload=<% {fail => "no thumbnail"} %>
`)
	e = waitTerminal(t, start(t, failing, nil).ID)
	call, ok := e.TaskByName("call")
	if e.State != "ERROR" || !ok || !strings.Contains(call.StateInfo, `"errorType":"ResizeError"`) ||
		!strings.Contains(call.StateInfo, `"errorMessage":"no thumbnail"`) {
		t.Fatalf("a function error: want ERROR with the function's errorType and errorMessage, got %s; task %+v", e.State, call)
	}
}

// TestUserActionThroughDeployedAPI registers a user action bound to the user's function with
// the signed POST /actions; a workflow calls it by name and the runner function runs it.
func TestUserActionThroughDeployedAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	deployUserFunction(t, ctx)
	action := "e2e_" + runID + ".double"
	r, err := env.api.Do(ctx, "POST", "/actions", map[string]any{"name": action, "kind": "lambda", "target": UserFunction,
		"required": []string{"n"}}, true, nil)
	if err := expect(r, err, nil, 200); err != nil {
		t.Fatalf("POST /actions: %v", err)
	}
	name := wf("user_action")
	register(t, "version: '2.0'\n"+name+":\n  tasks:\n    t:\n      action: "+action+" n=21\n      publish: {doubled: <% task().result.doubled %>}\n  output: {doubled: <% $.doubled %>}\n")
	e := waitTerminal(t, start(t, name, nil).ID)
	if e.State != "SUCCESS" || !jsonEqual(e.Output, map[string]any{"doubled": 42}) {
		t.Fatalf("want SUCCESS with doubled 42 from the user's function, got %s %v; tasks %s", e.State, e.Output, TaskSummary(e))
	}
	r, err = env.api.Do(ctx, "DELETE", "/actions/"+action, nil, true, nil)
	if err := expect(r, err, nil, 200); err != nil {
		t.Fatalf("DELETE /actions: %v", err)
	}
}
