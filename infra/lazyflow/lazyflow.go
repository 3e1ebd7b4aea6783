package lazyflow

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// LocalAccount and LocalRegion are where the emulator profile (Config.Local) deploys.
const (
	LocalAccount = "000000000000"
	LocalRegion  = "us-east-1"
)

// Names of the table's secondary indexes; the DynamoDB store in functions/ queries them by name.
const (
	IndexByWorkflow = "byWorkflow"
	IndexByState    = "byState"
)

// routes is the API's route table. Every route that reads or changes data needs SigV4 (IAM)
// signing. Callbacks are called by third parties that hold only the signed token in the URL,
// which the api function verifies, so API Gateway must let them through unauthenticated. The
// browser UI's pages (/, /ui, /ui/{proxy+}) are the same embedded static files for every stack
// and carry no data, so they are public too; the UI's own data route (/ui/api/, the graph drawn
// from a stored definition) is the more specific route and keeps IAM, like every API call the
// page makes.
// Mistral's API v2 is one greedy route under /v2 with IAM, except a delegate's result (PUT
// /v2/action_executions/{id}, more specific, so API Gateway picks it): its id is the same
// signed token.
var routes = []struct {
	Method awsapigatewayv2.HttpMethod
	Path   string
	IAM    bool
}{
	{awsapigatewayv2.HttpMethod_POST, "/workflows", true},
	{awsapigatewayv2.HttpMethod_GET, "/workflows", true},
	{awsapigatewayv2.HttpMethod_GET, "/workflows/{name}", true},
	{awsapigatewayv2.HttpMethod_POST, "/actions", true},
	{awsapigatewayv2.HttpMethod_GET, "/actions", true},
	{awsapigatewayv2.HttpMethod_GET, "/actions/{name}", true},
	{awsapigatewayv2.HttpMethod_DELETE, "/actions/{name}", true},
	{awsapigatewayv2.HttpMethod_POST, "/executions", true},
	{awsapigatewayv2.HttpMethod_GET, "/executions", true},
	{awsapigatewayv2.HttpMethod_GET, "/executions/{id}", true},
	{awsapigatewayv2.HttpMethod_POST, "/executions/{id}/pause", true},
	{awsapigatewayv2.HttpMethod_POST, "/executions/{id}/resume", true},
	{awsapigatewayv2.HttpMethod_POST, "/executions/{id}/cancel", true},
	{awsapigatewayv2.HttpMethod_POST, "/tasks/{id}/rerun", true},
	{awsapigatewayv2.HttpMethod_GET, "/openapi.json", true},
	{awsapigatewayv2.HttpMethod_POST, "/callbacks/{token}", false},
	{awsapigatewayv2.HttpMethod_POST, "/callbacks/{token}/heartbeat", false},
	{awsapigatewayv2.HttpMethod_ANY, "/v2/{proxy+}", true},
	{awsapigatewayv2.HttpMethod_PUT, "/v2/action_executions/{id}", false},
	{awsapigatewayv2.HttpMethod_GET, "/", false},
	{awsapigatewayv2.HttpMethod_GET, "/ui", false},
	{awsapigatewayv2.HttpMethod_GET, "/ui/{proxy+}", false},
	{awsapigatewayv2.HttpMethod_GET, "/ui/api/{proxy+}", true},
}

// accessLogFormat logs the route key, never the path: a callback path carries the bearer token.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"caller":"$context.identity.userArn","requestTime":"$context.requestTime",` +
	`"routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol",` +
	`"responseLength":"$context.responseLength","latencyMs":"$context.responseLatency",` +
	`"integrationError":"$context.integrationErrorMessage"}`

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings (a plain interface in the CDK).
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return s.destination
}
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat { return s.format }

// CheckAssets reports a clear error when a function's bootstrap binary is missing, so a synth
// before `make build` fails at once instead of deploying an empty or stale asset.
func CheckAssets(assetDir string) error {
	var missing []string
	for _, name := range FunctionNames {
		p := filepath.Join(assetDir, name, "bootstrap")
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, p)
		case err != nil:
			return fmt.Errorf("checking Lambda asset %s: %w", p, err)
		case !info.Mode().IsRegular():
			return fmt.Errorf("lambda asset %s is not a regular file", p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lambda bootstrap binaries missing (%s): run `make build` first, "+
			"or pass -c assetDir=<dir holding %s/>", strings.Join(missing, ", "), strings.Join(FunctionNames, "/, "))
	}
	return nil
}

