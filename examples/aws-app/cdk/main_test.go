package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/infra/lazyflow"
)

// The example synthesizes with the constructs: its workflow is registered by the stack, with
// the function's name and the queue's URL filled in, and the runner may call exactly these two.
func TestExampleSynthesizes(t *testing.T) {
	assets := t.TempDir()
	for _, name := range append([]string{"pricing"}, lazyflow.FunctionNames...) {
		if err := os.MkdirAll(filepath.Join(assets, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(assets, name, "bootstrap"), []byte("#!/bin/sh\n# "+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	t.Setenv("CDK_OUTDIR", out)
	if err := run([]string{"-c", "assetDir=" + assets, "-c", "functionAssetDir=" + filepath.Join(assets, "pricing"), "-c", "stage=test"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "LazyflowExample-test.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatal(err)
	}
	var workflows, grants []string
	for id, r := range tpl.Resources {
		switch r.Type {
		case lazyflow.WorkflowsResourceType:
			workflows = append(workflows, id)
			vars, _ := json.Marshal(r.Properties["Variables"])
			if r.Properties["File"] != "order.yaml" || !strings.Contains(string(vars), `"PricingFunction":{"Ref":"Pricing`) ||
				!strings.Contains(string(vars), `"ShippingQueueUrl":{"Ref":"Shipping`) {
				t.Errorf("%s: File %v, Variables %s", id, r.Properties["File"], vars)
			}
		case "AWS::IAM::Policy":
			doc, _ := json.Marshal(r.Properties["PolicyDocument"])
			for _, sid := range []string{"InvokeUserFunctions", "SendToUserQueues"} {
				if strings.Contains(string(doc), `"Sid":"`+sid+`"`) {
					grants = append(grants, sid)
				}
			}
		}
	}
	if len(workflows) != 1 {
		t.Errorf("want one %s resource, got %v", lazyflow.WorkflowsResourceType, workflows)
	}
	if len(grants) != 2 {
		t.Errorf("want the runner's InvokeUserFunctions and SendToUserQueues statements, got %v", grants)
	}
}
