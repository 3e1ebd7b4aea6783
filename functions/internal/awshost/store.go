package awshost

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/blobstore"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// openStore opens the DynamoDB store, with large values offloaded to
// LAZYFLOW_BUCKET when it is set.
func openStore(ctx context.Context, cfg aws.Config, c Config, log *slog.Logger) (store.Store, error) {
	opt := dynamostore.Options{Table: c.Table, Retention: c.Retention, Log: log}
	if c.Retention == 0 {
		opt.Retention = -1 // keep everything: no TTL either
	}
	if c.Bucket != "" {
		s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
			// Emulators serve buckets by path, not by virtual host.
			o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
		})
		opt.Blobs = blobstore.New(s3c, c.Bucket, "values/")
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), opt), nil
}
