// Package awshost builds what every Lambda function of Lazyflow needs —
// the service over DynamoDB and SQS, its callback key, a JSON logger —
// from the environment the infrastructure sets, once per cold start.
//
// Environment:
//
//	LAZYFLOW_TABLE                DynamoDB table (required)
//	LAZYFLOW_BUCKET               S3 bucket for values too large for an item (optional)
//	LAZYFLOW_TASK_QUEUE_URL       SQS task queue (required)
//	LAZYFLOW_RESULT_QUEUE_URL     SQS result queue (required)
//	LAZYFLOW_CALLBACK_SECRET_ARN  Secrets Manager secret holding the callback key, or
//	LAZYFLOW_CALLBACK_KEY         the key itself (local runs); its text, at least 32 bytes
//	LAZYFLOW_CALLBACK_BASE_URL    the API's URL for callbacks, ending in /callbacks/
//	LAZYFLOW_ACTION_DEADLINE      seconds an action may run before the watchdog fails it
//	LAZYFLOW_LOG_LEVEL            debug, info (default), warn or error
//	LAZYFLOW_INLINE_STEPS         std.noop, std.echo and std.fail actions one invocation runs
//	                              inline before queueing the next (default 32; 0: none)
//	LAZYFLOW_RUNNER_APPLIES       1: the runner applies its own results, using the result
//	                              queue for large ones and when applying fails (default 0)
//	LAZYFLOW_SWEEP_MIN_AGE        sweeper: seconds a task must have been started before its
//	                              unclaimed action is sent again (default 120)
//	LAZYFLOW_SWEEP_MAX            sweeper: most RUNNING executions one sweep looks at (default 1000)
//	LAZYFLOW_RETENTION_DAYS       days a finished execution is kept: the sweeper deletes it
//	                              then, the table's TTL a week later as a backstop
//	                              (default 30; 0 keeps everything)
//
// The AWS SDK reads its own variables, AWS_ENDPOINT_URL included, so the
// same functions run against an emulator.
package awshost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/callback"
	"github.com/lazyflow/lazyflow/core/gctune"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
	"github.com/lazyflow/lazyflow/functions/aws/sqsqueue"
)

// Config is what the environment says.
type Config struct {
	Table             string
	Bucket            string
	TaskQueueURL      string
	ResultQueueURL    string
	CallbackSecretARN string
	CallbackKey       string
	CallbackBaseURL   string
	ActionDeadline    int
	LogLevel          slog.Level
	// SweepMinAge and SweepMax are the sweeper's arguments to service.Sweep.
	SweepMinAge time.Duration
	SweepMax    int
	// Retention is how long finished executions are kept (0: forever).
	Retention time.Duration
	// InlineSteps and RunnerApplies are the service's fields of those names.
	InlineSteps   int
	RunnerApplies bool
}

// Sweeper defaults: two minutes is well past a normal commit-to-claim delay, so a
// sweep does not duplicate a message that is merely still queued.
const (
	DefaultSweepMinAge = 120 * time.Second
	DefaultSweepMax    = 1000
	DefaultRetention   = 30 * 24 * time.Hour
	// PurgeMax bounds the executions one sweeper run deletes, so a backlog
	// is worked off over several runs within the function's timeout.
	PurgeMax = 200
)

