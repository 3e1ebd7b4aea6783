// Command dlq is the dead-letter Lambda function, fed by both queues'
// dead-letter queues: a task message that could not be run becomes an error
// result of its attempt, and a result or timer that could not be applied
// fails its execution with a reason, so nothing stays RUNNING forever.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/sqsbatch"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("dlq: %v", err)
	}
	lambda.Start(sqsbatch.Handler("dlq", svc.DeadLetter, svc.Log))
}
