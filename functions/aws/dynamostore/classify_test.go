package dynamostore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TestClassify covers the errors the emulators cannot be made to return
// (throttling, 5xx); the conflict paths are exercised against real servers
// by the conformance suite.
func TestClassify(t *testing.T) {
	reason := func(codes ...string) error {
		var rs []types.CancellationReason
		for _, c := range codes {
			rs = append(rs, types.CancellationReason{Code: aws.String(c), Message: aws.String("m")})
		}
		return fmt.Errorf("op: %w", &types.TransactionCanceledException{CancellationReasons: rs})
	}
	cases := []struct {
		err  error
		want class
	}{
		{&types.ConditionalCheckFailedException{}, conflict},
		{reason("None", "ConditionalCheckFailed"), conflict},
		{reason("TransactionConflict", "None"), conflict},
		{reason("ThrottlingError"), retryable},
		{reason("ValidationError"), fatal},
		{&types.TransactionConflictException{}, conflict},
		{&types.ProvisionedThroughputExceededException{}, retryable},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, retryable},
		{&smithy.GenericAPIError{Code: "InternalServerError"}, retryable},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, tooLarge},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "bad expression"}, fatal},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), retryable},
	}
	for _, c := range cases {
		if got, code := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %d (%s), want %d", c.err, got, code, c.want)
		}
	}
}
