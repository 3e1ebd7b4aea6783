// Command api is the API Lambda function: API Gateway (HTTP API payload 2.0
// or REST payload 1.0) in front of Lazyflow's HTTP API and
// Mistral's REST API v2 (under /v2).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/gateway"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/mistralapi"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	// Lazyflow's own API, and Mistral's v2 under /v2 over the same service.
	lambda.Start(gateway.Handler(mistralapi.Mount(httpapi.New(svc, httpapi.Options{}), mistralapi.New(svc, nil, 0))))
}
