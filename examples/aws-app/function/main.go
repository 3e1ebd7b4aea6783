// Command function is the example app's own Lambda function, which its workflow calls in the
// two ways Lazyflow offers:
//
//   - synchronously (aws.lambda.invoke): {"quantity": Q, "unit_price": P} answers
//     {"total": Q×P};
//   - as a delegate (aws.lambda.invoke_delegate): the event carries the workflow's payload and
//     a callback URL; the function decides ({"total": T} is approved up to 1000) and posts the
//     decision to the URL, as a function that hands long work to someone else would later.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// approvalLimit is the largest total approved without a person.
const approvalLimit = 1000

type event struct {
	Quantity  float64         `json:"quantity"`
	UnitPrice float64         `json:"unit_price"`
	Payload   json.RawMessage `json:"payload"`
	Callback  *struct {
		URL string `json:"url"`
	} `json:"callback"`
}

var client = &http.Client{Timeout: 10 * time.Second}

func handle(ctx context.Context, ev event) (any, error) {
	if ev.Callback == nil {
		if ev.Quantity <= 0 || ev.UnitPrice < 0 {
			return nil, fmt.Errorf("quantity must be positive and unit_price not negative, got %v and %v", ev.Quantity, ev.UnitPrice)
		}
		return map[string]any{"total": ev.Quantity * ev.UnitPrice}, nil
	}
	var p struct {
		Total float64 `json:"total"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return nil, fmt.Errorf("delegate payload: %w", err)
	}
	decision := map[string]any{"approved": p.Total <= approvalLimit, "by": "pricing function"}
	body, err := json.Marshal(map[string]any{"state": "SUCCESS", "output": decision})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.Callback.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("callback URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("callback: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("callback: %s", resp.Status)
	}
	return nil, nil
}

func main() { lambda.Start(handle) }
