//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestRunnerAppliesSwitch deploys the stack again with runnerApplies=1 (the runner applies its
// own results, LAZYFLOW_RUNNER_APPLIES) and runs the workflow the suite runs with the switch
// off: an action that fails twice and succeeds on its third attempt under a retry policy, then
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
	retryThenSuccess(t, "applies")
	TestRegisterStartSucceeds(t)
}
