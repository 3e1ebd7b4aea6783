// Command echofn is the smallest real Go Lambda the emulator smoke test deploys: it proves
// that MiniStack runs a provided.al2023 bootstrap, that a function reaches the emulator
// through the inherited AWS_ENDPOINT_URL, and that partial batch failures are honoured.
//
// A direct invocation with {"echo": X} answers {"echo": X, "function": <name>}.
// An SQS batch forwards each body to the queue in OUT_QUEUE_URL, except bodies that start
// with "fail", which it reports back in batchItemFailures so only they are redelivered.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

type echoRequest struct {
	Echo    any               `json:"echo"`
	Records []json.RawMessage `json:"Records"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req echoRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if req.Records == nil {
		return map[string]any{"echo": req.Echo, "function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}, nil
	}
	var batch events.SQSEvent
	if err := json.Unmarshal(raw, &batch); err != nil {
		return nil, fmt.Errorf("decode SQS event: %w", err)
	}
	return forward(ctx, batch)
}

func forward(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	// A non-nil slice marshals as [] rather than null: MiniStack 1.5.33 crashes on
	// "batchItemFailures": null and then redelivers the whole batch (AWS reads null as success).
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return resp, fmt.Errorf("load AWS config: %w", err)
	}
	client := sqs.NewFromConfig(cfg)
	out := os.Getenv("OUT_QUEUE_URL")
	for _, m := range batch.Records {
		if strings.HasPrefix(m.Body, "fail") {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(out), MessageBody: aws.String(m.Body)}); err != nil {
			// Reporting the item keeps it on the source queue for a retry instead of losing it.
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func main() {
	lambda.Start(handle)
}
