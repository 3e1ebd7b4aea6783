// Command cdk is the example app's CDK app: a stack of the app's own, holding the Lazyflow
// construct, the app's pricing function and shipping queue, the grants that let workflows
// call exactly those, and the app's workflows, registered by the deployment.
//
//	cd examples/aws-app/cdk && cdk deploy -c functionAssetDir=<dir holding bootstrap> [-c key=value …]
//
// Every context key of infra/ (README "Configuration") configures the Lazyflow construct here
// too. functionAssetDir defaults to ../../../build/example-aws-app/function; pricingFunctionName
// names the pricing function.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/lazyflow/lazyflow/infra/lazyflow"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "example app:", err)
		os.Exit(1)
	}
}

func run(args []string) error { return lazyflow.Run(args, define) }

// define adds the example's stack to app.
func define(app awscdk.App, cfg lazyflow.Config) error {
	fnDir := "../../../build/example-aws-app/function"
	if v, ok := app.Node().TryGetContext(jsii.String("functionAssetDir")).(string); ok && v != "" {
		fnDir = v
	}
	if _, err := os.Stat(filepath.Join(fnDir, "bootstrap")); err != nil {
		return fmt.Errorf("the pricing function's bootstrap: %w (build examples/aws-app/function, see examples/aws-app/README.md)", err)
	}

	sp := lazyflow.ForProfile(cfg, lazyflow.EnvFromCLI(cfg))
	sp.Description = jsii.String("Lazyflow example app (" + cfg.Stage + ")")
	stack := awscdk.NewStack(app, jsii.String("LazyflowExample-"+cfg.Stage), &sp)

	lf, err := lazyflow.New(stack, "Lazyflow", &lazyflow.Props{Config: cfg})
	if err != nil {
		return err
	}
	arch := awslambda.Architecture_ARM_64()
	if cfg.Arch == "x86_64" {
		arch = awslambda.Architecture_X86_64()
	}
	// pricingFunctionName names the function (CloudFormation makes up a name without it).
	// Renaming replaces the function, and the deployment registers order again with the new
	// name in place of ${PricingFunction}.
	var pricingName *string
	if v, ok := app.Node().TryGetContext(jsii.String("pricingFunctionName")).(string); ok && v != "" {
		pricingName = jsii.String(v)
	}
	pricing := awslambda.NewFunction(stack, jsii.String("Pricing"), &awslambda.FunctionProps{
		FunctionName: pricingName,
		Description:  jsii.String("Example app: prices and approves orders"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: arch,
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(fnDir), nil),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(15)),
	})
	shipping := awssqs.NewQueue(stack, jsii.String("Shipping"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED,
	})
	// The runner may invoke this function and send to this queue, and nothing else of the app.
	lf.GrantInvoke(pricing)
	lf.AllowQueues(shipping)

	if _, err := lazyflow.NewWorkflows(stack, "Workflows", &lazyflow.WorkflowsProps{
		Lazyflow: lf,
		Files:    []string{"../workflows/order.yaml"},
		Variables: map[string]*string{
			"PricingFunction":  pricing.FunctionName(),
			"ShippingQueueUrl": shipping.QueueUrl(),
		},
	}); err != nil {
		return err
	}
	for id, v := range map[string]*string{"PricingFunctionName": pricing.FunctionName(), "ShippingQueueUrl": shipping.QueueUrl()} {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v})
	}
	return nil
}
