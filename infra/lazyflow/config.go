package lazyflow

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FunctionNames lists the Lambda functions in the order the Makefile builds them; each one is
// shipped as build/lambda/<name>/bootstrap.
var FunctionNames = []string{"api", "engine", "runner", "dlq", "sweeper"}

// Consumers are the functions fed by SQS event source mappings, with how many mappings each has:
// engine reads the result queue, runner the task queue, dlq both dead-letter queues.
var Consumers = []struct {
	Name     string
	Mappings int
}{{"engine", 1}, {"runner", 1}, {"dlq", 2}}

// FunctionConfig is the sizing of one Lambda function.
type FunctionConfig struct {
	MemorySize int // MiB
	Timeout    int // seconds
	// ReservedConcurrency caps the function's concurrent executions; 0 leaves it unreserved
	// (new accounts often have too little unreserved concurrency to reserve any).
	ReservedConcurrency int
}

// Config is everything a deployment may tune. ConfigFromContext fills it from CDK context
// (cdk.json or `-c key=value`); tests build it directly.
type Config struct {
	Stage string
	// Local selects the emulator profile: CliCredentialsStackSynthesizer, account 000000000000,
	// us-east-1, and DESTROY removal for data so a test stack can be torn down.
	Local bool
	// Arch is "arm64" or "x86_64"; emulators run the bootstrap natively, so they need the host's.
	Arch     string
	AssetDir string

	Functions map[string]FunctionConfig

	BatchSize int
	// BatchingWindow (seconds) and MaxConcurrency are per consuming function (see Consumers);
	// MaxConcurrency applies to each mapping, so dlq may run twice that many at once.
	BatchingWindow  map[string]int
	MaxConcurrency  map[string]int
	MaxReceiveCount int

	LogRetentionDays   int
	ValueRetentionDays int // lifecycle expiration of large values in the bucket (0: none)
	// ExecutionRetentionDays is LAZYFLOW_RETENTION_DAYS: the sweeper deletes finished
	// executions this long after their last update (0: keep everything).
	ExecutionRetentionDays int
	LogLevel               string

	ThrottleRate  int // steady requests per second on the API
	ThrottleBurst int

	// APIBaseURL, when set, replaces https://<apiId>.execute-api.<region>.<suffix> in ApiUrl
	// and the runner's callback URL with <APIBaseURL>/<apiId>/. Emulators serve HTTP APIs under
	// a path, e.g. http://127.0.0.1:4566/_aws/execute-api, not under AWS's host names.
	APIBaseURL string

	// SweepMinAge (seconds) and SweepMax are the sweeper function's LAZYFLOW_SWEEP_MIN_AGE and
	// LAZYFLOW_SWEEP_MAX; SweepEveryMinutes is the rate of its EventBridge schedule.
	SweepMinAge       int
	SweepMax          int
	SweepEveryMinutes int
	// SweeperSchedule adds the EventBridge rule that runs the sweeper. Without it the function
	// is still deployed and can be invoked by hand; emulators may not know AWS::Events::Rule,
	// and an unknown resource type rolls the whole stack back.
	SweeperSchedule bool

	// RunnerApplies sets LAZYFLOW_RUNNER_APPLIES on the runner: it applies its own results,
	// and uses the result queue only for large results and when applying fails.
	RunnerApplies bool
	// InlineSteps, when not negative, sets LAZYFLOW_INLINE_STEPS: how many std.noop, std.echo
	// and std.fail actions one invocation runs inline (0: none; negative: the functions' default).
	InlineSteps int
	// UserFunctions, UserQueues, UserTopics and UserBuses are the ARNs of the user's Lambda
	// functions, SQS queues, SNS topics and EventBridge buses that workflows may call with the
	// aws.* actions: the runner's role may invoke, send to, publish to and put events on
	// exactly these, and nothing when a list is empty.
	UserFunctions []string
	UserQueues    []string
	UserTopics    []string
	UserBuses     []string
}

// userResources names the context key, the ARN's service and the runner's IAM action of each
// allow-list.
func (c *Config) userResources() []struct {
	key, service, action string
	arns                 *[]string
} {
	return []struct {
		key, service, action string
		arns                 *[]string
	}{
		{"userFunctionArns", "lambda", "lambda:InvokeFunction", &c.UserFunctions},
		{"userQueueArns", "sqs", "sqs:SendMessage", &c.UserQueues},
		{"userTopicArns", "sns", "sns:Publish", &c.UserTopics},
		{"userEventBusArns", "events", "events:PutEvents", &c.UserBuses},
	}
}

