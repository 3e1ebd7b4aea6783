//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// env is what every test uses: the deployed stack, the API client, AWS clients for the
// operator-side checks (queues, table) and the third-party server actions call.
var env struct {
	root     string
	endpoint string
	out      Outputs
	api      *Client
	sqs      *sqs.Client
	ddb      *dynamodb.Client
	tp       *thirdParty
	figures  []string // printed at the end of the run
}

// TestMain makes sure the emulator is up and the stack deployed, then runs the suite:
//   - AWS_ENDPOINT_URL unset: install.sh and up.sh (MiniStack only; the stack does not use
//     DynamoDB Local), and down.sh at the end, but only if this run started the emulator;
//   - AWS_ENDPOINT_URL set (a Docker LocalStack, or an emulator you started): use it as is;
//   - deploy.sh every run (idempotent; about 20 s), unless LAZYFLOW_E2E_DEPLOY=0, which reuses
//     .cache/localstack/outputs.json from an earlier deploy.
//
// A failed setup fails the whole run with the reason; nothing is skipped.
func TestMain(m *testing.M) {
	code, err := setupAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func setupAndRun(m *testing.M) (code int, err error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return 1, err
	}
	env.root = root
	state := filepath.Join(root, ".cache", "localstack")
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		running := emulatorRunning(state)
		if !running {
			if err := script(root, "localstack/install.sh", "ministack", "cdk"); err != nil {
				return 1, err
			}
			if err := script(root, "localstack/up.sh", "ministack"); err != nil {
				return 1, err
			}
			defer func() {
				if derr := script(root, "localstack/down.sh", "ministack"); derr != nil && err == nil {
					err = derr
				}
			}()
		}
		if err := loadEnv(filepath.Join(state, "env")); err != nil {
			return 1, err
		}
	}
	env.endpoint = os.Getenv("AWS_ENDPOINT_URL")
	if os.Getenv("LAZYFLOW_E2E_DEPLOY") != "0" {
		if err := script(root, "localstack/deploy.sh"); err != nil {
			return 1, fmt.Errorf("%w\nthe suite needs the stack deployed with working functions (functions/api, engine, runner)", err)
		}
	}
	if env.out, err = LoadOutputs(filepath.Join(state, "outputs.json")); err != nil {
		return 1, err
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return 1, fmt.Errorf("load AWS config: %w", err)
	}
	env.api = NewClient(env.endpoint, env.out.APIID, cfg.Region, cfg.Credentials)
	env.sqs = sqs.NewFromConfig(cfg)
	env.ddb = dynamodb.NewFromConfig(cfg)
	if env.tp, err = startThirdParty(); err != nil {
		return 1, err
	}
	defer env.tp.srv.Close()
	start := time.Now()
	code = m.Run()
	fmt.Printf("\ne2e: suite ran in %s against %s (stack %s)\n", time.Since(start).Round(time.Second), env.endpoint, env.out.StackName)
	for _, f := range env.figures {
		fmt.Println("e2e:", f)
	}
	return code, nil
}

// emulatorRunning reports whether an earlier up.sh left MiniStack running (its env file is
// there and its health endpoint answers), so this run must not stop it.
func emulatorRunning(state string) bool {
	if _, err := os.Stat(filepath.Join(state, "ministack.pid")); err != nil {
		return false
	}
	port, err := os.ReadFile(filepath.Join(state, "ministack.port"))
	if err != nil {
		return false
	}
	cmd := exec.Command("curl", "-sf", "-m", "2", "http://127.0.0.1:"+strings.TrimSpace(string(port))+"/_ministack/health")
	return cmd.Run() == nil
}

// script runs one of the repo's scripts with its output on stderr (so `go test` shows it).
func script(root, name string, args ...string) error {
	cmd := exec.Command(filepath.Join(root, name), args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// loadEnv sets the KEY=VALUE lines of up.sh's env file in this process.
func loadEnv(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("emulator env file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && k != "" && !strings.HasPrefix(k, "#") {
			if err := os.Setenv(k, v); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

// figure records a line for the end-of-run summary.
func figure(format string, a ...any) { env.figures = append(env.figures, fmt.Sprintf(format, a...)) }
