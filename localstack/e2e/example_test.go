//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Stage and stack of the example app (examples/aws-app): a stack of its own beside the suite's.
const (
	exampleStage = "example"
	exampleStack = "LazyflowExample-" + exampleStage
)

// deployExample builds the example's pricing function for this host and deploys the example
// CDK app with deploy.sh (context adds "-c key=value" arguments), which reads the app's own
// stack outputs into example-outputs.json.
func deployExample(t *testing.T, context string) (Outputs, map[string]string) {
	t.Helper()
	fnDir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", filepath.Join(fnDir, "bootstrap"), "./examples/aws-app/function")
	build.Dir = env.root
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the example's function: %v\n%s", err, out)
	}
	deploy := exec.Command(filepath.Join(env.root, "localstack/deploy.sh"))
	deploy.Dir = env.root
	deploy.Stdout, deploy.Stderr = os.Stderr, os.Stderr
	deploy.Env = append(os.Environ(), "LAZYFLOW_APP=examples/aws-app/cdk", "LAZYFLOW_STAGE="+exampleStage,
		"LAZYFLOW_STACK="+exampleStack, "LAZYFLOW_OUTPUTS=example-outputs.json",
		"LAZYFLOW_LOCAL_CONTEXT="+strings.TrimSpace(os.Getenv("LAZYFLOW_LOCAL_CONTEXT")+" -c functionAssetDir="+fnDir+" "+context))
	start := time.Now()
	if err := deploy.Run(); err != nil {
		t.Fatalf("deploy the example app: %v", err)
	}
	how := "deployed with its workflows"
	if context != "" {
		how = "deployed again (" + context + ")"
	}
	figure("example app (examples/aws-app) %s in %s", how, time.Since(start).Round(time.Second))
	path := filepath.Join(env.root, ".cache", "localstack", "example-outputs.json")
	out, err := LoadOutputs(path)
	if err != nil {
		t.Fatal(err)
	}
	var extra map[string]any
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &extra); err != nil {
		t.Fatal(err)
	}
	own := map[string]string{}
	for _, k := range []string{"ShippingQueueUrl", "PricingFunctionName"} {
		s, _ := extra[k].(string)
		if s == "" {
			t.Fatalf("example outputs lack %s: %s", k, data)
		}
		own[k] = s
	}
	return out, own
}

// TestExampleApp deploys examples/aws-app with the constructs: its workflow arrives with the
// deployment (the Workflows custom resource, served by the api function; nothing here POSTs
// it), calls the app's function synchronously and as a delegate completed through its
// callback, and sends the order to the app's queue, all through the example stack's signed
// API.
func TestExampleApp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	out, own := deployExample(t, "")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := NewClient(env.endpoint, out.APIID, cfg.Region, cfg.Credentials)

	r, err := api.Do(ctx, "GET", "/workflows/order", nil, true, nil)
	var def struct {
		Definition string `json:"definition"`
		Source     string `json:"source"`
	}
	if err := expect(r, err, &def, 200); err != nil {
		t.Fatalf("the deployment did not register order: %v", err)
	}
	if body := string(r.Body); !strings.Contains(body, own["PricingFunctionName"]) || strings.Contains(body, "${PricingFunction}") {
		t.Fatalf("registered order does not name the deployed function %s in place of ${PricingFunction}: %s", own["PricingFunctionName"], truncate(body, 600))
	}

	queue := sqs.NewFromConfig(cfg)
	for _, tc := range []struct {
		id       string
		quantity float64
		approved bool
	}{{"A-1", 3, true}, {"A-2", 300, false}} {
		e, status, err := api.Start(ctx, "order", map[string]any{"order_id": tc.id, "quantity": tc.quantity, "unit_price": 250}, "")
		if err != nil || status != 201 {
			t.Fatalf("start order %s: %d %v", tc.id, status, err)
		}
		if e, err = api.WaitTerminal(ctx, e.ID, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		total := tc.quantity * 250
		if e.State != "SUCCESS" {
			t.Fatalf("order %s: want SUCCESS, got %s (%s); tasks %s", tc.id, e.State, e.StateInfo, TaskSummary(e))
		}
		got, _ := e.Output.(map[string]any)
		if got["total"] != total || got["approved"] != tc.approved {
			t.Fatalf("order %s: output %v, want total %v (the function's answer) and approved %v (its callback)", tc.id, e.Output, total, tc.approved)
		}
		if _, shipped := e.TaskByName("ship"); shipped != tc.approved {
			t.Fatalf("order %s: ship ran %v, want %v; tasks %s", tc.id, shipped, tc.approved, TaskSummary(e))
		}
	}
	// Only the approved order reached the app's queue.
	if bodies := receiveAll(ctx, t, queue, own["ShippingQueueUrl"]); len(bodies) != 1 || !jsonEqual(json.RawMessage(bodies[0]), map[string]any{"order_id": "A-1", "total": 750}) {
		t.Fatalf("shipping queue: got %v, want the one approved order {order_id: A-1, total: 750}", bodies)
	}

	// The Workflows resource's Update: renaming the function replaces it, and the deployment
	// registers order again with the new name in place of ${PricingFunction}.
	renamed := "lazyflow-example-pricing-" + runID
	if _, own2 := deployExample(t, "-c pricingFunctionName="+renamed); own2["PricingFunctionName"] != renamed {
		t.Fatalf("redeployed with pricingFunctionName=%s, the stack outputs %s", renamed, own2["PricingFunctionName"])
	}
	r, err = api.Do(ctx, "GET", "/workflows/order", nil, true, nil)
	if err := expect(r, err, &def, 200); err != nil {
		t.Fatalf("order after the redeploy: %v", err)
	}
	if body := string(r.Body); !strings.Contains(body, "function_name="+renamed) || strings.Contains(body, own["PricingFunctionName"]) {
		t.Fatalf("after the redeploy order does not name %s (nor only it, not %s): %s", renamed, own["PricingFunctionName"], truncate(body, 600))
	}
	e, status, err := api.Start(ctx, "order", map[string]any{"order_id": "A-3", "quantity": 2, "unit_price": 250}, "")
	if err != nil || status != 201 {
		t.Fatalf("start order A-3 after the redeploy: %d %v", status, err)
	}
	if e, err = api.WaitTerminal(ctx, e.ID, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Output.(map[string]any); e.State != "SUCCESS" || got["total"] != 500.0 {
		t.Fatalf("order A-3 through the renamed function: want SUCCESS with total 500, got %s (%s) %v; tasks %s", e.State, e.StateInfo, e.Output, TaskSummary(e))
	}
	if bodies := receiveAll(ctx, t, queue, own["ShippingQueueUrl"]); len(bodies) != 1 || !jsonEqual(json.RawMessage(bodies[0]), map[string]any{"order_id": "A-3", "total": 500}) {
		t.Fatalf("shipping queue after the redeploy: got %v, want {order_id: A-3, total: 500}", bodies)
	}
}

// receiveAll receives (and deletes) the messages waiting on a queue.
func receiveAll(ctx context.Context, t *testing.T, queue *sqs.Client, url string) []string {
	t.Helper()
	msg, err := queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msg.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
		if _, err := queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	return bodies
}
