package awshost_test

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/functions/internal/awshost"
)

// The secret tests use Secrets Manager as MiniStack serves it; with
// AWS_ENDPOINT_URL unset, TestMain starts MiniStack with localstack/up.sh.
func TestMain(m *testing.M) {
	stop := func() {}
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		root := filepath.Join("..", "..", "..")
		env := filepath.Join(root, ".cache", "localstack", "env")
		_, statErr := os.Stat(env)
		for _, s := range []string{"install.sh", "up.sh"} {
			cmd := exec.Command("./localstack/"+s, "ministack")
			cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "localstack/"+s+":", err)
				os.Exit(1)
			}
		}
		if statErr != nil {
			stop = func() {
				cmd := exec.Command("./localstack/down.sh", "ministack")
				cmd.Dir = root
				_ = cmd.Run()
			}
		}
		f, err := os.Open(env)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
				os.Setenv(k, v)
			}
		}
		f.Close()
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	_, err := awshost.FromEnv(envOf(map[string]string{"LAZYFLOW_ACTION_DEADLINE": "soon"}))
	for _, want := range []string{"LAZYFLOW_TABLE", "LAZYFLOW_TASK_QUEUE_URL", "LAZYFLOW_RESULT_QUEUE_URL", "LAZYFLOW_CALLBACK_SECRET_ARN", "LAZYFLOW_ACTION_DEADLINE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not name %s", err, want)
		}
	}
	c, err := awshost.FromEnv(envOf(map[string]string{"LAZYFLOW_TABLE": "t", "LAZYFLOW_TASK_QUEUE_URL": "tq", "LAZYFLOW_RESULT_QUEUE_URL": "rq",
		"LAZYFLOW_CALLBACK_KEY": strings.Repeat("k", 32), "LAZYFLOW_CALLBACK_BASE_URL": "https://x/callbacks", "LAZYFLOW_ACTION_DEADLINE": "900",
		"LAZYFLOW_LOG_LEVEL": "debug"}))
	if err != nil || c.ActionDeadline != 900 || c.CallbackBaseURL != "https://x/callbacks/" || c.LogLevel.String() != "DEBUG" {
		t.Fatalf("%+v %v", c, err)
	}
	if c.SweepMinAge != 2*time.Minute || c.SweepMax != 1000 {
		t.Fatalf("sweep defaults: min age %v, max %d", c.SweepMinAge, c.SweepMax)
	}
	if _, err := awshost.CallbackKey(context.Background(), awshost.Config{CallbackKey: "short"}, nil); err == nil {
		t.Fatal("a short key was accepted")
	}
}

func TestFromEnvSweep(t *testing.T) {
	env := map[string]string{"LAZYFLOW_TABLE": "t", "LAZYFLOW_TASK_QUEUE_URL": "tq", "LAZYFLOW_RESULT_QUEUE_URL": "rq",
		"LAZYFLOW_CALLBACK_KEY": strings.Repeat("k", 32), "LAZYFLOW_SWEEP_MIN_AGE": "30", "LAZYFLOW_SWEEP_MAX": "5"}
	c, err := awshost.FromEnv(envOf(env))
	if err != nil || c.SweepMinAge != 30*time.Second || c.SweepMax != 5 {
		t.Fatalf("%+v %v", c, err)
	}
	for k, v := range map[string]string{"LAZYFLOW_SWEEP_MIN_AGE": "2m", "LAZYFLOW_SWEEP_MAX": "0"} {
		bad := map[string]string{}
		for k2, v2 := range env {
			bad[k2] = v2
		}
		bad[k] = v
		if _, err := awshost.FromEnv(envOf(bad)); err == nil || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), v) {
			t.Errorf("%s=%s: error %v does not name the variable and value", k, v, err)
		}
	}
}

