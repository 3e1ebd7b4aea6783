// Command userfn is a user's Go Lambda function the AWS action tests deploy on
// MiniStack:
//
//   - {"n": N} answers {"doubled": 2N, "function": <its name>};
//   - {"fail": "why"} fails with a ResizeError whose message is why;
//   - a delegate event {"payload": {"n": N}, "callback": {"url": U}} posts
//     {"state": "SUCCESS", "output": {"tripled": 3N}} to U, as a user's
//     function hands back the result of long work.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	N        float64         `json:"n"`
	Fail     string          `json:"fail"`
	Payload  json.RawMessage `json:"payload"`
	Callback *struct {
		URL string `json:"url"`
	} `json:"callback"`
}

// ResizeError is the error type the runtime reports as errorType.
type ResizeError struct{ Why string }

func (e ResizeError) Error() string { return e.Why }

func handle(ctx context.Context, ev event) (any, error) {
	switch {
	case ev.Fail != "":
		return nil, ResizeError{Why: ev.Fail}
	case ev.Callback != nil:
		var p event
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
		body, _ := json.Marshal(map[string]any{"state": "SUCCESS", "output": map[string]any{"tripled": 3 * p.N}})
		resp, err := http.Post(ev.Callback.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("callback: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return nil, fmt.Errorf("callback: status %d", resp.StatusCode)
		}
		return nil, nil
	}
	return map[string]any{"doubled": 2 * ev.N, "function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}, nil
}

func main() { lambda.Start(handle) }
