// Command api is the API Lambda function: API Gateway (HTTP API payload 2.0
// or REST payload 1.0) in front of Lazyflow's HTTP API, with the browser UI
// beside it at /ui/ (and / redirecting there), as `lazyflow serve` serves
// them. API Gateway lets the UI's static pages through unauthenticated; the
// data they show comes from the IAM-protected routes.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/gateway"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	lambda.Start(gateway.Handler(webui.Mount(httpapi.New(svc, httpapi.Options{}), svc.Store, svc.Log)))
}
