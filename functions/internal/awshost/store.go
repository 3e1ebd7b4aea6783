package awshost

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lazyflow/lazyflow/core/store"
)

// openStore opens the DynamoDB store. TODO(lead): wire
// functions/aws/dynamostore here once it is committed; until then the
// functions fail at cold start with this error rather than run on a store
// that forgets.
func openStore(ctx context.Context, cfg aws.Config, c Config) (store.Store, error) {
	return nil, errors.New("the DynamoDB store (functions/aws/dynamostore) is not wired into awshost yet")
}
