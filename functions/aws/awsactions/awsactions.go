// Package awsactions holds the actions that call a user's AWS resources
// from a workflow: aws.lambda.invoke (and its delegate form
// aws.lambda.invoke_delegate), aws.sqs.send_message, aws.sns.publish and
// aws.events.put_events. They live outside core/ so that core never imports
// the AWS SDK; the AWS host (functions/internal/awshost) and the local
// server (functions/local) register them when AWS is configured.
//
// Each action declares its input names, so a workflow calling one with an
// unknown or a missing input is refused at registration like a std.*
// call. An AWS error becomes the task's error with its code and message
// ("aws.sqs.send_message: AWS.SimpleQueueService.NonExistentQueue: …").
package awsactions

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/value"
)

// Action names.
const (
	LambdaInvoke         = "aws.lambda.invoke"
	LambdaInvokeDelegate = "aws.lambda.invoke_delegate"
	SQSSendMessage       = "aws.sqs.send_message"
	SNSPublish           = "aws.sns.publish"
	EventsPutEvents      = "aws.events.put_events"
)

// LambdaAPI is the part of the Lambda client the actions use.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// SQSAPI is the part of the SQS client the actions use.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SNSAPI is the part of the SNS client the actions use.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// EventsAPI is the part of the EventBridge client the actions use.
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Clients are the AWS clients behind the actions.
type Clients struct {
	Lambda LambdaAPI
	SQS    SQSAPI
	SNS    SNSAPI
	Events EventsAPI
}

// NewClients makes every client from one AWS configuration (it honours
// AWS_ENDPOINT_URL, so the same actions run against an emulator).
func NewClients(cfg aws.Config) Clients {
	return Clients{Lambda: lambda.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg),
		SNS: sns.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg)}
}

// ErrNotConfigured is every call's answer from the Offline clients.
var ErrNotConfigured = errors.New("AWS is not configured on this host (set AWS_REGION and credentials to run AWS actions)")

// offline answers every AWS call with ErrNotConfigured.
type offline struct{}

func (offline) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return nil, ErrNotConfigured
}

func (offline) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return nil, ErrNotConfigured
}

func (offline) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return nil, ErrNotConfigured
}

func (offline) PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return nil, ErrNotConfigured
}

// Catalog is the std.* actions and the AWS actions with their input
// names, for checking workflows where AWS is out of reach (lazyflow
// validate, cdk synth): checking a call needs the catalogue, not a region
// or credentials. Running an AWS action from it fails with
// ErrNotConfigured.
func Catalog() *actions.Registry {
	r := actions.New()
	o := offline{}
	Register(r, Clients{Lambda: o, SQS: o, SNS: o, Events: o})
	return r
}

// Params are the input names of each action, checked at workflow
// registration (dsl.ActionCatalog) and again when the action runs.
var Params = map[string]actions.Params{
	LambdaInvoke:         {Required: []string{"function_name"}, Optional: []string{"payload", "qualifier", "invocation_type"}},
	LambdaInvokeDelegate: {Required: []string{"function_name"}, Optional: []string{"payload", "qualifier"}},
	SQSSendMessage: {Required: []string{"queue_url", "message_body"},
		Optional: []string{"delay_seconds", "message_attributes", "message_group_id", "message_deduplication_id"}},
	SNSPublish: {Required: []string{"topic_arn", "message"},
		Optional: []string{"subject", "message_attributes", "message_group_id", "message_deduplication_id"}},
	EventsPutEvents: {Required: []string{"entries"}},
}

// Register adds the AWS actions to r.
func Register(r *actions.Registry, c Clients) {
	r.Register(LambdaInvoke, c.lambdaInvoke)
	r.RegisterAsync(LambdaInvokeDelegate, c.lambdaInvokeDelegate)
	r.Register(SQSSendMessage, c.sqsSendMessage)
	r.Register(SNSPublish, c.snsPublish)
	r.Register(EventsPutEvents, c.eventsPutEvents)
	for name, p := range Params {
		r.Declare(name, p)
	}
	r.Bind("lambda", c.bindLambda)
}

// awsError names the action and, for an error AWS answered, its code and
// message, which is what a user looks up; the SDK's own text buries them
// in operation and request-id details.
func awsError(action string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s: %s", action, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("%s: %w", action, err)
}

// str reads a string input: absent gives "", another type is an error
// naming the input.
func str(action string, in map[string]any, name string) (string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, not %s", action, name, value.TypeName(v))
	}
	return s, nil
}

// required is str for an input that must not be empty.
func required(action string, in map[string]any, name string) (string, error) {
	s, err := str(action, in, name)
	if err == nil && s == "" {
		err = fmt.Errorf("%s: %s must be a non-empty string", action, name)
	}
	return s, err
}

// optional returns nil for "", so the SDK leaves the field out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Configured reports whether the environment names an AWS region, which
// every AWS call needs; hosts outside AWS (lazyflow serve) register the
// AWS actions only then, so a laptop without AWS keeps a catalogue
// of actions it can actually run.
func Configured(getenv func(string) string) bool {
	return getenv("AWS_REGION") != "" || getenv("AWS_DEFAULT_REGION") != ""
}