// DefaultConfig is the configuration used for every key the context leaves unset.
func DefaultConfig() Config {
	return Config{
		Stage:    "dev",
		Arch:     "arm64",
		AssetDir: "../build/lambda",
		Functions: map[string]FunctionConfig{
			// API Gateway gives up on an integration after 30s, so the API must answer before.
			"api":    {MemorySize: 256, Timeout: 29},
			"engine": {MemorySize: 512, Timeout: 30},
			// The runner executes user actions (HTTP calls, scripts), the slowest step.
			"runner": {MemorySize: 512, Timeout: 120},
			// dlq runs one engine step per dead letter, like the engine.
			"dlq": {MemorySize: 256, Timeout: 30},
			// One sweep reads up to sweepMax executions, a few table reads each.
			"sweeper": {MemorySize: 256, Timeout: 120},
		},
		BatchSize:      10,
		BatchingWindow: map[string]int{"engine": 0, "runner": 1, "dlq": 0},
		// Dead letters are rare; a few dlq instances keep a burst of them from crowding out the
		// engine on the table.
		MaxConcurrency:     map[string]int{"engine": 50, "runner": 100, "dlq": 5},
		MaxReceiveCount:    5,
		LogRetentionDays:   30,
		ValueRetentionDays: 40,
		// A finished execution's head expires by TTL a week after this, so large values,
		// which a stored execution may still read, outlive both.
		ExecutionRetentionDays: 30,
		LogLevel:               "info",
		ThrottleRate:           100,
		ThrottleBurst:          200,
		SweepMinAge:            120,
		SweepMax:               1000,
		SweepEveryMinutes:      5,
		SweeperSchedule:        true,
		InlineSteps:            -1,
	}
}

// contextKeys documents every key ConfigFromContext reads; README.md lists the same.
var contextKeys = []string{
	"stage", "local", "arch", "assetDir",
	"apiMemorySize", "engineMemorySize", "runnerMemorySize", "dlqMemorySize", "sweeperMemorySize",
	"apiTimeout", "engineTimeout", "runnerTimeout", "dlqTimeout", "sweeperTimeout",
	"apiReservedConcurrency", "engineReservedConcurrency", "runnerReservedConcurrency", "dlqReservedConcurrency",
	"sweeperReservedConcurrency",
	"batchSize", "engineBatchingWindow", "runnerBatchingWindow", "dlqBatchingWindow",
	"engineMaxConcurrency", "runnerMaxConcurrency", "dlqMaxConcurrency", "maxReceiveCount",
	"retentionDays", "valueRetentionDays", "executionRetentionDays", "logLevel", "throttleRate", "throttleBurst",
	"apiBaseUrl", "sweepMinAge", "sweepMax", "sweepEveryMinutes", "sweeperSchedule", "runnerApplies", "inlineSteps",
	"userFunctionArns", "userQueueArns", "userTopicArns", "userEventBusArns",
}

