package lazyflow

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Run is the body of a CDK app's main: it makes the App with the context of args (-c key=value,
// for direct runs; under the CLI the App reads CDK_CONTEXT_JSON itself), reads its Config,
// lets define add the stacks, and synthesizes into $CDK_OUTDIR, or cdk.out when that is unset.
func Run(args []string, define func(app awscdk.App, cfg Config) error) error {
	defer jsii.Close()
	app, cfg, err := appFromArgs(args)
	if err != nil {
		return err
	}
	if err := define(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

func appFromArgs(args []string) (awscdk.App, Config, error) {
	ctx, err := ParseContextArgs(args)
	if err != nil {
		return nil, Config{}, err
	}
	// Set explicitly: jsii's Node process may have started before CDK_OUTDIR was set.
	outdir := os.Getenv("CDK_OUTDIR")
	if outdir == "" {
		outdir = "cdk.out"
	}
	props := &awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)}
	app := awscdk.NewApp(props)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return nil, Config{}, err
	}
	return app, cfg, nil
}

// StackID names the stack after the stage, so several stages can share one account.
func StackID(stage string) string { return "Lazyflow-" + stage }

// EnvFromCLI is the stack environment the CDK CLI found in the caller's credentials
// (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION). Without them, and with the emulator profile (whose
// environment NewStack sets), it is empty, which gives an environment-agnostic template: what
// an offline `make synth` produces.
func EnvFromCLI(cfg Config) awscdk.StackProps {
	sp := awscdk.StackProps{}
	if !cfg.Local {
		if acct, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); acct != "" && region != "" {
			sp.Env = &awscdk.Environment{Account: jsii.String(acct), Region: jsii.String(region)}
		}
	}
	return sp
}

// ParseContextArgs accepts the CDK CLI's context flags (-c/--context key=value) for direct runs;
// under the CLI the same values arrive through CDK_CONTEXT_JSON, which the App reads itself.
func ParseContextArgs(args []string) (map[string]any, error) {
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
