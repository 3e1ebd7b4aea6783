// Command engine is the engine Lambda function: it applies each message of
// the SQS result queue (action results and timers) to the store and sends
// the next tasks, reporting partial batch failures.
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
		log.Fatalf("engine: %v", err)
	}
	handle := sqsbatch.Handler("engine", svc.HandleMessage, svc.Log)
	// One inline budget per invocation, shared by the messages of its batch.
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return handle(svc.WithInlineBudget(ctx), ev)
	})
}