// FromEnv reads the configuration, naming every missing or bad variable.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Table:             getenv("LAZYFLOW_TABLE"),
		Bucket:            getenv("LAZYFLOW_BUCKET"),
		TaskQueueURL:      getenv("LAZYFLOW_TASK_QUEUE_URL"),
		ResultQueueURL:    getenv("LAZYFLOW_RESULT_QUEUE_URL"),
		CallbackSecretARN: getenv("LAZYFLOW_CALLBACK_SECRET_ARN"),
		CallbackKey:       getenv("LAZYFLOW_CALLBACK_KEY"),
		CallbackBaseURL:   getenv("LAZYFLOW_CALLBACK_BASE_URL"),
		SweepMinAge:       DefaultSweepMinAge,
		SweepMax:          DefaultSweepMax,
		Retention:         DefaultRetention,
		InlineSteps:       service.DefaultInlineSteps,
	}
	var errs []error
	for name, v := range map[string]string{"LAZYFLOW_TABLE": c.Table, "LAZYFLOW_TASK_QUEUE_URL": c.TaskQueueURL,
		"LAZYFLOW_RESULT_QUEUE_URL": c.ResultQueueURL} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
	}
	if c.CallbackSecretARN == "" && c.CallbackKey == "" {
		errs = append(errs, errors.New("neither LAZYFLOW_CALLBACK_SECRET_ARN nor LAZYFLOW_CALLBACK_KEY is set"))
	}
	if c.CallbackBaseURL != "" && !strings.HasSuffix(c.CallbackBaseURL, "/") {
		c.CallbackBaseURL += "/"
	}
	if s := getenv("LAZYFLOW_ACTION_DEADLINE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("LAZYFLOW_ACTION_DEADLINE must be a whole number of seconds, not %q", s))
		}
		c.ActionDeadline = n
	}
	if s := getenv("LAZYFLOW_SWEEP_MIN_AGE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("LAZYFLOW_SWEEP_MIN_AGE must be a whole number of seconds, not %q", s))
		}
		c.SweepMinAge = time.Duration(n) * time.Second
	}
	if s := getenv("LAZYFLOW_SWEEP_MAX"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("LAZYFLOW_SWEEP_MAX must be a positive whole number, not %q", s))
		}
		c.SweepMax = n
	}
	if s := getenv("LAZYFLOW_RETENTION_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("LAZYFLOW_RETENTION_DAYS must be a whole number of days (0: keep everything), not %q", s))
		}
		c.Retention = time.Duration(n) * 24 * time.Hour
	}
	if s := getenv("LAZYFLOW_INLINE_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("LAZYFLOW_INLINE_STEPS must be a whole number (0: none inline), not %q", s))
		}
		c.InlineSteps = n
	}
	switch s := getenv("LAZYFLOW_RUNNER_APPLIES"); s {
	case "", "0", "false":
	case "1", "true":
		c.RunnerApplies = true
	default:
		errs = append(errs, fmt.Errorf("LAZYFLOW_RUNNER_APPLIES must be 1 or 0, not %q", s))
	}
	if s := getenv("LAZYFLOW_LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			errs = append(errs, fmt.Errorf("LAZYFLOW_LOG_LEVEL: %w", err))
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("lazyflow configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// Logger is the JSON logger every function uses.
func Logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// OpenStore opens the DynamoDB store; see store.go.
var OpenStore = openStore

// Service builds the service from the environment. Lambda functions call it
// once at cold start and fail the start on an error, so a misconfigured
// deployment is loud at once instead of on the first message.
func Service(ctx context.Context) (*service.Service, error) {
	c, err := FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	log := Logger(c.LogLevel)
	gc := gctune.Apply(nil, "")
	log.Debug("garbage collector", slog.Int("gc_percent", gc.Percent), slog.Int64("memory_limit", gc.Limit), slog.String("memory_from", gc.From))
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	key, err := CallbackKey(ctx, c, secretsmanager.NewFromConfig(awsCfg))
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, awsCfg, c, log)
	if err != nil {
		return nil, err
	}
	q := sqs.NewFromConfig(awsCfg)
	svc := Build(c, st, sqsqueue.New(q, c.TaskQueueURL), sqsqueue.New(q, c.ResultQueueURL), key, log)
	// Every function registers them: the runner runs them, the API checks
	// workflows' calls against them.
	awsactions.Register(svc.Actions, awsactions.NewClients(awsCfg))
	return svc, nil
}

// The task queue sends a step's actions in batches.
var _ service.BatchSender = (*sqsqueue.Queue)(nil)

// Build wires a service from its parts (tests pass memory drivers).
func Build(c Config, st store.Store, tasks, results service.Sender, key []byte, log *slog.Logger) *service.Service {
	svc := service.New(st, actions.New(), log)
	svc.Tasks, svc.Results = tasks, results
	svc.CallbackKey, svc.CallbackURL = key, c.CallbackBaseURL
	svc.Engine.ActionDeadline = c.ActionDeadline
	svc.InlineSteps, svc.RunnerApplies = c.InlineSteps, c.RunnerApplies
	return svc
}

// SecretGetter is the part of the Secrets Manager client used.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// CallbackKey returns the callback signing key: LAZYFLOW_CALLBACK_KEY's
// text, or the secret's. A secret may hold the key as plain text, as
// binary, or as JSON {"key": "..."} (what a generated secret with a
// template looks like).
func CallbackKey(ctx context.Context, c Config, sm SecretGetter) ([]byte, error) {
	var key []byte
	from := "LAZYFLOW_CALLBACK_KEY"
	if c.CallbackKey != "" {
		key = []byte(c.CallbackKey)
	} else {
		from = "secret " + c.CallbackSecretARN
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.CallbackSecretARN)})
		if err != nil {
			return nil, fmt.Errorf("read callback key from %s: %w", from, err)
		}
		switch {
		case out.SecretBinary != nil:
			key = out.SecretBinary
		default:
			s := aws.ToString(out.SecretString)
			var wrapped struct {
				Key string `json:"key"`
			}
			if strings.HasPrefix(strings.TrimSpace(s), "{") && json.Unmarshal([]byte(s), &wrapped) == nil && wrapped.Key != "" {
				s = wrapped.Key
			}
			key = []byte(s)
		}
	}
	if len(key) < callback.MinKeyLen {
		return nil, fmt.Errorf("callback key from %s is %d bytes; at least %d are required", from, len(key), callback.MinKeyLen)
	}
	return key, nil
}