// StackProps configures NewStack. StackProps.Synthesizer and Env are filled in for the emulator
// when Config.Local is set and they are left empty.
type StackProps struct {
	awscdk.StackProps
	Config Config
}

// Props configures New.
type Props struct {
	Config Config
	// OutputPrefix starts the logical id of each stack output (ApiUrl, ApiId, TableName, …).
	// The outputs keep these exact names, so scripts can read them; two Lazyflow constructs in
	// one stack need different prefixes.
	OutputPrefix string
}

// Lazyflow is every resource Lazyflow runs on, as one construct, so a CDK app can hold it
// beside its own resources and let workflows call them (GrantInvoke and the Allow methods).
type Lazyflow struct {
	// Construct holds every resource below. It is a field, not embedded: jsii refuses a Go
	// struct embedding a construct where a scope is expected, so pass lf.Construct.
	Construct      constructs.Construct
	Config         Config
	Table          awsdynamodb.Table
	Bucket         awss3.Bucket
	CallbackSecret awssecretsmanager.Secret
	TaskQueue      awssqs.Queue
	ResultQueue    awssqs.Queue
	TaskDlq        awssqs.Queue
	ResultDlq      awssqs.Queue
	// Functions and Roles are keyed by FunctionNames ("api", "engine", "runner", "dlq", "sweeper").
	Functions map[string]awslambda.Function
	Roles     map[string]awsiam.Role
	API       awsapigatewayv2.HttpApi
	// APIURL is the API's base URL, ending in "/".
	APIURL *string

	// userGrants holds the runner's one statement per kind of user resource, created on first
	// use, so each Grant or Allow call adds resources to it rather than a statement of its own.
	userGrants map[string]awsiam.PolicyStatement
}

