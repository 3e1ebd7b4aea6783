// Command api is the API Lambda function: API Gateway (HTTP API payload 2.0
// or REST payload 1.0) in front of Lazyflow's HTTP API and Mistral's REST
// API v2 (under /v2), with the browser UI beside them at /ui/ (and /
// redirecting there), as `lazyflow serve` serves them. API Gateway lets the
// UI's static pages through unauthenticated; the data they show comes from
// the IAM-protected routes. It also serves the CloudFormation custom resource
// that registers workflow files at deploy time (cfnworkflows), with the
// grants it already holds for registration.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lazyflow/lazyflow/functions/internal/awshost"
	"github.com/lazyflow/lazyflow/functions/internal/cfnworkflows"
	"github.com/lazyflow/lazyflow/functions/internal/gateway"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
	"github.com/lazyflow/lazyflow/functions/internal/mistralapi"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

func main() {
	svc, err := awshost.Service(context.Background())
	if err != nil {
		log.Fatalf("api: %v", err)
	}
	// Lazyflow's own API, Mistral's v2 under /v2 over the same service, and the web UI.
	api := mistralapi.Mount(httpapi.New(svc, httpapi.Options{}), mistralapi.New(svc, nil, 0))
	serve := gateway.Handler(webui.Mount(api, svc.Store, svc.Log))
	respond := &http.Client{Timeout: 20 * time.Second}
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) {
		if cfnworkflows.IsEvent(raw) {
			return nil, cfnworkflows.Handle(ctx, svc, raw, respond)
		}
		return serve(ctx, raw)
	})
}
