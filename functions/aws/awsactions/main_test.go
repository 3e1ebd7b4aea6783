package awsactions_test

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
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lazyflow/lazyflow/functions/aws/awstest"
)

// The tests run against MiniStack, which runs a real Go Lambda function as
// a local process. TestMain starts it with the repo's scripts when it does
// not answer (stop it with localstack/down.sh).
var endpoint string

func TestMain(m *testing.M) {
	if err := emulator(); err != nil {
		fmt.Fprintln(os.Stderr, "awsactions tests: emulator:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func emulator() error {
	env, err := awstest.Emulators("ministack")
	endpoint = env["AWS_ENDPOINT_URL"]
	return err
}

func awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// deployUserFunction creates the user's function on MiniStack under a
// fresh name and deletes it when the test ends.
func deployUserFunction(t *testing.T, ctx context.Context) string {
	t.Helper()
	root, err := awstest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	lc := lambda.NewFromConfig(awsConfig())
	name := randomName("user-fn-")
	if err := awstest.DeployUserFunction(ctx, lc, root, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})
	return name
}