// NewStack defines a stack holding one Lazyflow construct, as the infra app deploys it. The
// construct's id is "Default", which the CDK leaves out of logical ids, so the resources keep
// the ids they have in a stack of their own. It fails, without side effects beyond the
// constructs already added to scope, when the configuration is invalid or the function
// binaries have not been built.
func NewStack(scope constructs.Construct, id string, props *StackProps) (awscdk.Stack, *Lazyflow, error) {
	if props == nil {
		props = &StackProps{Config: DefaultConfig()}
	}
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if err := CheckAssets(cfg.AssetDir); err != nil {
		return nil, nil, err
	}
	sp := ForProfile(cfg, props.StackProps)
	if sp.Description == nil {
		sp.Description = jsii.String("Lazyflow workflow service (" + cfg.Stage + ")")
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	awscdk.Tags_Of(stack).Add(jsii.String("lazyflow:stage"), jsii.String(cfg.Stage), nil)
	lf, err := New(stack, "Default", &Props{Config: cfg})
	if err != nil {
		return nil, nil, err
	}
	return stack, lf, nil
}

// ForProfile fills in what the emulator profile (Config.Local) needs when sp leaves it empty:
// the CLI's credentials publish assets (an emulator has no CDK bootstrap roles), and the
// stack lives in LocalAccount and LocalRegion. A stack holding New's construct in an app of
// one's own uses it too.
func ForProfile(cfg Config, sp awscdk.StackProps) awscdk.StackProps {
	if cfg.Local {
		if sp.Synthesizer == nil {
			sp.Synthesizer = awscdk.NewCliCredentialsStackSynthesizer(nil)
		}
		if sp.Env == nil {
			sp.Env = &awscdk.Environment{Account: jsii.String(LocalAccount), Region: jsii.String(LocalRegion)}
		}
	}
	return sp
}

// New defines every resource Lazyflow runs on inside scope, which must be in a stack. It fails
// when the configuration is invalid or the function binaries have not been built.
func New(scope constructs.Construct, id string, props *Props) (*Lazyflow, error) {
	if props == nil {
		props = &Props{Config: DefaultConfig()}
	}
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckAssets(cfg.AssetDir); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	lf := &Lazyflow{Construct: c, Config: cfg, Functions: map[string]awslambda.Function{},
		Roles: map[string]awsiam.Role{}, userGrants: map[string]awsiam.PolicyStatement{}}
	stack := awscdk.Stack_Of(c)
	awscdk.Tags_Of(c).Add(jsii.String("lazyflow:stage"), jsii.String(cfg.Stage), nil)

	// Data that outlives a deployment (executions, large values, the token key) is kept when the
	// stack is deleted, except on an emulator where stacks come and go with the tests.
	dataRemoval := awscdk.RemovalPolicy_RETAIN
	if cfg.Local {
		dataRemoval = awscdk.RemovalPolicy_DESTROY
	}

	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String("ttl"),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:       dataRemoval,
	})
	for _, gsi := range []struct{ name, pk, sk string }{
		{IndexByWorkflow, "gsi1pk", "gsi1sk"},
		{IndexByState, "gsi2pk", "gsi2sk"},
	} {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(gsi.name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(gsi.pk), Type: awsdynamodb.AttributeType_STRING},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(gsi.sk), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	tableArn := table.TableArn()
	byStateArn := jsii.String(*tableArn + "/index/" + IndexByState)
	indexArns := []*string{jsii.String(*tableArn + "/index/" + IndexByWorkflow), byStateArn}

	bucket := awss3.NewBucket(c, jsii.String("Values"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		LifecycleRules:    valueLifecycle(cfg),
		RemovalPolicy:     dataRemoval,
		// No AutoDeleteObjects: it is a CDK custom resource, which emulators cannot run.
	})

	secret := awssecretsmanager.NewSecret(c, jsii.String("CallbackSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Lazyflow " + cfg.Stage + ": HMAC key that signs delegate callback tokens"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
		},
		RemovalPolicy: dataRemoval,
	})

	// Lambda's guidance for SQS sources: the queue's visibility timeout is 6x the function
	// timeout, so a message is not redelivered while a throttled batch is still being retried.
	// The dead-letter queues are consumed too (by dlq), so the same rule sets theirs.
	newQueue := func(name string, consumerTimeout int) (queue, dlq awssqs.Queue) {
		dlq = awssqs.NewQueue(c, jsii.String(name+"Dlq"), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			RetentionPeriod:   awscdk.Duration_Days(jsii.Number(14)),
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(6 * cfg.Functions["dlq"].Timeout))),
		})
		queue = awssqs.NewQueue(c, jsii.String(name+"Queue"), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(6 * consumerTimeout))),
			DeadLetterQueue: &awssqs.DeadLetterQueue{
				Queue:           dlq,
				MaxReceiveCount: jsii.Number(float64(cfg.MaxReceiveCount)),
			},
		})
		return queue, dlq
	}
	taskQueue, taskDlq := newQueue("Task", cfg.Functions["runner"].Timeout)
	// Timers (retries, waits, watchdogs) are delayed messages on the result queue.
	resultQueue, resultDlq := newQueue("Result", cfg.Functions["engine"].Timeout)

	arch := awslambda.Architecture_ARM_64()
	if cfg.Arch == "x86_64" {
		arch = awslambda.Architecture_X86_64()
	}
	commonEnv := map[string]*string{
		"LAZYFLOW_TABLE":               table.TableName(),
		"LAZYFLOW_BUCKET":              bucket.BucketName(),
		"LAZYFLOW_TASK_QUEUE_URL":      taskQueue.QueueUrl(),
		"LAZYFLOW_RESULT_QUEUE_URL":    resultQueue.QueueUrl(),
		"LAZYFLOW_CALLBACK_SECRET_ARN": secret.SecretArn(),
		"LAZYFLOW_LOG_LEVEL":           jsii.String(cfg.LogLevel),
		"LAZYFLOW_RETENTION_DAYS":      jsii.String(fmt.Sprint(cfg.ExecutionRetentionDays)),
	}
	if cfg.InlineSteps >= 0 {
		commonEnv["LAZYFLOW_INLINE_STEPS"] = jsii.String(fmt.Sprint(cfg.InlineSteps))
	}

	api := awsapigatewayv2.NewHttpApi(c, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("lazyflow-" + cfg.Stage),
		Description:        jsii.String("Lazyflow " + cfg.Stage + " API"),
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLogs := awslogs.NewLogGroup(c, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retentionDays[cfg.LogRetentionDays],
		RemovalPolicy: logRemoval(cfg),
	})
	apiStage := awsapigatewayv2.NewHttpStage(c, jsii.String("ApiDefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(float64(cfg.ThrottleRate)),
			BurstLimit: jsii.Number(float64(cfg.ThrottleBurst)),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
		},
	})
	// The $default stage serves at the root, so its URL ends in "/".
	apiURL := apiStage.Url()
	if cfg.APIBaseURL != "" {
		apiURL = jsii.String(cfg.APIBaseURL + "/" + *api.ApiId() + "/")
	}

	s3Objects := jsii.String(*bucket.BucketArn() + "/*")
	fns := map[string]awslambda.Function{}
	for _, name := range FunctionNames {
		fc := cfg.Functions[name]
		logGroup := awslogs.NewLogGroup(c, jsii.String(title(name)+"Logs"), &awslogs.LogGroupProps{
			Retention:     retentionDays[cfg.LogRetentionDays],
			RemovalPolicy: logRemoval(cfg),
		})
		// An own role instead of the default one: the default attaches the managed
		// AWSLambdaBasicExecutionRole, which may create any log group and write to any stream.
		role := awsiam.NewRole(c, jsii.String(title(name)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Lazyflow " + cfg.Stage + " " + name + " function"),
		})
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("WriteOwnLogs"),
			Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			// Lambda names a log stream per execution environment at run time, so the stream
			// part of the ARN cannot be narrower than "*"; the group is this function's own.
			Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("logs"),
				Resource:     jsii.String("log-group"),
				ResourceName: jsii.String(*logGroup.LogGroupName() + ":log-stream:*"),
				ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
			})),
		}))
		for _, st := range permissions(name, cfg.RunnerApplies, tableArn, indexArns, byStateArn, s3Objects, secret.SecretArn(),
			taskQueue.QueueArn(), resultQueue.QueueArn()) {
			role.AddToPrincipalPolicy(st)
		}
		lf.Roles[name] = role

		env := map[string]*string{}
		for k, v := range commonEnv {
			env[k] = v
		}
		switch name {
		case "runner":
			env["LAZYFLOW_CALLBACK_BASE_URL"] = jsii.String(*apiURL + "callbacks/")
			if cfg.RunnerApplies {
				env["LAZYFLOW_RUNNER_APPLIES"] = jsii.String("1")
			}
		case "sweeper":
			env["LAZYFLOW_SWEEP_MIN_AGE"] = jsii.String(fmt.Sprint(cfg.SweepMinAge))
			env["LAZYFLOW_SWEEP_MAX"] = jsii.String(fmt.Sprint(cfg.SweepMax))
		}
		fp := &awslambda.FunctionProps{
			Description:  jsii.String("Lazyflow " + cfg.Stage + " " + name),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: arch,
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, name)), nil),
			MemorySize:   jsii.Number(float64(fc.MemorySize)),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(fc.Timeout))),
			Environment:  &env,
			Role:         role,
			LogGroup:     logGroup,
		}
		if fc.ReservedConcurrency > 0 {
			fp.ReservedConcurrentExecutions = jsii.Number(float64(fc.ReservedConcurrency))
		}
		if name != "api" && name != "sweeper" {
			// engine -> task queue -> runner -> result queue -> engine is the design, not a
			// bug: without ALLOW, Lambda's recursion detection stops any execution after
			// about 16 hops and drops the message. dlq is in the same loop: it sends to the
			// task and result queues (the engine step it runs dispatches retries and timers),
			// and what it sends can dead-letter again and come back to it with the same trace,
			// e.g. a task whose every retry fails. Stopping it there would leave the very
			// execution it exists to finish RUNNING. The sweeper sends into the loop but
			// nothing in it invokes the sweeper (its schedule does), so it keeps the default.
			fp.RecursiveLoop = awslambda.RecursiveLoop_ALLOW
		}
		fn := awslambda.NewFunction(c, jsii.String(title(name)+"Function"), fp)
		// The CDK makes a function depend on its whole role construct, so the template repeats
		// the Role in DependsOn beside the GetAtt; cfn-lint W3005 flags the redundancy. The same
		// DependsOn also holds the role's policy, which must stay (the event source mapping is
		// refused unless the role can already receive from the queue), so only W3005 is ignored,
		// and only on the function resources.
		fn.Node().DefaultChild().(awscdk.CfnResource).AddMetadata(jsii.String("cfn-lint"), map[string]any{
			"config": map[string]any{"ignore_checks": []string{"W3005"}},
		})
		fns[name] = fn
	}
	lf.Functions = fns
	for _, u := range cfg.userResources() {
		lf.allow(u.service, *jsii.Strings(*u.arns...)...)
	}

	// dlq reads both dead-letter queues: a task message becomes an error result of its attempt,
	// a result or timer message fails its execution (service.DeadLetter).
	for _, m := range []struct {
		fn    string
		queue awssqs.Queue
	}{{"engine", resultQueue}, {"runner", taskQueue}, {"dlq", taskDlq}, {"dlq", resultDlq}} {
		props := &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(float64(cfg.BatchSize)),
			ReportBatchItemFailures: jsii.Bool(true),
			MaxConcurrency:          jsii.Number(float64(cfg.MaxConcurrency[m.fn])),
		}
		if w := cfg.BatchingWindow[m.fn]; w > 0 {
			props.MaxBatchingWindow = awscdk.Duration_Seconds(jsii.Number(float64(w)))
		}
		fns[m.fn].AddEventSource(awslambdaeventsources.NewSqsEventSource(m.queue, props))
	}

	// The sweeper re-sends what a lost message left waiting and finalises finished executions
	// (service.Sweep). Its rule is left out when SweeperSchedule is off (the emulator profile).
	if cfg.SweeperSchedule {
		awsevents.NewRule(c, jsii.String("SweeperSchedule"), &awsevents.RuleProps{
			Description: jsii.String("Lazyflow " + cfg.Stage + ": run the sweeper"),
			Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(float64(cfg.SweepEveryMinutes)))),
			Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fns["sweeper"], nil)},
		})
	}

	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), fns["api"],
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
	iamAuth := awsapigatewayv2authorizers.NewHttpIamAuthorizer()
	for _, r := range routes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.Method},
			Integration: integration,
		}
		if r.IAM {
			opts.Authorizer = iamAuth
		} else {
			opts.Authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		}
		api.AddRoutes(opts)
	}

	alarm := func(id, desc string, metric awscloudwatch.Metric) {
		metric.CreateAlarm(c, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String("Lazyflow " + cfg.Stage + ": " + desc),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	oneMinuteMax := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum")}
	fiveMinuteSum := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	alarm("TaskDlqAlarm", "task messages reached the dead-letter queue", taskDlq.MetricApproximateNumberOfMessagesVisible(oneMinuteMax))
	alarm("ResultDlqAlarm", "result messages reached the dead-letter queue", resultDlq.MetricApproximateNumberOfMessagesVisible(oneMinuteMax))
	for _, name := range FunctionNames {
		alarm(title(name)+"ErrorsAlarm", name+" function errors", fns[name].MetricErrors(fiveMinuteSum))
		alarm(title(name)+"ThrottlesAlarm", name+" function throttled", fns[name].MetricThrottles(fiveMinuteSum))
	}

	for _, o := range []struct{ id, value, desc string }{
		{"ApiUrl", *apiURL, "base URL of the Lazyflow API (SigV4-signed, service execute-api)"},
		{"ApiId", *api.ApiId(), "HTTP API id"},
		{"TableName", *table.TableName(), "DynamoDB table"},
		{"BucketName", *bucket.BucketName(), "S3 bucket for large values"},
		{"TaskQueueUrl", *taskQueue.QueueUrl(), "task queue"},
		{"ResultQueueUrl", *resultQueue.QueueUrl(), "result and timer queue"},
		{"TaskDlqUrl", *taskDlq.QueueUrl(), "task dead-letter queue"},
		{"ResultDlqUrl", *resultDlq.QueueUrl(), "result dead-letter queue"},
		{"CallbackSecretArn", *secret.SecretArn(), "Secrets Manager secret with the callback HMAC key"},
	} {
		out := awscdk.NewCfnOutput(c, jsii.String(o.id), &awscdk.CfnOutputProps{
			Value:       jsii.String(o.value),
			Description: jsii.String(o.desc),
		})
		out.OverrideLogicalId(jsii.String(props.OutputPrefix + o.id))
	}
	lf.Table, lf.Bucket, lf.CallbackSecret = table, bucket, secret
	lf.TaskQueue, lf.ResultQueue, lf.TaskDlq, lf.ResultDlq = taskQueue, resultQueue, taskDlq, resultDlq
	lf.API, lf.APIURL = api, apiURL
	return lf, nil
}

// permissions returns the statements each function needs for what it does, action by action;
// queue consumption is added by the event source mappings. Only dynamodb:Query reaches the
// indexes, since reads and writes of items address the base table.
//
// There is no IAM action for TransactWriteItems: DynamoDB authorizes each item of a transaction
// by its own action (PutItem, UpdateItem, ConditionCheckItem, DeleteItem). So the api and the
// engine, which commit with transactions, hold ConditionCheckItem beside their writes. The api
// deletes what a user asks it to (a workflow, an environment: DeleteItem; an execution:
// BatchWriteItem); the sweeper deletes expired executions (BatchWriteItem), the table's TTL
// being the backstop. Every role that commits also holds DeleteItem: a commit over one
// transaction's items that fails deletes the records it wrote provisionally, and a reader deletes
// those of an abandoned commit; left behind, such an item blocks creating its record. dlq runs
// engine steps (TaskComplete for a dead task, Fail for a dead result or timer), so it holds the
// engine's.
// The sweeper lists RUNNING executions (a state-only listing, which reads the byState index
// alone), re-sends actions and runs engine steps to finalise (which may start a child
// workflow's execution), so it holds the engine's item and send grants without BatchGetItem,
// which the store never calls, and queries the table and byState only.
func permissions(fn string, runnerApplies bool, table *string, indexes []*string, byState *string, objects, secret, taskQueue, resultQueue *string) []awsiam.PolicyStatement {
	st := func(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: &resources,
		})
	}
	readSecret := st("ReadCallbackSecret", []string{"secretsmanager:GetSecretValue"}, secret)
	// Object keys are chosen at run time (one per large value), hence bucket/*.
	values := st("ReadWriteValues", []string{"s3:GetObject", "s3:PutObject"}, objects)
	queryAll := append([]*string{table}, indexes...)
	switch fn {
	case "api":
		return []awsiam.PolicyStatement{
			// DeleteItem: DELETE /workflows/{name} and Mistral's environment-delete remove one
			// item; BatchWriteItem: DELETE /executions/{id} removes an execution's items as
			// the sweeper's retention does.
			st("TableItems", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
				"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, table),
			st("TableQuery", []string{"dynamodb:Query"}, queryAll...),
			st("SendTasksAndResults", []string{"sqs:SendMessage"}, taskQueue, resultQueue),
			readSecret, values,
		}
	case "runner":
		if !runnerApplies {
			return []awsiam.PolicyStatement{
				st("TableItems", []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, table),
				st("SendResults", []string{"sqs:SendMessage"}, resultQueue),
				readSecret, values,
			}
		}
		// A runner that applies its own results runs engine steps: it needs the engine's grants.
		fallthrough
	case "engine", "dlq":
		return []awsiam.PolicyStatement{
			st("TableItems", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
				"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"}, table),
			st("TableQuery", []string{"dynamodb:Query"}, queryAll...),
			st("SendTasksAndResults", []string{"sqs:SendMessage"}, taskQueue, resultQueue),
			readSecret, values,
		}
	case "sweeper":
		return []awsiam.PolicyStatement{
			// BatchWriteItem: PurgeExecutions deletes expired executions' items 25 at a time.
			st("TableItems", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
				"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, table),
			st("TableQuery", []string{"dynamodb:Query"}, table, byState),
			st("SendTasksAndResults", []string{"sqs:SendMessage"}, taskQueue, resultQueue),
			readSecret, values,
		}
	}
	return nil
}

