//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// UserFunction is the user's Lambda function the suite calls with the aws.* actions;
// deploy.sh lists its ARN in userFunctionArns, so the runner's role may invoke it.
const UserFunction = "lazyflow-e2e-user-fn"

// deployUserFunction builds functions/aws/awsactions/testdata/userfn (a Go function that
// doubles n, fails on request, and answers a delegate event through its callback URL) and
// creates it on the emulator as UserFunction, replacing an earlier run's.
func deployUserFunction(t *testing.T, ctx context.Context) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/aws/awsactions/testdata/userfn")
	cmd.Dir = env.root
	cmd.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH, "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the user's function: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = w.Write(code)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("zip bootstrap: %v", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(cfg)
	_, _ = lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(UserFunction)})
	arch := lambdatypes.ArchitectureX8664
	if runtime.GOARCH == "arm64" {
		arch = lambdatypes.ArchitectureArm64
	}
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(UserFunction),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String("arn:aws:iam::000000000000:role/user-fn"),
		Code:          &lambdatypes.FunctionCode{ZipFile: buf.Bytes()},
		Architectures: []lambdatypes.Architecture{arch},
		Timeout:       aws.Int32(20),
	}); err != nil {
		t.Fatalf("create the user's function: %v", err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(UserFunction)}, time.Minute); err != nil {
		t.Fatalf("the user's function never became active: %v", err)
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
