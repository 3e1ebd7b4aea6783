// Command runner is the action runner Lambda function: for each message of
// the SQS task queue it checks the attempt is still wanted, runs the action
// and sends its result to the result queue. Programs with their own actions
// copy this file and register them on svc.Actions before lambda.Start.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/sqsbatch"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("runner: %v", err)
	}
	handle := sqsbatch.Handler("runner", svc.RunTask, svc.Log)
	// One inline budget per invocation, shared by the messages of its batch.
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return handle(svc.WithInlineBudget(ctx), ev)
	})
}
