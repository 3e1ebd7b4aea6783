package awsactions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/value"
)

// lambdaInvoke is aws.lambda.invoke: function_name (name, ARN or partial
// ARN), payload (any JSON value), qualifier (version or alias),
// invocation_type (RequestResponse, the default, or Event). Its result is
// the function's answer decoded from JSON (its text when it is not JSON;
// nothing for Event). A function error fails the task with the function's
// errorType and errorMessage.
func (c Clients) lambdaInvoke(ctx context.Context, in map[string]any) (any, error) {
	req, err := invokeInput(LambdaInvoke, in)
	if err != nil {
		return nil, err
	}
	it, err := str(LambdaInvoke, in, "invocation_type")
	if err != nil {
		return nil, err
	}
	switch it {
	case "", string(types.InvocationTypeRequestResponse):
		req.InvocationType = types.InvocationTypeRequestResponse
	case string(types.InvocationTypeEvent):
		req.InvocationType = types.InvocationTypeEvent
	default:
		return nil, fmt.Errorf("%s: invocation_type must be RequestResponse or Event, not %q", LambdaInvoke, it)
	}
	out, err := c.Lambda.Invoke(ctx, req)
	if err != nil {
		return nil, awsError(LambdaInvoke, err)
	}
	if err := functionError(LambdaInvoke, req, out); err != nil {
		return nil, err
	}
	if req.InvocationType == types.InvocationTypeEvent || len(out.Payload) == 0 {
		return nil, nil
	}
	if v, err := value.FromJSONExact(out.Payload); err == nil {
		return v, nil
	}
	return string(out.Payload), nil
}

// bindLambda is the "lambda" binder of user actions (POST /actions): the
// action invokes function target (name or ARN, with :qualifier if any)
// with its input as payload, exactly as aws.lambda.invoke does.
func (c Clients) bindLambda(target string) (actions.UserFunc, error) {
	if target == "" || strings.ContainsAny(target, " \t\n/") {
		return nil, fmt.Errorf("target %q is not a Lambda function name or ARN", target)
	}
	return func(ctx context.Context, in *value.Map) (any, error) {
		if in == nil {
			in = value.NewMap(0)
		}
		return c.lambdaInvoke(ctx, map[string]any{"function_name": target, "payload": in})
	}, nil
}

// DelegateEvent is what aws.lambda.invoke_delegate sends the function: the
// task's payload and where to report. The function (or whatever it hands
// the work to) POSTs {"state": "SUCCESS"|"ERROR", "output": …} to
// Callback.URL, and may POST {"extend_seconds": N} to Callback.HeartbeatURL
// to keep a long task alive, as with Step Functions' waitForTaskToken.
type DelegateEvent struct {
	Payload  any              `json:"payload"`
	Callback DelegateCallback `json:"callback"`
}

// DelegateCallback is the callback part of a DelegateEvent.
type DelegateCallback struct {
	URL          string `json:"url"`
	HeartbeatURL string `json:"heartbeat_url"`
	Token        string `json:"token"`
	// Expires is when the token stops working, in Unix seconds.
	Expires int64 `json:"expires"`
}

// lambdaInvokeDelegate is aws.lambda.invoke_delegate: it invokes the
// function asynchronously (Event) with a DelegateEvent and leaves the task
// RUNNING until the callback arrives.
func (c Clients) lambdaInvokeDelegate(ctx context.Context, in map[string]any, cb actions.Callback) error {
	if !strings.HasPrefix(cb.URL, "http://") && !strings.HasPrefix(cb.URL, "https://") {
		return fmt.Errorf("%s: the host has no callback URL for the function to call (set LAZYFLOW_CALLBACK_BASE_URL)", LambdaInvokeDelegate)
	}
	req, err := invokeInput(LambdaInvokeDelegate, in)
	if err != nil {
		return err
	}
	ev := DelegateEvent{Payload: in["payload"], Callback: DelegateCallback{URL: cb.URL, HeartbeatURL: cb.URL + "/heartbeat",
		Token: cb.Token, Expires: cb.Expires}}
	if req.Payload, err = json.Marshal(ev); err != nil {
		return fmt.Errorf("%s: payload cannot be encoded as JSON: %w", LambdaInvokeDelegate, err)
	}
	req.InvocationType = types.InvocationTypeEvent
	out, err := c.Lambda.Invoke(ctx, req)
	if err != nil {
		return awsError(LambdaInvokeDelegate, err)
	}
	return functionError(LambdaInvokeDelegate, req, out)
}

// invokeInput reads function_name, qualifier and payload.
func invokeInput(action string, in map[string]any) (*lambda.InvokeInput, error) {
	name, err := required(action, in, "function_name")
	if err != nil {
		return nil, err
	}
	q, err := str(action, in, "qualifier")
	if err != nil {
		return nil, err
	}
	req := &lambda.InvokeInput{FunctionName: aws.String(name), Qualifier: optional(q)}
	if p, ok := in["payload"]; ok {
		if req.Payload, err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("%s: payload cannot be encoded as JSON: %w", action, err)
		}
	}
	return req, nil
}

// functionError turns a function's own failure (X-Amz-Function-Error) into
// the task's error, carrying the errorType and errorMessage the runtime
// reported as JSON, so state_info can be read by a person and parsed by
// a program alike.
func functionError(action string, req *lambda.InvokeInput, out *lambda.InvokeOutput) error {
	if out.FunctionError == nil {
		return nil
	}
	var rep struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(out.Payload, &rep) != nil || rep.ErrorType == "" && rep.ErrorMessage == "" {
		rep.ErrorType, rep.ErrorMessage = aws.ToString(out.FunctionError), string(out.Payload)
	}
	detail, _ := json.Marshal(rep)
	return fmt.Errorf("%s: function %s failed: %s", action, aws.ToString(req.FunctionName), detail)
}