// userGrantKinds are the runner's IAM action and statement id for each service whose resources
// the aws.* actions call.
var userGrantKinds = map[string]struct{ action, sid string }{
	"lambda": {"lambda:InvokeFunction", "InvokeUserFunctions"},
	"sqs":    {"sqs:SendMessage", "SendToUserQueues"},
	"sns":    {"sns:Publish", "PublishToUserTopics"},
	"events": {"events:PutEvents", "PutEventsOnUserBuses"},
}

// allow lets the runner, which runs the aws.* actions, call exactly arns of service: one
// statement per service, naming each ARN, and none until the first ARN.
func (l *Lazyflow) allow(service string, arns ...*string) {
	if len(arns) == 0 {
		return
	}
	st, ok := l.userGrants[service]
	if !ok {
		k := userGrantKinds[service]
		st = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String(k.sid),
			Actions: jsii.Strings(k.action),
		})
		l.userGrants[service] = st
		// The policy renders at synth, so resources added to st later still appear in it.
		l.Roles["runner"].AddToPrincipalPolicy(st)
	}
	st.AddResources(arns...)
}

// GrantInvoke lets workflows call fns with aws.lambda.invoke and aws.lambda.invoke_delegate
// (and Lambda-bound user actions): the runner's role may invoke exactly these functions, by
// their unqualified ARNs. A call with a qualifier needs the qualified ARN, through
// AllowFunctionArns or the userFunctionArns context key.
func (l *Lazyflow) GrantInvoke(fns ...awslambda.IFunction) {
	for _, fn := range fns {
		l.allow("lambda", fn.FunctionArn())
	}
}

