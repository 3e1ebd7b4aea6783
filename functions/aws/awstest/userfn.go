// Package awstest holds what tests against the AWS emulators share:
// starting MiniStack and DynamoDB Local with the repo's localstack/ scripts
// (emulator.go), and deploying the user's Go Lambda function the AWS action
// tests call (functions/aws/awsactions/testdata/userfn).
package awstest

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// UserFunctionDir is the function's main package, relative to the repo root.
const UserFunctionDir = "functions/aws/awsactions/testdata/userfn"

// DeployUserFunction builds the function as a provided.al2023 bootstrap for
// this host (emulators run it as a local process) and creates it as name,
// replacing a function of that name, then waits until it is active.
func DeployUserFunction(ctx context.Context, lc *lambda.Client, root, name string) error {
	tmp, err := os.MkdirTemp("", "lazyflow-userfn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", bin, "./"+UserFunctionDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOARCH="+runtime.GOARCH, "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", UserFunctionDir, err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = w.Write(code)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("zip bootstrap: %w", err)
	}
	arch := lambdatypes.ArchitectureX8664
	if runtime.GOARCH == "arm64" {
		arch = lambdatypes.ArchitectureArm64
	}
	_, _ = lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String("arn:aws:iam::000000000000:role/user-fn"),
		Code:          &lambdatypes.FunctionCode{ZipFile: buf.Bytes()},
		Architectures: []lambdatypes.Architecture{arch},
		Timeout:       aws.Int32(20),
	}); err != nil {
		return fmt.Errorf("create function %s: %w", name, err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("function %s never became active: %w", name, err)
	}
	return nil
}
