package dynamostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/functions/aws/awstest"
	"github.com/lazyflow/lazyflow/functions/aws/blobstore"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// The tests run against real servers, never mocks: DynamoDB Local (AWS's
// own emulator, the reference for conditional-write semantics) and MiniStack
// (the LocalStack-compatible emulator, also used for S3). TestMain starts
// them with the repo's scripts when they are not running.
var (
	ddbLocal  string // DynamoDB Local endpoint
	ministack string // MiniStack endpoint (DynamoDB and S3)
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	if err := emulators(); err != nil {
		fmt.Fprintln(os.Stderr, "dynamostore tests: emulators:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// emulators finds DynamoDB Local and MiniStack, starting them with the
// repo's scripts when either does not answer.
func emulators() error {
	env, err := awstest.Emulators("ministack", "ddblocal")
	ddbLocal, ministack = env["LAZYFLOW_DDB_LOCAL_ENDPOINT"], env["AWS_ENDPOINT_URL"]
	return err
}

func awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

func ddbClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func s3Client() *s3.Client {
	return s3.NewFromConfig(awsConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ministack)
		o.UsePathStyle = true
	})
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

var blobs *blobstore.Store

// valueBlobs is one bucket on MiniStack's S3 for every test's large values.
func valueBlobs(t testing.TB) *blobstore.Store {
	if blobs == nil {
		b := blobstore.New(s3Client(), "lazyflow-test-values", "values/")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.EnsureBucket(ctx); err != nil {
			t.Fatalf("S3 bucket on MiniStack: %v", err)
		}
		blobs = b
	}
	return blobs
}

// newStore makes a fresh table on endpoint and a store over it.
func newStore(t testing.TB, endpoint string, opt dynamostore.Options) *dynamostore.Store {
	t.Helper()
	return newStoreWith(t, ddbClient(endpoint), opt)
}

// newStoreWith is newStore over a client of the caller's.
func newStoreWith(t testing.TB, c *dynamodb.Client, opt dynamostore.Options) *dynamostore.Store {
	t.Helper()
	opt.Table = createTable(t, c, "lazyflow-test-")
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(opt.Table)})
	})
	return dynamostore.New(c, opt)
}

// createTable creates a table named prefix and a random suffix on c's endpoint.
func createTable(t testing.TB, c *dynamodb.Client, prefix string) string {
	t.Helper()
	table := randomName(prefix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, c, table); err != nil {
		t.Fatalf("create table on %s: %v", aws.ToString(c.Options().BaseEndpoint), err)
	}
	return table
}

func startReq(wf string) service.StartRequest { return service.StartRequest{Workflow: wf} }