// AllowFunctionArns is GrantInvoke for functions outside the app, or qualified ARNs
// (…:function:name:alias). Wildcards are refused, as in userFunctionArns.
func (l *Lazyflow) AllowFunctionArns(arns ...string) error {
	return l.allowArns("lambda", "AllowFunctionArns", arns)
}

// AllowQueues lets workflows send to queues with aws.sqs.send_message.
func (l *Lazyflow) AllowQueues(queues ...awssqs.IQueue) {
	for _, q := range queues {
		l.allow("sqs", q.QueueArn())
	}
}

// AllowTopics lets workflows publish to topics with aws.sns.publish.
func (l *Lazyflow) AllowTopics(topics ...awssns.ITopic) {
	for _, t := range topics {
		l.allow("sns", t.TopicArn())
	}
}

// AllowEventBuses lets workflows put events on buses with aws.events.put_events.
func (l *Lazyflow) AllowEventBuses(buses ...awsevents.IEventBus) {
	for _, b := range buses {
		l.allow("events", b.EventBusArn())
	}
}

// allowArns checks literal ARNs as the context's allow-lists are checked, then grants them.
func (l *Lazyflow) allowArns(service, method string, arns []string) error {
	var ptrs []*string
	for _, arn := range arns {
		if msg := checkARN(arn, service); msg != "" {
			return fmt.Errorf("%s: %q %s", method, arn, msg)
		}
		ptrs = append(ptrs, jsii.String(arn))
	}
	l.allow(service, ptrs...)
	return nil
}

// valueLifecycle expires large values after ValueRetentionDays (none when 0) and
// aborts incomplete uploads after a day.
func valueLifecycle(cfg Config) *[]*awss3.LifecycleRule {
	r := &awss3.LifecycleRule{
		Id:                                  jsii.String("expire-values"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
	}
	if cfg.ValueRetentionDays > 0 {
		r.Expiration = awscdk.Duration_Days(jsii.Number(float64(cfg.ValueRetentionDays)))
	}
	return &[]*awss3.LifecycleRule{r}
}

func logRemoval(cfg Config) awscdk.RemovalPolicy {
	if cfg.Local {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// title turns a function name into a construct id prefix ("api" -> "Api").
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
