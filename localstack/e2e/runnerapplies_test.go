//go:build e2e

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestRunnerAppliesSwitch deploys the stack again with runnerApplies=1 (the runner applies its
// own results, LAZYFLOW_RUNNER_APPLIES) and runs the workflows the suite runs with the switch
// off: an action that fails twice and succeeds on its third attempt under a retry policy, and
// a chain of trivial actions. It deploys the default stack back afterwards.
func TestRunnerAppliesSwitch(t *testing.T) {
	if os.Getenv("LAZYFLOW_E2E_DEPLOY") == "0" {
		t.Fatal("this test deploys the stack with runnerApplies=1; it cannot run with LAZYFLOW_E2E_DEPLOY=0")
	}
	base := os.Getenv("LAZYFLOW_LOCAL_CONTEXT")
	deploy := func(extra string) {
		t.Helper()
		os.Setenv("LAZYFLOW_LOCAL_CONTEXT", strings.TrimSpace(base+" "+extra))
		defer os.Setenv("LAZYFLOW_LOCAL_CONTEXT", base)
		if err := script(env.root, "localstack/deploy.sh"); err != nil {
			t.Fatalf("deploy with %q: %v", extra, err)
		}
	}
	deploy("-c runnerApplies=1")
	t.Cleanup(func() { deploy("") })
	if got := runnerEnv(t)["LAZYFLOW_RUNNER_APPLIES"]; got != "1" {
		t.Fatalf("the deployed runner has LAZYFLOW_RUNNER_APPLIES=%q; want 1", got)
	}
	retryThenSuccess(t, "applies")
	TestRegisterStartSucceeds(t)
}

// runnerEnv is the environment of the stack's runner function: the one function of this
// stack's table that has a callback base URL.
func runnerEnv(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := lambda.NewListFunctionsPaginator(lambda.NewFromConfig(cfg), &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list functions: %v", err)
		}
		for _, f := range page.Functions {
			if f.Environment == nil {
				continue
			}
			v := f.Environment.Variables
			if v["LAZYFLOW_TABLE"] == env.out.TableName && v["LAZYFLOW_CALLBACK_BASE_URL"] != "" {
				return v
			}
		}
	}
	t.Fatalf("no runner function of table %s", aws.ToString(&env.out.TableName))
	return nil
}
