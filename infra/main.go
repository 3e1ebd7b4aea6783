// Command infra is the CDK app that deploys Lazyflow in a stack of its own: the lazyflow
// package's construct (table, value bucket, queues with their dead-letter queues, the api,
// engine, runner, dlq and sweeper functions, the HTTP API, the callback key, alarms and
// outputs), configured from CDK context.
//
// It runs under the CDK CLI (`make deploy`, see cdk.json) or directly: `go run . -c key=value`
// writes the cloud assembly to $CDK_OUTDIR, or cdk.out when that is unset.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/lazyflow/lazyflow/infra/lazyflow"
)

func main() {
	if err := lazyflow.Run(os.Args[1:], define); err != nil {
		fmt.Fprintln(os.Stderr, "lazyflow infra:", err)
		os.Exit(1)
	}
}

func define(app awscdk.App, cfg lazyflow.Config) error {
	_, _, err := lazyflow.NewStack(app, lazyflow.StackID(cfg.Stage), &lazyflow.StackProps{StackProps: lazyflow.EnvFromCLI(cfg), Config: cfg})
	return err
}
