// Command infra is the CDK app that defines Lazyflow's AWS deployment: the DynamoDB table, the
// value bucket, the task and result queues with their dead-letter queues, the api, engine,
// runner, dlq and sweeper functions (with the sweeper's schedule), the HTTP API, the callback key,
// alarms and outputs.
//
// It runs under the CDK CLI (`make deploy`, see cdk.json) or directly: `go run . -c key=value`
// writes the cloud assembly to $CDK_OUTDIR, or cdk.out when that is unset.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lazyflow infra:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	ctx, err := parseContextArgs(args)
	if err != nil {
		return err
	}
	props := &awscdk.AppProps{Context: &ctx}
	if os.Getenv("CDK_OUTDIR") == "" {
		props.Outdir = jsii.String("cdk.out")
	}
	defer jsii.Close()
	app := awscdk.NewApp(props)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return err
	}
	sp := awscdk.StackProps{}
	if !cfg.Local {
		// Set by the CDK CLI from the caller's credentials; empty gives an environment-agnostic
		// template, which is what an offline `make synth` produces.
		if acct, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); acct != "" && region != "" {
			sp.Env = &awscdk.Environment{Account: jsii.String(acct), Region: jsii.String(region)}
		}
	}
	if _, err := NewLazyflowStack(app, StackID(cfg.Stage), &LazyflowStackProps{StackProps: sp, Config: cfg}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// StackID names the stack after the stage, so several stages can share one account.
func StackID(stage string) string { return "Lazyflow-" + stage }

// parseContextArgs accepts the CDK CLI's context flags (-c/--context key=value) for direct runs;
// under the CLI the same values arrive through CDK_CONTEXT_JSON, which the App reads itself.
func parseContextArgs(args []string) (map[string]any, error) {
	ctx := map[string]any{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var kv string
		switch {
		case a == "-c" || a == "--context":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s needs key=value", a)
			}
			i++
			kv = args[i]
		case strings.HasPrefix(a, "--context="):
			kv = strings.TrimPrefix(a, "--context=")
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			kv = a[2:]
		default:
			return nil, fmt.Errorf("unknown argument %q (only -c key=value is accepted)", a)
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("context %q is not key=value", kv)
		}
		ctx[k] = v
	}
	return ctx, nil
}