// ConfigFromContext reads the CDK context of node over DefaultConfig and validates the result.
func ConfigFromContext(node constructs.Node) (Config, error) {
	c := DefaultConfig()
	get := func(key string) (string, bool) {
		v := node.TryGetContext(jsii.String(key))
		if v == nil {
			return "", false
		}
		return fmt.Sprint(v), true
	}
	var errs []string
	intKey := func(key string, dst *int) {
		s, ok := get(key)
		if !ok {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Sprintf("context %q: %q is not an integer", key, s))
			return
		}
		*dst = n
	}
	if s, ok := get("stage"); ok {
		c.Stage = s
	}
	boolKey := func(key string, dst *bool) {
		s, ok := get(key)
		if !ok {
			return
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "true", "yes":
			*dst = true
		case "0", "false", "no", "":
			*dst = false
		default:
			errs = append(errs, fmt.Sprintf("context %q: %q is not 1 or 0", key, s))
		}
	}
	boolKey("local", &c.Local)
	// The emulator profile leaves the schedule out unless asked for: MiniStack may not know
	// AWS::Events::Rule, and one unknown type rolls the whole stack back.
	c.SweeperSchedule = !c.Local
	boolKey("sweeperSchedule", &c.SweeperSchedule)
	boolKey("runnerApplies", &c.RunnerApplies)
	if s, ok := get("arch"); ok {
		c.Arch = s
	}
	if s, ok := get("assetDir"); ok {
		c.AssetDir = s
	}
	if s, ok := get("logLevel"); ok {
		c.LogLevel = s
	}
	if s, ok := get("apiBaseUrl"); ok {
		c.APIBaseURL = strings.TrimRight(strings.TrimSpace(s), "/")
	}
	for _, name := range FunctionNames {
		f := c.Functions[name]
		intKey(name+"MemorySize", &f.MemorySize)
		intKey(name+"Timeout", &f.Timeout)
		intKey(name+"ReservedConcurrency", &f.ReservedConcurrency)
		c.Functions[name] = f
	}
	for _, cons := range Consumers {
		name := cons.Name
		w, m := c.BatchingWindow[name], c.MaxConcurrency[name]
		intKey(name+"BatchingWindow", &w)
		intKey(name+"MaxConcurrency", &m)
		c.BatchingWindow[name], c.MaxConcurrency[name] = w, m
	}
	intKey("batchSize", &c.BatchSize)
	intKey("maxReceiveCount", &c.MaxReceiveCount)
	intKey("retentionDays", &c.LogRetentionDays)
	intKey("valueRetentionDays", &c.ValueRetentionDays)
	intKey("executionRetentionDays", &c.ExecutionRetentionDays)
	intKey("throttleRate", &c.ThrottleRate)
	intKey("throttleBurst", &c.ThrottleBurst)
	intKey("sweepMinAge", &c.SweepMinAge)
	intKey("sweepMax", &c.SweepMax)
	intKey("sweepEveryMinutes", &c.SweepEveryMinutes)
	for _, u := range c.userResources() {
		if s, ok := get(u.key); ok {
			*u.arns = splitList(s)
		}
	}
	intKey("inlineSteps", &c.InlineSteps)
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("reading CDK context: %s", strings.Join(errs, "; "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

var stagePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// Validate rejects values AWS would reject at deploy time, so a mistake fails at synth with the
// name of the key instead of half-way through a CloudFormation rollback.
func (c Config) Validate() error {
	var errs []string
	for _, check := range []func() []string{c.basicProblems, c.functionProblems, c.queueProblems,
		c.retentionProblems, c.sweepProblems, c.userResourceProblems} {
		errs = append(errs, check()...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid Lazyflow configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// problems collects messages for the checks below.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// basicProblems checks the stage, the architecture, the asset directory, the log level, the
// API's base URL and its throttling.
func (c Config) basicProblems() []string {
	var p problems
	if !stagePattern.MatchString(c.Stage) {
		p.add("stage %q must be 1-20 lowercase letters, digits or '-', starting with a letter", c.Stage)
	}
	if c.Arch != "arm64" && c.Arch != "x86_64" {
		p.add("arch %q must be arm64 or x86_64", c.Arch)
	}
	if c.AssetDir == "" {
		p.add("assetDir must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add("logLevel %q must be debug, info, warn or error", c.LogLevel)
	}
	if c.APIBaseURL != "" {
		if u, err := url.Parse(c.APIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("apiBaseUrl %q must be an absolute http(s) URL", c.APIBaseURL)
		}
	}
	if c.ThrottleRate < 1 || c.ThrottleBurst < 1 {
		p.add("throttleRate %d and throttleBurst %d must be positive", c.ThrottleRate, c.ThrottleBurst)
	}
	return p
}

// functionProblems checks each function's sizing against Lambda's limits.
func (c Config) functionProblems() []string {
	var p problems
	for _, name := range FunctionNames {
		f, ok := c.Functions[name]
		if !ok {
			p.add("function %q has no configuration", name)
			continue
		}
		if f.MemorySize < 128 || f.MemorySize > 10240 {
			p.add("%sMemorySize %d must be within 128..10240 MiB", name, f.MemorySize)
		}
		if f.Timeout < 1 || f.Timeout > 900 {
			p.add("%sTimeout %d must be within 1..900 seconds", name, f.Timeout)
		}
		if f.ReservedConcurrency < 0 {
			p.add("%sReservedConcurrency %d must not be negative", name, f.ReservedConcurrency)
		}
	}
	if f := c.Functions["api"]; f.Timeout > 29 {
		// HTTP APIs time an integration out at 30s; a longer function timeout only hides that.
		p.add("apiTimeout %d must be at most 29 seconds (API Gateway's integration limit)", f.Timeout)
	}
	return p
}

// queueProblems checks the queues and their event source mappings.
func (c Config) queueProblems() []string {
	var p problems
	var noWindow []string
	for _, cons := range Consumers {
		name := cons.Name
		// SQS caps the visibility timeout at 12 hours and the consumed queue's is 6x the
		// function timeout.
		if t := c.Functions[name].Timeout; t*6 > 43200 {
			p.add("%sTimeout %d gives a visibility timeout over SQS's 12 hours", name, t)
		}
		w := c.BatchingWindow[name]
		if w < 0 || w > 300 {
			p.add("%sBatchingWindow %d must be within 0..300 seconds", name, w)
		}
		if w == 0 {
			noWindow = append(noWindow, name)
		}
		m := c.MaxConcurrency[name]
		if m < 2 || m > 1000 {
			p.add("%sMaxConcurrency %d must be within 2..1000", name, m)
		}
		// Maximum concurrency is per mapping, so a function with two mappings needs room for both.
		if r := c.Functions[name].ReservedConcurrency; r > 0 && r < cons.Mappings*m {
			p.add("%sReservedConcurrency %d is below %d x %sMaxConcurrency %d; the mappings would be throttled",
				name, r, cons.Mappings, name, m)
		}
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		p.add("batchSize %d must be within 1..10000", c.BatchSize)
	}
	if c.BatchSize > 10 && len(noWindow) > 0 {
		// Lambda refuses a batch size above 10 on a standard queue without a batching window.
		p.add("batchSize %d above 10 needs a batching window of at least 1 second (%s have none)",
			c.BatchSize, strings.Join(noWindow, ", "))
	}
	if c.MaxReceiveCount < 1 || c.MaxReceiveCount > 1000 {
		p.add("maxReceiveCount %d must be within 1..1000", c.MaxReceiveCount)
	}
	return p
}

// retentionProblems checks how long logs, executions and large values are kept.
func (c Config) retentionProblems() []string {
	var p problems
	if _, ok := retentionDays[c.LogRetentionDays]; !ok {
		p.add("retentionDays %d is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", c.LogRetentionDays)
	}
	switch {
	case c.ExecutionRetentionDays < 0:
		p.add("executionRetentionDays %d must not be negative (0 keeps everything)", c.ExecutionRetentionDays)
	case c.ValueRetentionDays < 0:
		p.add("valueRetentionDays %d must not be negative (0: no expiration)", c.ValueRetentionDays)
	case c.ExecutionRetentionDays == 0 && c.ValueRetentionDays != 0:
		p.add("valueRetentionDays %d with executionRetentionDays 0: executions kept forever would lose their large values; set valueRetentionDays to 0", c.ValueRetentionDays)
	case c.ExecutionRetentionDays > 0 && c.ValueRetentionDays != 0 && c.ValueRetentionDays <= c.ExecutionRetentionDays+7:
		p.add("valueRetentionDays %d must exceed executionRetentionDays + 7 (%d): a stored execution may still read its large values", c.ValueRetentionDays, c.ExecutionRetentionDays+7)
	}
	return p
}

// sweepProblems checks the sweeper's settings.
func (c Config) sweepProblems() []string {
	var p problems
	if c.SweepMinAge < 0 {
		p.add("sweepMinAge %d must not be negative", c.SweepMinAge)
	}
	if c.SweepMax < 1 {
		p.add("sweepMax %d must be at least 1", c.SweepMax)
	}
	// EventBridge rates are whole minutes, at least one.
	if c.SweepEveryMinutes < 1 || c.SweepEveryMinutes > 1440 {
		p.add("sweepEveryMinutes %d must be within 1..1440", c.SweepEveryMinutes)
	}
	return p
}

// userResourceProblems checks every ARN of the allow-lists.
func (c Config) userResourceProblems() []string {
	var out []string
	for _, u := range c.userResources() {
		for _, arn := range *u.arns {
			if msg := checkARN(arn, u.service); msg != "" {
				out = append(out, fmt.Sprintf("%s: %q %s", u.key, arn, msg))
			}
		}
	}
	return out
}

// splitList reads an allow-list from context: comma- or space-separated text, or a JSON list
// (which the CDK hands over as a Go slice, printed as "[a b]").
func splitList(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// checkARN reports what is wrong with an allow-list entry: not an ARN of the service, or a
// wildcard, which would grant more than the functions, queues, topics and buses named.
func checkARN(arn, service string) string {
	parts := strings.SplitN(arn, ":", 6)
	switch {
	case strings.ContainsAny(arn, "*?"):
		return "has a wildcard; list each ARN"
	case len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[5] == "":
		return "is not an ARN (arn:partition:service:region:account:resource)"
	case parts[2] != service:
		return fmt.Sprintf("is not a %s ARN", service)
	}
	return ""
}

// retentionDays maps the day counts CloudWatch Logs accepts to the CDK's enum.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}
