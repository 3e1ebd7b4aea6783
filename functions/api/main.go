// Command api is the API Lambda function: API Gateway (HTTP API payload 2.0
// or REST payload 1.0) in front of Lazyflow's HTTP API.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/gateway"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	lambda.Start(gateway.Handler(httpapi.New(svc, httpapi.Options{})))
}
