// Command sweeper is the scheduled Lambda function (an EventBridge rule) that
// repairs what a lost message leaves waiting: for RUNNING executions it
// re-sends the actions of tasks started more than LAZYFLOW_SWEEP_MIN_AGE
// seconds ago that no runner claimed, and finalises executions whose work is
// done (service.Sweep); then it deletes finished executions older than
// LAZYFLOW_RETENTION_DAYS (service.Purge). Any event invokes it; the event's
// content is ignored, so it can also be invoked by hand.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
)

// Result is what an invocation returns (visible when invoked by hand).
type Result struct {
	Executions int `json:"executions"`
	Purged     int `json:"purged"`
}

func main() {
	ctx := context.Background()
	c, err := awshost.FromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("sweeper: %v", err)
	}
	svc, err := awshost.Service(ctx)
	if err != nil {
		log.Fatalf("sweeper: %v", err)
	}
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (Result, error) {
		n, err := svc.Sweep(ctx, c.SweepMinAge, c.SweepMax)
		if err != nil {
			// Failing the invocation counts in the function's Errors metric (and alarm);
			// the next scheduled run tries again.
			svc.Log.Error("sweep failed", "executions", n, "err", err)
			return Result{Executions: n}, fmt.Errorf("sweep after %d executions: %w", n, err)
		}
		svc.Log.Info("sweep done", "executions", n, "min_age_seconds", int(c.SweepMinAge.Seconds()), "max", c.SweepMax)
		purged, err := svc.Purge(ctx, c.Retention, awshost.PurgeMax)
		if err != nil {
			svc.Log.Error("purge failed", "purged", purged, "err", err)
			return Result{Executions: n, Purged: purged}, err
		}
		return Result{Executions: n, Purged: purged}, nil
	})
}
