package awsactions_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
)

// recordingLambda answers every invocation with {} and keeps the payloads.
type recordingLambda struct{ payloads []string }

func (r *recordingLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	r.payloads = append(r.payloads, string(in.Payload))
	return &lambda.InvokeOutput{StatusCode: 200, Payload: []byte(`{}`)}, nil
}

// A user action bound to a Lambda function sends the task's input as the
// payload in the order of the task's input clause, top level included.
func TestUserLambdaPayloadKeepsOrder(t *testing.T) {
	fake := &recordingLambda{}
	reg := actions.New()
	awsactions.Register(reg, awsactions.Clients{Lambda: fake})
	fn, err := reg.BindUser("lambda", "resize")
	if err != nil {
		t.Fatal(err)
	}
	in := value.MapFromPairs("width", int64(64), "image", value.MapFromPairs("name", "cat", "format", "png"))
	if _, err := reg.RunUser(context.Background(), "img.resize", actions.Params{Optional: []string{"image", "width"}}, fn, in); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.RunUser(context.Background(), "img.resize", actions.Params{}, fn, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"width":64,"image":{"name":"cat","format":"png"}}`, `{}`}
	if len(fake.payloads) != 2 || fake.payloads[0] != want[0] || fake.payloads[1] != want[1] {
		t.Fatalf("payloads %q, want %q", fake.payloads, want)
	}
}