func TestCallbackKeyFromSecretsManager(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	suffix := fmt.Sprint(time.Now().UnixNano())
	cases := []struct{ name, secret, want string }{
		{"plain", "plain-key-0123456789abcdef0123456789", "plain-key-0123456789abcdef0123456789"},
		{"json", `{"key": "json-key-0123456789abcdef0123456789"}`, "json-key-0123456789abcdef0123456789"},
	}
	for _, c := range cases {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("lazyflow-test-" + c.name + "-" + suffix), SecretString: aws.String(c.secret)})
		if err != nil {
			t.Fatalf("create secret: %v", err)
		}
		t.Cleanup(func() {
			_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
		})
		key, err := awshost.CallbackKey(ctx, awshost.Config{CallbackSecretARN: aws.ToString(out.ARN)}, sm)
		if err != nil || string(key) != c.want {
			t.Fatalf("%s: key %q, %v", c.name, key, err)
		}
	}
	if _, err := awshost.CallbackKey(ctx, awshost.Config{CallbackSecretARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:missing-" + suffix}, sm); err == nil {
		t.Fatal("a missing secret gave a key")
	}
}

func TestFromEnvRetention(t *testing.T) {
	env := map[string]string{"LAZYFLOW_TABLE": "t", "LAZYFLOW_TASK_QUEUE_URL": "tq", "LAZYFLOW_RESULT_QUEUE_URL": "rq",
		"LAZYFLOW_CALLBACK_KEY": strings.Repeat("k", 32)}
	c, err := awshost.FromEnv(envOf(env))
	if err != nil || c.Retention != 30*24*time.Hour {
		t.Fatalf("default retention %v, %v; want 30 days", c.Retention, err)
	}
	env["LAZYFLOW_RETENTION_DAYS"] = "0"
	if c, err := awshost.FromEnv(envOf(env)); err != nil || c.Retention != 0 {
		t.Fatalf("retention 0: %v, %v", c.Retention, err)
	}
	env["LAZYFLOW_RETENTION_DAYS"] = "-3"
	if _, err := awshost.FromEnv(envOf(env)); err == nil || !strings.Contains(err.Error(), "LAZYFLOW_RETENTION_DAYS") {
		t.Fatalf("a negative retention: error %v", err)
	}
}

func TestFromEnvInlineAndRunnerApplies(t *testing.T) {
	env := map[string]string{"LAZYFLOW_TABLE": "t", "LAZYFLOW_TASK_QUEUE_URL": "tq", "LAZYFLOW_RESULT_QUEUE_URL": "rq",
		"LAZYFLOW_CALLBACK_KEY": strings.Repeat("k", 32)}
	c, err := awshost.FromEnv(envOf(env))
	if err != nil || c.InlineSteps != service.DefaultInlineSteps || c.RunnerApplies {
		t.Fatalf("defaults: inline %d, runner applies %v, %v", c.InlineSteps, c.RunnerApplies, err)
	}
	env["LAZYFLOW_INLINE_STEPS"], env["LAZYFLOW_RUNNER_APPLIES"] = "0", "1"
	c, err = awshost.FromEnv(envOf(env))
	if err != nil || c.InlineSteps != 0 || !c.RunnerApplies {
		t.Fatalf("set: inline %d, runner applies %v, %v", c.InlineSteps, c.RunnerApplies, err)
	}
	svc := awshost.Build(c, nil, nil, nil, nil, nil)
	if svc.InlineSteps != 0 || !svc.RunnerApplies {
		t.Fatalf("service: inline %d, runner applies %v", svc.InlineSteps, svc.RunnerApplies)
	}
	env["LAZYFLOW_INLINE_STEPS"], env["LAZYFLOW_RUNNER_APPLIES"] = "-1", "maybe"
	_, err = awshost.FromEnv(envOf(env))
	if err == nil || !strings.Contains(err.Error(), "LAZYFLOW_INLINE_STEPS") || !strings.Contains(err.Error(), "LAZYFLOW_RUNNER_APPLIES") {
		t.Fatalf("bad values: error %v; want both named", err)
	}
}
