package lazyflow

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Synthesizing starts jsii's Node process and takes seconds, so each configuration is
// synthesized once and shared by the tests that read it.
var (
	defaultOnce     sync.Once
	defaultTemplate assertions.Template
	defaultJSON     map[string]any
	defaultErr      error
)

// placeholderAssets writes stand-in bootstrap files into a test-only temp dir; real synth never
// creates them (see TestMissingAssetsFailSynth).
func placeholderAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		// Distinct content per function, so each gets its own asset as with real binaries.
		body := fmt.Sprintf("#!/bin/sh\n# placeholder %s bootstrap for infra tests\n", name)
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synth builds an App with the given context (as strings, like the CLI passes them) and returns
// the stack's template.
func synth(t *testing.T, context map[string]any) (assertions.Template, map[string]any, error) {
	t.Helper()
	ctx := map[string]any{}
	for k, v := range context {
		ctx[k] = v
	}
	if _, ok := ctx["assetDir"]; !ok {
		ctx["assetDir"] = placeholderAssets(t)
	}
	// Synth writes the cloud assembly here and the template is read back in
	// memory before this returns, so the test's temp dir may go with it.
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return nil, nil, err
	}
	stack, _, err := NewStack(app, StackID(cfg.Stage), &StackProps{Config: cfg})
	if err != nil {
		return nil, nil, err
	}
	tpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, err
	}
	return tpl, m, nil
}

func defaultStack(t *testing.T) (assertions.Template, map[string]any) {
	t.Helper()
	defaultOnce.Do(func() { defaultTemplate, defaultJSON, defaultErr = synth(t, nil) })
	if defaultErr != nil {
		t.Fatalf("synthesizing the default stack: %v", defaultErr)
	}
	return defaultTemplate, defaultJSON
}

// check runs one assertions call; the CDK reports a mismatch by throwing in Node, which jsii
// turns into a Go panic carrying the diff.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

type obj = map[string]any

func str(s string) *string { return jsii.String(s) }

var hashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// resourcesByPrefix returns the logical ids whose name without the CDK's hash is prefix.
func resourcesByPrefix(tpl map[string]any, prefix string) []string {
	var ids []string
	for id := range tpl["Resources"].(obj) {
		if hashSuffix.ReplaceAllString(id, "") == prefix {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func onlyResource(t *testing.T, tpl map[string]any, prefix string) (string, obj) {
	t.Helper()
	ids := resourcesByPrefix(tpl, prefix)
	if len(ids) != 1 {
		t.Fatalf("want exactly one resource %s*, got %v", prefix, ids)
	}
	return ids[0], tpl["Resources"].(obj)[ids[0]].(obj)
}

func props(r obj) obj { p, _ := r["Properties"].(obj); return p }

func ref(id string) obj    { return obj{"Ref": id} }
func getAtt(id string) obj { return obj{"Fn::GetAtt": []any{id, "Arn"}} }

func TestTable(t *testing.T) {
	tpl, m := defaultStack(t)
	check(t, "one table", func() { tpl.ResourceCountIs(str("AWS::DynamoDB::Table"), jsii.Number(1)) })
	check(t, "table properties", func() {
		tpl.HasResource(str("AWS::DynamoDB::Table"), obj{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": obj{
				"KeySchema": []any{
					obj{"AttributeName": "pk", "KeyType": "HASH"},
					obj{"AttributeName": "sk", "KeyType": "RANGE"},
				},
				"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
					obj{"AttributeName": "pk", "AttributeType": "S"},
					obj{"AttributeName": "sk", "AttributeType": "S"},
					obj{"AttributeName": "gsi1pk", "AttributeType": "S"},
					obj{"AttributeName": "gsi1sk", "AttributeType": "S"},
					obj{"AttributeName": "gsi2pk", "AttributeType": "S"},
					obj{"AttributeName": "gsi2sk", "AttributeType": "S"},
				}),
				"BillingMode":                      "PAY_PER_REQUEST",
				"PointInTimeRecoverySpecification": obj{"PointInTimeRecoveryEnabled": true},
				"TimeToLiveSpecification":          obj{"AttributeName": "ttl", "Enabled": true},
				"SSESpecification":                 obj{"SSEEnabled": true},
				"GlobalSecondaryIndexes": []any{
					obj{
						"IndexName": "byWorkflow",
						"KeySchema": []any{
							obj{"AttributeName": "gsi1pk", "KeyType": "HASH"},
							obj{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
						},
						"Projection": obj{"ProjectionType": "ALL"},
					},
					obj{
						"IndexName": "byState",
						"KeySchema": []any{
							obj{"AttributeName": "gsi2pk", "KeyType": "HASH"},
							obj{"AttributeName": "gsi2sk", "KeyType": "RANGE"},
						},
						"Projection": obj{"ProjectionType": "ALL"},
					},
				},
			},
		})
	})
	// AWS-managed encryption means SSEEnabled without a customer key.
	_, table := onlyResource(t, m, "Table")
	if sse := props(table)["SSESpecification"].(obj); sse["KMSMasterKeyId"] != nil || sse["SSEType"] != nil {
		t.Errorf("table encryption should use the AWS managed key, got %v", sse)
	}
	if n := len(props(table)["AttributeDefinitions"].([]any)); n != 6 {
		t.Errorf("table has %d attribute definitions, want 6", n)
	}
}

func TestBucket(t *testing.T) {
	tpl, m := defaultStack(t)
	check(t, "one bucket", func() { tpl.ResourceCountIs(str("AWS::S3::Bucket"), jsii.Number(1)) })
	check(t, "bucket properties", func() {
		tpl.HasResource(str("AWS::S3::Bucket"), obj{
			"DeletionPolicy": "Retain",
			"Properties": obj{
				"BucketEncryption": obj{"ServerSideEncryptionConfiguration": []any{
					obj{"ServerSideEncryptionByDefault": obj{"SSEAlgorithm": "AES256"}},
				}},
				"PublicAccessBlockConfiguration": obj{
					"BlockPublicAcls": true, "BlockPublicPolicy": true,
					"IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				"LifecycleConfiguration": obj{"Rules": []any{obj{
					"ExpirationInDays": 40,
					"Status":           "Enabled",
				}}},
			},
		})
	})
	bucketID, _ := onlyResource(t, m, "Values")
	check(t, "bucket denies requests without TLS", func() {
		tpl.HasResourceProperties(str("AWS::S3::BucketPolicy"), obj{
			"Bucket": ref(bucketID),
			"PolicyDocument": obj{"Statement": []any{obj{
				"Effect":    "Deny",
				"Action":    "s3:*",
				"Principal": obj{"AWS": "*"},
				"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
			}}},
		})
	})
	// autoDeleteObjects, logRetention and other CDK custom resources cannot run on the emulator.
	for id, r := range m["Resources"].(obj) {
		typ := r.(obj)["Type"].(string)
		if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
			t.Errorf("custom resource %s (%s) in the template", id, typ)
		}
	}
	check(t, "no functions beyond api, engine, runner, dlq, sweeper", func() {
		tpl.ResourceCountIs(str("AWS::Lambda::Function"), jsii.Number(5))
	})
}

func TestSecret(t *testing.T) {
	tpl, _ := defaultStack(t)
	check(t, "callback secret", func() {
		tpl.HasResource(str("AWS::SecretsManager::Secret"), obj{
			"DeletionPolicy": "Retain",
			"Properties": obj{"GenerateSecretString": obj{
				"PasswordLength":     64,
				"ExcludePunctuation": true,
			}},
		})
	})
}

func TestQueues(t *testing.T) {
	tpl, m := defaultStack(t)
	check(t, "four queues", func() { tpl.ResourceCountIs(str("AWS::SQS::Queue"), jsii.Number(4)) })
	for _, q := range []struct {
		name       string
		visibility int // 6 x the consuming function's default timeout
	}{{"Task", 6 * 120}, {"Result", 6 * 30}} {
		dlqID, dlq := onlyResource(t, m, q.name+"Dlq")
		_, queue := onlyResource(t, m, q.name+"Queue")
		assertJSON(t, q.name+" queue", props(queue), obj{
			"SqsManagedSseEnabled": true,
			"VisibilityTimeout":    q.visibility,
			"RedrivePolicy":        obj{"deadLetterTargetArn": getAtt(dlqID), "maxReceiveCount": 5},
		})
		assertJSON(t, q.name+" DLQ", props(dlq), obj{
			"SqsManagedSseEnabled":   true,
			"MessageRetentionPeriod": 14 * 24 * 3600,
			// The dlq function consumes it: 6 x its default timeout of 30 s.
			"VisibilityTimeout": 6 * 30,
			// A DLQ has no DLQ of its own: a dead letter dlq cannot handle stays for the
			// retention period and keeps the depth alarm on.
			"RedrivePolicy": nil,
		})
	}
}

// assertJSON compares the listed keys of got with want after a JSON round trip, so numbers and
// nested maps compare by value.
func assertJSON(t *testing.T, what string, got obj, want obj) {
	t.Helper()
	for k, w := range want {
		gj, _ := json.Marshal(got[k])
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("%s: %s = %s, want %s", what, k, gj, wj)
		}
	}
}

func TestFunctions(t *testing.T) {
	_, m := defaultStack(t)
	queueID := func(p string) string { id, _ := onlyResource(t, m, p); return id }
	commonEnv := obj{
		"LAZYFLOW_TABLE":               ref(queueID("Table")),
		"LAZYFLOW_BUCKET":              ref(queueID("Values")),
		"LAZYFLOW_TASK_QUEUE_URL":      ref(queueID("TaskQueue")),
		"LAZYFLOW_RESULT_QUEUE_URL":    ref(queueID("ResultQueue")),
		"LAZYFLOW_CALLBACK_SECRET_ARN": ref(queueID("CallbackSecret")),
		"LAZYFLOW_LOG_LEVEL":           "info",
		"LAZYFLOW_RETENTION_DAYS":      "30",
	}
	apiID := queueID("Api")
	for _, f := range []struct {
		name            string
		memory, timeout int
		recursive       any
	}{{"api", 256, 29, nil}, {"engine", 512, 30, "Allow"}, {"runner", 512, 120, "Allow"}, {"dlq", 256, 30, "Allow"},
		// The sweeper is started by its schedule, not by the engine-runner loop.
		{"sweeper", 256, 120, nil}} {
		_, fn := onlyResource(t, m, title(f.name)+"Function")
		p := props(fn)
		logsID, logs := onlyResource(t, m, title(f.name)+"Logs")
		roleID, _ := onlyResource(t, m, title(f.name)+"Role")
		env := obj{}
		for k, v := range commonEnv {
			env[k] = v
		}
		switch f.name {
		case "runner":
			env["LAZYFLOW_CALLBACK_BASE_URL"] = obj{"Fn::Join": []any{"", []any{
				"https://", ref(apiID), ".execute-api.", ref("AWS::Region"), ".", ref("AWS::URLSuffix"), "/callbacks/",
			}}}
		case "sweeper":
			env["LAZYFLOW_SWEEP_MIN_AGE"] = "120"
			env["LAZYFLOW_SWEEP_MAX"] = "1000"
		}
		assertJSON(t, f.name, p, obj{
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"MemorySize":    f.memory,
			"Timeout":       f.timeout,
			"Environment":   obj{"Variables": env},
			"LoggingConfig": obj{"LogGroup": ref(logsID)},
			"Role":          getAtt(roleID),
			"RecursiveLoop": f.recursive,
			// Unreserved unless configured: reserving on a fresh account can fail the deploy.
			"ReservedConcurrentExecutions": nil,
		})
		assertJSON(t, f.name+" log group", props(logs), obj{"RetentionInDays": 30})
		if logs["DeletionPolicy"] != "Retain" {
			t.Errorf("%s log group DeletionPolicy = %v, want Retain", f.name, logs["DeletionPolicy"])
		}
	}
	_, access := onlyResource(t, m, "ApiAccessLogs")
	assertJSON(t, "API access log group", props(access), obj{"RetentionInDays": 30})
	check(t, "six log groups (five functions and the API's access logs)", func() {
		defaultTemplate.ResourceCountIs(str("AWS::Logs::LogGroup"), jsii.Number(6))
	})
}

func TestEventSourceMappings(t *testing.T) {
	tpl, m := defaultStack(t)
	id := func(p string) string { i, _ := onlyResource(t, m, p); return i }
	check(t, "four mappings", func() { tpl.ResourceCountIs(str("AWS::Lambda::EventSourceMapping"), jsii.Number(4)) })
	check(t, "engine consumes results", func() {
		tpl.HasResourceProperties(str("AWS::Lambda::EventSourceMapping"), obj{
			"FunctionName":                   ref(id("EngineFunction")),
			"EventSourceArn":                 getAtt(id("ResultQueue")),
			"BatchSize":                      10,
			"MaximumBatchingWindowInSeconds": assertions.Match_Absent(),
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
			"ScalingConfig":                  obj{"MaximumConcurrency": 50},
		})
	})
	check(t, "runner consumes tasks", func() {
		tpl.HasResourceProperties(str("AWS::Lambda::EventSourceMapping"), obj{
			"FunctionName":                   ref(id("RunnerFunction")),
			"EventSourceArn":                 getAtt(id("TaskQueue")),
			"BatchSize":                      10,
			"MaximumBatchingWindowInSeconds": 1,
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
			"ScalingConfig":                  obj{"MaximumConcurrency": 100},
		})
	})
	// dlq has exactly two mappings, one per dead-letter queue, and nothing else feeds it.
	var dlqSources []string
	for _, r := range m["Resources"].(obj) {
		r := r.(obj)
		if r["Type"] != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		p := props(r)
		if fmt.Sprint(p["FunctionName"]) != fmt.Sprint(ref(id("DlqFunction"))) {
			continue
		}
		src, _ := json.Marshal(p["EventSourceArn"])
		dlqSources = append(dlqSources, string(src))
		assertJSON(t, "dlq mapping "+string(src), p, obj{
			"BatchSize":                      10,
			"MaximumBatchingWindowInSeconds": nil,
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
			"ScalingConfig":                  obj{"MaximumConcurrency": 5},
		})
	}
	sort.Strings(dlqSources)
	wantSources := []string{}
	for _, q := range []string{"TaskDlq", "ResultDlq"} {
		j, _ := json.Marshal(getAtt(id(q)))
		wantSources = append(wantSources, string(j))
	}
	sort.Strings(wantSources)
	if !slices.Equal(dlqSources, wantSources) {
		t.Errorf("dlq mapping sources = %v, want %v", dlqSources, wantSources)
	}
}

func TestAPI(t *testing.T) {
	tpl, m := defaultStack(t)
	apiID, _ := onlyResource(t, m, "Api")
	fnID, _ := onlyResource(t, m, "ApiFunction")
	accessID, _ := onlyResource(t, m, "ApiAccessLogs")
	check(t, "HTTP API", func() {
		tpl.HasResourceProperties(str("AWS::ApiGatewayV2::Api"), obj{"ProtocolType": "HTTP", "Name": "lazyflow-dev"})
	})
	check(t, "one integration, payload 2.0, to the api function", func() {
		tpl.ResourceCountIs(str("AWS::ApiGatewayV2::Integration"), jsii.Number(1))
		tpl.HasResourceProperties(str("AWS::ApiGatewayV2::Integration"), obj{
			"ApiId":                ref(apiID),
			"IntegrationType":      "AWS_PROXY",
			"IntegrationUri":       getAtt(fnID),
			"PayloadFormatVersion": "2.0",
		})
	})
	check(t, "default stage with throttling and access logs", func() {
		tpl.ResourceCountIs(str("AWS::ApiGatewayV2::Stage"), jsii.Number(1))
		tpl.HasResourceProperties(str("AWS::ApiGatewayV2::Stage"), obj{
			"ApiId":                ref(apiID),
			"StageName":            "$default",
			"AutoDeploy":           true,
			"DefaultRouteSettings": obj{"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
			"AccessLogSettings": obj{
				"DestinationArn": getAtt(accessID),
				"Format":         assertions.Match_StringLikeRegexp(str(`\$context\.requestId.*\$context\.routeKey`)),
			},
		})
	})
	// A callback path holds the bearer token: the access log must not record paths.
	_, stage := onlyResource(t, m, "ApiDefaultStage")
	if f := props(stage)["AccessLogSettings"].(obj)["Format"].(string); strings.Contains(f, "$context.path") {
		t.Errorf("access log format records the path (and so callback tokens): %s", f)
	}

	want := map[string]string{
		"POST /workflows":                   "AWS_IAM",
		"GET /workflows":                    "AWS_IAM",
		"GET /workflows/{name}":             "AWS_IAM",
		"POST /actions":                     "AWS_IAM",
		"GET /actions":                      "AWS_IAM",
		"GET /actions/{name}":               "AWS_IAM",
		"DELETE /actions/{name}":            "AWS_IAM",
		"POST /executions":                  "AWS_IAM",
		"GET /executions":                   "AWS_IAM",
		"GET /executions/{id}":              "AWS_IAM",
		"POST /executions/{id}/pause":       "AWS_IAM",
		"POST /executions/{id}/resume":      "AWS_IAM",
		"POST /executions/{id}/cancel":      "AWS_IAM",
		"POST /tasks/{id}/rerun":            "AWS_IAM",
		"GET /openapi.json":                 "AWS_IAM",
		"POST /callbacks/{token}":           "NONE",
		"POST /callbacks/{token}/heartbeat": "NONE",
		"ANY /v2/{proxy+}":                  "AWS_IAM",
		"PUT /v2/action_executions/{id}":    "NONE",
		"GET /":                             "NONE",
		"GET /ui":                           "NONE",
		"GET /ui/{proxy+}":                  "NONE",
		"GET /ui/api/{proxy+}":              "AWS_IAM",
	}
	got := map[string]string{}
	for id, r := range m["Resources"].(obj) {
		if r.(obj)["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		p := props(r.(obj))
		key := p["RouteKey"].(string)
		auth, _ := p["AuthorizationType"].(string)
		got[key] = auth
		if target, _ := json.Marshal(p["Target"]); !strings.Contains(string(target), `"ApiPOSTworkflowsApiIntegration`) {
			t.Errorf("route %s (%s) targets %s, not the api integration", key, id, target)
		}
	}
	if len(got) != len(want) {
		t.Errorf("routes = %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("route %q authorization = %q, want %q", k, got[k], w)
		}
	}
	check(t, "no authorizer resources (IAM needs none)", func() {
		tpl.ResourceCountIs(str("AWS::ApiGatewayV2::Authorizer"), jsii.Number(0))
	})
}

func TestAlarms(t *testing.T) {
	tpl, m := defaultStack(t)
	check(t, "twelve alarms", func() { tpl.ResourceCountIs(str("AWS::CloudWatch::Alarm"), jsii.Number(12)) })
	id := func(p string) string { i, _ := onlyResource(t, m, p); return i }
	for _, q := range []string{"TaskDlq", "ResultDlq"} {
		check(t, q+" depth alarm", func() {
			tpl.HasResourceProperties(str("AWS::CloudWatch::Alarm"), obj{
				"Namespace":          "AWS/SQS",
				"MetricName":         "ApproximateNumberOfMessagesVisible",
				"Dimensions":         []any{obj{"Name": "QueueName", "Value": obj{"Fn::GetAtt": []any{id(q), "QueueName"}}}},
				"ComparisonOperator": "GreaterThanThreshold",
				"Threshold":          0,
				"EvaluationPeriods":  1,
				"TreatMissingData":   "notBreaching",
			})
		})
	}
	for _, fn := range FunctionNames {
		for _, metric := range []string{"Errors", "Throttles"} {
			check(t, fn+" "+metric+" alarm", func() {
				tpl.HasResourceProperties(str("AWS::CloudWatch::Alarm"), obj{
					"Namespace":          "AWS/Lambda",
					"MetricName":         metric,
					"Dimensions":         []any{obj{"Name": "FunctionName", "Value": ref(id(title(fn) + "Function"))}},
					"Statistic":          "Sum",
					"ComparisonOperator": "GreaterThanThreshold",
					"Threshold":          0,
				})
			})
		}
	}
}

// TestSweeperSchedule: by default an EventBridge rule runs the sweeper every 5 minutes, and the
// function lets exactly that rule invoke it.
func TestSweeperSchedule(t *testing.T) {
	tpl, m := defaultStack(t)
	ruleID, rule := onlyResource(t, m, "SweeperSchedule")
	fnID, _ := onlyResource(t, m, "SweeperFunction")
	check(t, "one rule", func() { tpl.ResourceCountIs(str("AWS::Events::Rule"), jsii.Number(1)) })
	assertJSON(t, "sweeper rule", props(rule), obj{
		"ScheduleExpression": "rate(5 minutes)",
		"State":              "ENABLED",
	})
	targets := asList(props(rule)["Targets"])
	if len(targets) != 1 {
		t.Fatalf("sweeper rule targets = %v, want one", targets)
	}
	assertJSON(t, "sweeper rule target", targets[0].(obj), obj{"Arn": getAtt(fnID), "Input": nil})
	// The API's integrations add permissions for apigateway.amazonaws.com; EventBridge gets
	// exactly one, for this rule on this function.
	var fromEvents []obj
	for _, r := range m["Resources"].(obj) {
		if r := r.(obj); r["Type"] == "AWS::Lambda::Permission" && props(r)["Principal"] == "events.amazonaws.com" {
			fromEvents = append(fromEvents, props(r))
		}
	}
	if len(fromEvents) != 1 {
		t.Fatalf("%d Lambda permissions for events.amazonaws.com, want 1: %v", len(fromEvents), fromEvents)
	}
	assertJSON(t, "sweeper invoke permission", fromEvents[0], obj{
		"Action":       "lambda:InvokeFunction",
		"FunctionName": getAtt(fnID),
		"SourceArn":    getAtt(ruleID),
	})
}

// TestSweeperScheduleContext: the rule is on by default, off under local=1 unless
// sweeperSchedule says otherwise, and sweeperSchedule alone turns it off.
func TestSweeperScheduleContext(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]any
		want bool
	}{
		{map[string]any{}, true},
		{map[string]any{"local": "1"}, false},
		{map[string]any{"local": "1", "sweeperSchedule": "true"}, true},
		{map[string]any{"sweeperSchedule": "0"}, false},
		{map[string]any{"local": "0", "sweeperSchedule": "yes"}, true},
	} {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.ctx})
		c, err := ConfigFromContext(app.Node())
		if err != nil || c.SweeperSchedule != tc.want {
			t.Errorf("%v: SweeperSchedule = %v (%v), want %v", tc.ctx, c.SweeperSchedule, err, tc.want)
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"sweeperSchedule": "hourly", "sweepMax": "many"}})
	if _, err := ConfigFromContext(app.Node()); err == nil || !strings.Contains(err.Error(), `"sweeperSchedule"`) ||
		!strings.Contains(err.Error(), `"sweepMax"`) {
		t.Errorf("ConfigFromContext = %v, want errors naming sweeperSchedule and sweepMax", err)
	}
}

func TestOutputs(t *testing.T) {
	_, m := defaultStack(t)
	outputs, _ := m["Outputs"].(obj)
	id := func(p string) string { i, _ := onlyResource(t, m, p); return i }
	want := map[string]any{
		"ApiId":             ref(id("Api")),
		"TableName":         ref(id("Table")),
		"BucketName":        ref(id("Values")),
		"TaskQueueUrl":      ref(id("TaskQueue")),
		"ResultQueueUrl":    ref(id("ResultQueue")),
		"TaskDlqUrl":        ref(id("TaskDlq")),
		"ResultDlqUrl":      ref(id("ResultDlq")),
		"CallbackSecretArn": ref(id("CallbackSecret")),
		"ApiUrl": obj{"Fn::Join": []any{"", []any{
			"https://", ref(id("Api")), ".execute-api.", ref("AWS::Region"), ".", ref("AWS::URLSuffix"), "/",
		}}},
	}
	for k, w := range want {
		o, ok := outputs[k].(obj)
		if !ok {
			t.Errorf("output %s missing", k)
			continue
		}
		assertJSON(t, "output "+k, o, obj{"Value": w})
	}
}

// policyStatement is one statement found anywhere in the template, with where it came from.
type policyStatement struct {
	where string
	stmt  obj
}

// allStatements walks every policy document of every resource: IAM policies, inline role
// policies, managed policies, and resource policies (bucket and queue policies).
func allStatements(tpl map[string]any) []policyStatement {
	var out []policyStatement
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case obj:
			for k, c := range x {
				if (k == "PolicyDocument" || k == "AssumeRolePolicyDocument") && c != nil {
					if doc, ok := c.(obj); ok {
						for i, s := range asList(doc["Statement"]) {
							out = append(out, policyStatement{fmt.Sprintf("%s.%s[%d]", where, k, i), s.(obj)})
						}
						continue
					}
				}
				walk(where+"."+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s[%d]", where, i), c)
			}
		}
	}
	for id, r := range tpl["Resources"].(obj) {
		walk(id, r)
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// wildcardResource reports whether a resource expression contains "*" in a place AWS lets us
// narrow. The two allowed wildcards are structural, not laziness:
//   - ":log-stream:*" after a function's own log group: Lambda names log streams per execution
//     environment at run time, so no narrower ARN exists;
//   - "<bucket ARN>/*" for s3:GetObject/PutObject: object keys are generated per large value at
//     run time; S3 authorizes objects only by key pattern.
func wildcardResource(res any) bool {
	j, _ := json.Marshal(res)
	s := string(j)
	if !strings.Contains(s, "*") {
		return false
	}
	if strings.HasSuffix(s, `":log-stream:*"]]}`) && strings.Count(s, "*") == 1 {
		return false
	}
	if regexp.MustCompile(`^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["[A-Za-z0-9]*Values[0-9A-F]{8}","Arn"\]\},"/\*"\]\]\}$`).MatchString(s) {
		return false
	}
	return true
}

// wildcardFindings lists every Allow statement with a wildcard action or a wildcard resource,
// and every Deny statement other than the bucket's TLS-only rule.
func wildcardFindings(tpl map[string]any) []string {
	var bad []string
	for _, ps := range allStatements(tpl) {
		s := ps.stmt
		actions := append(asList(s["Action"]), asList(s["NotAction"])...)
		if s["NotAction"] != nil || s["NotResource"] != nil || s["NotPrincipal"] != nil {
			bad = append(bad, ps.where+": uses NotAction/NotResource/NotPrincipal")
		}
		if s["Effect"] == "Deny" {
			// A wildcard in a Deny only takes access away. The one Deny allowed is S3's
			// "refuse any request without TLS", which must cover every action and principal.
			cond, _ := json.Marshal(s["Condition"])
			if s["Action"] != "s3:*" || string(cond) != `{"Bool":{"aws:SecureTransport":"false"}}` {
				bad = append(bad, fmt.Sprintf("%s: unexpected Deny statement %v", ps.where, s))
			}
			continue
		}
		for _, a := range actions {
			if as, ok := a.(string); !ok || strings.Contains(as, "*") {
				bad = append(bad, fmt.Sprintf("%s: wildcard or non-literal action %v", ps.where, a))
			}
		}
		if strings.Contains(ps.where, "AssumeRolePolicyDocument") {
			// Trust policies name a principal, not resources.
			if s["Action"] != "sts:AssumeRole" || fmt.Sprint(s["Principal"]) != "map[Service:lambda.amazonaws.com]" {
				bad = append(bad, fmt.Sprintf("%s: trust policy %v is not lambda.amazonaws.com AssumeRole", ps.where, s))
			}
			continue
		}
		if p, ok := s["Principal"]; ok && strings.Contains(fmt.Sprint(p), "*") {
			bad = append(bad, fmt.Sprintf("%s: Allow to any principal", ps.where))
		}
		resources := asList(s["Resource"])
		if len(resources) == 0 {
			bad = append(bad, ps.where+": Allow without Resource")
		}
		for _, r := range resources {
			if wildcardResource(r) {
				j, _ := json.Marshal(r)
				bad = append(bad, fmt.Sprintf("%s: wildcard resource %s", ps.where, j))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func TestNoWildcardPermissions(t *testing.T) {
	_, m := defaultStack(t)
	if n := len(allStatements(m)); n < 10 {
		t.Fatalf("found only %d policy statements; the walker is missing policies", n)
	}
	for _, f := range wildcardFindings(m) {
		t.Error(f)
	}
	for id, r := range m["Resources"].(obj) {
		r := r.(obj)
		if r["Type"] == "AWS::IAM::Role" && props(r)["ManagedPolicyArns"] != nil {
			// Managed policies (AWSLambdaBasicExecutionRole) are invisible to the walk above
			// and grant logs:* on "*"; every role must carry only its inline statements.
			t.Errorf("role %s attaches managed policies %v", id, props(r)["ManagedPolicyArns"])
		}
		if r["Type"] == "AWS::IAM::ManagedPolicy" {
			t.Errorf("unexpected managed policy %s", id)
		}
	}
}

// TestWildcardWalkerCatchesWildcards proves the walker above can fail: a template with the
// usual mistakes must produce one finding for each.
func TestWildcardWalkerCatchesWildcards(t *testing.T) {
	tpl := obj{"Resources": obj{
		"P": obj{"Type": "AWS::IAM::Policy", "Properties": obj{"PolicyDocument": obj{"Statement": []any{
			obj{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"},
			obj{"Effect": "Allow", "Action": []any{"sqs:SendMessage"}, "Resource": "*"},
			obj{"Effect": "Allow", "Action": "s3:GetObject", "Resource": obj{"Fn::Join": []any{"", []any{getAtt("Other12345678"), "/*"}}}},
			obj{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": []any{"arn:aws:kms:us-east-1:1:key/*"}},
			obj{"Effect": "Deny", "Action": "*", "Resource": "*"},
		}}}},
		"R": obj{"Type": "AWS::IAM::Role", "Properties": obj{"Policies": []any{obj{
			"PolicyName":     "inline",
			"PolicyDocument": obj{"Statement": obj{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b"}},
		}}}},
	}}
	got := wildcardFindings(tpl)
	if len(got) != 6 {
		t.Fatalf("walker found %d problems, want 6:\n%s", len(got), strings.Join(got, "\n"))
	}
}

// TestFunctionPermissionsExact pins, for each function, every action it holds and the resources
// (by logical id) each action reaches. Adding a permission means changing this table on purpose.
func TestFunctionPermissionsExact(t *testing.T) {
	_, m := defaultStack(t)
	res := m["Resources"].(obj)
	id := func(p string) string { i, _ := onlyResource(t, m, p); return i }
	consume := []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
		"sqs:GetQueueUrl", "sqs:ReceiveMessage"}
	type grants map[string][]string // action -> logical ids of the resources it reaches
	base := func(fn string) grants {
		return grants{
			"logs:CreateLogStream":          {id(title(fn) + "Logs")},
			"logs:PutLogEvents":             {id(title(fn) + "Logs")},
			"secretsmanager:GetSecretValue": {id("CallbackSecret")},
			"s3:GetObject":                  {id("Values")},
			"s3:PutObject":                  {id("Values")},
		}
	}
	want := map[string]grants{"api": base("api"), "engine": base("engine"), "runner": base("runner"), "dlq": base("dlq"),
		"sweeper": base("sweeper")}
	// The api deletes what a user asks it to: a workflow or an environment (DeleteItem), an
	// execution (BatchWriteItem).
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:Query",
		"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} {
		want["api"][a] = []string{id("Table")}
	}
	// dlq runs engine steps (TaskComplete, Fail), so it holds exactly the engine's table grants.
	// DeleteItem: a failed commit over one transaction's items deletes what it wrote provisionally.
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
		"dynamodb:BatchGetItem", "dynamodb:Query"} {
		want["engine"][a] = []string{id("Table")}
		want["dlq"][a] = []string{id("Table")}
	}
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:UpdateItem"} {
		want["runner"][a] = []string{id("Table")}
	}
	// The sweeper lists RUNNING executions, re-sends actions and finalises (engine steps),
	// and deletes expired executions (BatchWriteItem) and what a failed commit wrote provisionally
	// (DeleteItem).
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:Query",
		"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} {
		want["sweeper"][a] = []string{id("Table")}
	}
	want["sweeper"]["sqs:SendMessage"] = sorted(id("TaskQueue"), id("ResultQueue"))
	want["api"]["sqs:SendMessage"] = sorted(id("TaskQueue"), id("ResultQueue"))
	want["engine"]["sqs:SendMessage"] = sorted(id("TaskQueue"), id("ResultQueue"))
	want["runner"]["sqs:SendMessage"] = []string{id("ResultQueue")}
	want["dlq"]["sqs:SendMessage"] = sorted(id("TaskQueue"), id("ResultQueue"))
	for _, a := range consume {
		want["engine"][a] = []string{id("ResultQueue")}
		want["runner"][a] = []string{id("TaskQueue")}
		want["dlq"][a] = sorted(id("TaskDlq"), id("ResultDlq"))
	}
	if len(want) != len(FunctionNames) {
		t.Fatalf("grant table covers %d functions, FunctionNames has %d", len(want), len(FunctionNames))
	}

	for _, fn := range FunctionNames {
		_, f := onlyResource(t, m, title(fn)+"Function")
		roleID := props(f)["Role"].(obj)["Fn::GetAtt"].([]any)[0].(string)
		got := grants{}
		for _, r := range res {
			r := r.(obj)
			if r["Type"] != "AWS::IAM::Policy" || !slices.ContainsFunc(asList(props(r)["Roles"]), func(x any) bool {
				return fmt.Sprint(x) == fmt.Sprint(ref(roleID))
			}) {
				continue
			}
			for _, s := range asList(props(r)["PolicyDocument"].(obj)["Statement"]) {
				s := s.(obj)
				for _, a := range asList(s["Action"]) {
					refs := map[string]bool{}
					for _, x := range got[a.(string)] {
						refs[x] = true
					}
					collectRefs(s["Resource"], refs)
					got[a.(string)] = sorted(keys(refs)...)
				}
			}
		}
		_, role := onlyResource(t, m, title(fn)+"Role")
		if p := props(role)["Policies"]; p != nil {
			t.Errorf("%s role has inline policies outside AWS::IAM::Policy: %v", fn, p)
		}
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want[fn], "", " ")
		if string(gj) != string(wj) {
			t.Errorf("%s permissions:\n got %s\nwant %s", fn, gj, wj)
		}
	}

	// The table above names resources by logical id, so an index ARN counts as the table. The
	// sweeper's listing is by state only: its Query reaches the table and byState, not byWorkflow.
	sweeperRole, _ := onlyResource(t, m, "SweeperRole")
	var queried []string
	for _, r := range res {
		r := r.(obj)
		if r["Type"] != "AWS::IAM::Policy" || fmt.Sprint(asList(props(r)["Roles"])) != fmt.Sprint([]any{ref(sweeperRole)}) {
			continue
		}
		for _, s := range asList(props(r)["PolicyDocument"].(obj)["Statement"]) {
			if slices.Contains(asList(s.(obj)["Action"]), any("dynamodb:Query")) {
				for _, x := range asList(s.(obj)["Resource"]) {
					j, _ := json.Marshal(x)
					queried = append(queried, string(j))
				}
			}
		}
	}
	tableJ, _ := json.Marshal(getAtt(id("Table")))
	byStateJ, _ := json.Marshal(obj{"Fn::Join": []any{"", []any{getAtt(id("Table")), "/index/byState"}}})
	if want := sorted(string(tableJ), string(byStateJ)); !slices.Equal(sorted(queried...), want) {
		t.Errorf("sweeper dynamodb:Query resources = %v, want %v", queried, want)
	}
}

// collectRefs adds every logical id an expression refers to (Ref or Fn::GetAtt), ignoring
// pseudo parameters such as AWS::Region.
func collectRefs(v any, into map[string]bool) {
	switch x := v.(type) {
	case obj:
		if r, ok := x["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
			into[r] = true
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok {
			into[g[0].(string)] = true
		}
		for _, c := range x {
			collectRefs(c, into)
		}
	case []any:
		for _, c := range x {
			collectRefs(c, into)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sorted(s ...string) []string { sort.Strings(s); return s }

// TestContextConfiguresStack synthesizes once with every kind of context key set, as strings
// the way the CDK CLI passes `-c key=value`.
func TestContextConfiguresStack(t *testing.T) {
	tpl, m, err := synth(t, map[string]any{
		"stage": "prod", "local": "1", "arch": "x86_64",
		"runnerMemorySize": "1024", "runnerTimeout": "300", "engineTimeout": "20", "apiMemorySize": "128",
		"engineReservedConcurrency": "80", "batchSize": "5", "engineBatchingWindow": "2",
		"runnerBatchingWindow": "0", "engineMaxConcurrency": "20", "runnerMaxConcurrency": "3",
		"maxReceiveCount": "3", "retentionDays": "7", "valueRetentionDays": "9", "executionRetentionDays": "1", "logLevel": "debug",
		"throttleRate": "10", "throttleBurst": "20", "apiBaseUrl": "http://127.0.0.1:4566/_aws/execute-api/",
		"dlqMemorySize": "192", "dlqTimeout": "45", "dlqReservedConcurrency": "8", "dlqMaxConcurrency": "4",
		"dlqBatchingWindow": "3",
		// local=1 drops the schedule unless it is asked for explicitly.
		"sweeperSchedule": "1", "sweepEveryMinutes": "1", "sweepMinAge": "30", "sweepMax": "50",
		"sweeperMemorySize": "128", "sweeperTimeout": "300",
		"runnerApplies": "1", "inlineSteps": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, runner := onlyResource(t, m, "RunnerFunction")
	assertJSON(t, "runner", props(runner), obj{"MemorySize": 1024, "Timeout": 300, "Architectures": []any{"x86_64"}})
	_, engine := onlyResource(t, m, "EngineFunction")
	assertJSON(t, "engine", props(engine), obj{"Timeout": 20, "ReservedConcurrentExecutions": 80})
	_, api := onlyResource(t, m, "ApiFunction")
	assertJSON(t, "api", props(api), obj{"MemorySize": 128})
	if v := props(api)["Environment"].(obj)["Variables"].(obj)["LAZYFLOW_LOG_LEVEL"]; v != "debug" {
		t.Errorf("LAZYFLOW_LOG_LEVEL = %v, want debug", v)
	}
	// apiBaseUrl moves the API URL (and so the callback URL) to the emulator's path form.
	apiID, _ := onlyResource(t, m, "Api")
	local := func(suffix string) obj {
		return obj{"Fn::Join": []any{"", []any{"http://127.0.0.1:4566/_aws/execute-api/", ref(apiID), suffix}}}
	}
	assertJSON(t, "runner callback URL", props(runner)["Environment"].(obj)["Variables"].(obj),
		obj{"LAZYFLOW_CALLBACK_BASE_URL": local("/callbacks/"), "LAZYFLOW_RUNNER_APPLIES": "1", "LAZYFLOW_INLINE_STEPS": "0"})
	if v, ok := props(engine)["Environment"].(obj)["Variables"].(obj)["LAZYFLOW_RUNNER_APPLIES"]; ok {
		t.Errorf("engine has LAZYFLOW_RUNNER_APPLIES=%v; only the runner applies its own results", v)
	}
	// A runner that applies its results runs engine steps: it holds the engine's grants.
	runnerRole := props(runner)["Role"].(obj)["Fn::GetAtt"].([]any)[0].(string)
	taskQueueID, _ := onlyResource(t, m, "TaskQueue")
	granted := map[string]map[string]bool{}
	for _, r := range m["Resources"].(obj) {
		r := r.(obj)
		if r["Type"] != "AWS::IAM::Policy" || fmt.Sprint(asList(props(r)["Roles"])) != fmt.Sprint([]any{ref(runnerRole)}) {
			continue
		}
		for _, s := range asList(props(r)["PolicyDocument"].(obj)["Statement"]) {
			for _, a := range asList(s.(obj)["Action"]) {
				if granted[a.(string)] == nil {
					granted[a.(string)] = map[string]bool{}
				}
				collectRefs(s.(obj)["Resource"], granted[a.(string)])
			}
		}
	}
	if !granted["dynamodb:PutItem"][tableID(t, m)] || !granted["dynamodb:ConditionCheckItem"][tableID(t, m)] ||
		!granted["sqs:SendMessage"][taskQueueID] {
		t.Errorf("runner with runnerApplies=1 lacks the engine's grants: %v", granted)
	}
	assertJSON(t, "ApiUrl output", m["Outputs"].(obj)["ApiUrl"].(obj), obj{"Value": local("/")})
	_, task := onlyResource(t, m, "TaskQueue")
	assertJSON(t, "task queue", props(task), obj{"VisibilityTimeout": 1800})
	_, result := onlyResource(t, m, "ResultQueue")
	assertJSON(t, "result queue", props(result), obj{"VisibilityTimeout": 120})
	if rc := props(result)["RedrivePolicy"].(obj)["maxReceiveCount"]; rc != float64(3) {
		t.Errorf("maxReceiveCount = %v, want 3", rc)
	}
	_, sweeper := onlyResource(t, m, "SweeperFunction")
	assertJSON(t, "sweeper", props(sweeper), obj{"MemorySize": 128, "Timeout": 300})
	assertJSON(t, "sweeper environment", props(sweeper)["Environment"].(obj)["Variables"].(obj),
		obj{"LAZYFLOW_SWEEP_MIN_AGE": "30", "LAZYFLOW_SWEEP_MAX": "50"})
	_, rule := onlyResource(t, m, "SweeperSchedule")
	assertJSON(t, "sweeper rule", props(rule), obj{"ScheduleExpression": "rate(1 minute)"})
	_, dlqFn := onlyResource(t, m, "DlqFunction")
	assertJSON(t, "dlq", props(dlqFn), obj{"MemorySize": 192, "Timeout": 45, "ReservedConcurrentExecutions": 8})
	for _, q := range []string{"TaskDlq", "ResultDlq"} {
		_, dq := onlyResource(t, m, q)
		assertJSON(t, q, props(dq), obj{"VisibilityTimeout": 6 * 45})
		check(t, q+" mapping", func() {
			tpl.HasResourceProperties(str("AWS::Lambda::EventSourceMapping"), obj{
				"FunctionName": ref(resourcesByPrefix(m, "DlqFunction")[0]), "EventSourceArn": getAtt(resourcesByPrefix(m, q)[0]),
				"BatchSize": 5, "MaximumBatchingWindowInSeconds": 3, "ScalingConfig": obj{"MaximumConcurrency": 4},
			})
		})
	}
	check(t, "engine mapping", func() {
		tpl.HasResourceProperties(str("AWS::Lambda::EventSourceMapping"), obj{
			"FunctionName": ref(resourcesByPrefix(m, "EngineFunction")[0]), "BatchSize": 5,
			"MaximumBatchingWindowInSeconds": 2, "ScalingConfig": obj{"MaximumConcurrency": 20},
		})
	})
	check(t, "runner mapping", func() {
		tpl.HasResourceProperties(str("AWS::Lambda::EventSourceMapping"), obj{
			"FunctionName": ref(resourcesByPrefix(m, "RunnerFunction")[0]), "BatchSize": 5,
			"MaximumBatchingWindowInSeconds": assertions.Match_Absent(), "ScalingConfig": obj{"MaximumConcurrency": 3},
		})
	})
	check(t, "log retention", func() {
		tpl.AllResourcesProperties(str("AWS::Logs::LogGroup"), obj{"RetentionInDays": 7})
	})
	check(t, "value expiry", func() {
		tpl.HasResourceProperties(str("AWS::S3::Bucket"), obj{
			"LifecycleConfiguration": obj{"Rules": []any{obj{"ExpirationInDays": 9, "Status": "Enabled"}}},
		})
	})
	check(t, "throttling", func() {
		tpl.HasResourceProperties(str("AWS::ApiGatewayV2::Stage"), obj{
			"DefaultRouteSettings": obj{"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20},
		})
	})
	check(t, "api name carries the stage", func() {
		tpl.HasResourceProperties(str("AWS::ApiGatewayV2::Api"), obj{"Name": "lazyflow-prod"})
	})
	// local=1: everything is destroyed with the stack, and the template needs no CDK bootstrap.
	for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"} {
		check(t, typ+" destroyed with a local stack", func() {
			tpl.AllResources(str(typ), obj{"DeletionPolicy": "Delete"})
		})
	}
	if p := m["Parameters"]; p != nil {
		t.Errorf("local template has parameters %v; CliCredentialsStackSynthesizer needs none", p)
	}
	if r := m["Rules"]; r != nil {
		t.Errorf("local template has bootstrap rules %v", r)
	}
	for _, f := range wildcardFindings(m) {
		t.Error("local profile: " + f)
	}
}

func TestConfigValidation(t *testing.T) {
	mutate := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default configuration is invalid: %v", err)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{mutate(func(c *Config) { c.Arch = "arm" }), "arch"},
		{mutate(func(c *Config) { c.Stage = "Prod!" }), "stage"},
		{mutate(func(c *Config) { c.LogRetentionDays = 10 }), "retentionDays 10"},
		{mutate(func(c *Config) { c.Functions["api"] = FunctionConfig{MemorySize: 256, Timeout: 60} }), "apiTimeout 60"},
		{mutate(func(c *Config) { c.Functions["runner"] = FunctionConfig{MemorySize: 64, Timeout: 10} }), "runnerMemorySize 64"},
		{mutate(func(c *Config) { c.MaxConcurrency["engine"] = 1 }), "engineMaxConcurrency 1"},
		{mutate(func(c *Config) { c.BatchSize = 50 }), "batching window"},
		{mutate(func(c *Config) { c.MaxReceiveCount = 0 }), "maxReceiveCount 0"},
		{mutate(func(c *Config) { c.LogLevel = "verbose" }), "logLevel"},
		{mutate(func(c *Config) { c.ValueRetentionDays = 30 }), "valueRetentionDays 30 must exceed executionRetentionDays + 7"},
		{mutate(func(c *Config) { c.ExecutionRetentionDays = 0 }), "valueRetentionDays 40 with executionRetentionDays 0"},
		{mutate(func(c *Config) { c.ExecutionRetentionDays = -1 }), "executionRetentionDays -1"},
		{mutate(func(c *Config) { c.APIBaseURL = "127.0.0.1:4566" }), "apiBaseUrl"},
		{mutate(func(c *Config) {
			c.Functions["runner"] = FunctionConfig{MemorySize: 512, Timeout: 120, ReservedConcurrency: 10}
		}), "runnerReservedConcurrency 10 is below 1 x runnerMaxConcurrency 100"},
		// dlq has a mapping per DLQ, each up to dlqMaxConcurrency (5), so 8 is too few.
		{mutate(func(c *Config) {
			c.Functions["dlq"] = FunctionConfig{MemorySize: 256, Timeout: 30, ReservedConcurrency: 8}
		}), "dlqReservedConcurrency 8 is below 2 x dlqMaxConcurrency 5"},
		{mutate(func(c *Config) { c.Functions["dlq"] = FunctionConfig{MemorySize: 256, Timeout: 7201} }), "dlqTimeout 7201 gives a visibility timeout"},
		{mutate(func(c *Config) { c.MaxConcurrency["dlq"] = 1001 }), "dlqMaxConcurrency 1001"},
		{mutate(func(c *Config) { c.SweepEveryMinutes = 0 }), "sweepEveryMinutes 0"},
		{mutate(func(c *Config) { c.SweepMax = 0 }), "sweepMax 0"},
		{mutate(func(c *Config) { c.SweepMinAge = -1 }), "sweepMinAge -1"},
		{mutate(func(c *Config) { c.Functions["sweeper"] = FunctionConfig{MemorySize: 256, Timeout: 901} }), "sweeperTimeout 901"},
		{mutate(func(c *Config) {
			c.BatchSize = 20
			c.BatchingWindow["engine"], c.BatchingWindow["runner"] = 1, 1
		}), "(dlq have none)"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
		}
	}
}

func TestContextErrorsNameTheKey(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"runnerTimeout": "two minutes", "local": "maybe"}})
	_, err := ConfigFromContext(app.Node())
	if err == nil || !strings.Contains(err.Error(), `"runnerTimeout"`) || !strings.Contains(err.Error(), `"local"`) {
		t.Fatalf("ConfigFromContext = %v, want errors naming runnerTimeout and local", err)
	}
}

// TestMissingAssetsFailSynth: a real synth without `make build` must stop with a clear message
// and must not invent placeholder binaries.
func TestMissingAssetsFailSynth(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "api", "bootstrap"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.AssetDir = dir
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	_, _, err := NewStack(app, "Missing", &StackProps{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "make build") || !strings.Contains(err.Error(), filepath.Join(dir, "engine", "bootstrap")) {
		t.Fatalf("NewStack = %v, want an error naming engine/bootstrap and `make build`", err)
	}
	if strings.Contains(err.Error(), filepath.Join(dir, "api", "bootstrap")) {
		t.Errorf("error lists the api bootstrap, which exists: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "engine", "bootstrap")); err == nil {
		t.Error("synth created a placeholder bootstrap")
	}
}

func TestParseContextArgs(t *testing.T) {
	got, err := ParseContextArgs([]string{"-c", "local=1", "--context", "stage=qa", "-cassetDir=/x", "--context=arch=x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"local": "1", "stage": "qa", "assetDir": "/x", "arch": "x86_64"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseContextArgs = %v, want %v", got, want)
	}
	for _, bad := range [][]string{{"-c"}, {"-c", "novalue"}, {"synth"}} {
		if _, err := ParseContextArgs(bad); err == nil {
			t.Errorf("ParseContextArgs(%q) accepted", bad)
		}
	}
}

// TestReadmeDocumentsContextKeys keeps README.md's configuration table complete.
func TestReadmeDocumentsContextKeys(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range contextKeys {
		if !strings.Contains(string(b), "`"+k+"`") {
			t.Errorf("README.md does not document context key %q", k)
		}
	}
}

// TestIAMTableMatchesGrants keeps README.md's IAM table to what each role holds on the table:
// every dynamodb: action a row names, and only those, is granted to that function.
func TestIAMTableMatchesGrants(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// "`dynamodb:GetItem`, `PutItem`, …": the first action names the service, the rest follow it.
	list := regexp.MustCompile("`dynamodb:(\\w+)`((?:, `\\w+`)*)")
	name := regexp.MustCompile("`(\\w+)`")
	s := jsii.String
	for _, fn := range FunctionNames {
		row := regexp.MustCompile(`(?m)^\| ` + fn + ` \|.*$`).FindString(string(b))
		if row == "" {
			t.Errorf("README.md's IAM table has no row for %s", fn)
			continue
		}
		doc := map[string]bool{}
		for _, m := range list.FindAllStringSubmatch(row, -1) {
			doc["dynamodb:"+m[1]] = true
			for _, n := range name.FindAllStringSubmatch(m[2], -1) {
				doc["dynamodb:"+n[1]] = true
			}
		}
		granted := map[string]bool{}
		for _, st := range permissions(fn, false, s("table"), []*string{s("index")}, s("byState"), s("objects"), s("secret"), s("tasks"), s("results")) {
			for _, a := range *st.Actions() {
				if strings.HasPrefix(*a, "dynamodb:") {
					granted[*a] = true
				}
			}
		}
		got, want := sorted(keys(doc)...), sorted(keys(granted)...)
		if !slices.Equal(got, want) {
			t.Errorf("README.md's IAM row for %s lists %v; the role is granted %v", fn, got, want)
		}
	}
}

// TestContextKeysAreRead sets every per-function and per-consumer key to a value Validate
// rejects: each must then be named in the error, which proves ConfigFromContext reads it (a key
// listed in contextKeys but never read would pass silently).
func TestContextKeysAreRead(t *testing.T) {
	ctx := map[string]any{}
	var want []string
	for _, name := range FunctionNames {
		ctx[name+"MemorySize"] = "1"
		ctx[name+"Timeout"] = "0"
		ctx[name+"ReservedConcurrency"] = "-1"
		want = append(want, name+"MemorySize 1", name+"Timeout 0", name+"ReservedConcurrency -1")
	}
	for _, c := range Consumers {
		ctx[c.Name+"BatchingWindow"] = "301"
		ctx[c.Name+"MaxConcurrency"] = "1"
		want = append(want, c.Name+"BatchingWindow 301", c.Name+"MaxConcurrency 1")
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	_, err := ConfigFromContext(app.Node())
	if err == nil {
		t.Fatal("ConfigFromContext accepted invalid values for every function key")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q: %v", w, err)
		}
	}
	for k := range ctx {
		if !slices.Contains(contextKeys, k) {
			t.Errorf("key %q is read but missing from contextKeys", k)
		}
	}
}

// TestEmulatorShortTimeouts synthesizes the combination the emulator end-to-end suite uses
// (README "Local/emulator"): short timeouts give short visibility timeouts, so a failing
// message reaches its DLQ, and the dlq function, within a minute or two instead of an hour.
func TestEmulatorShortTimeouts(t *testing.T) {
	_, m, err := synth(t, map[string]any{
		"local": "1", "runnerTimeout": "10", "engineTimeout": "10", "dlqTimeout": "10", "maxReceiveCount": "3",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"TaskQueue", "ResultQueue"} {
		_, r := onlyResource(t, m, q)
		assertJSON(t, q, props(r), obj{"VisibilityTimeout": 60})
		if rc := props(r)["RedrivePolicy"].(obj)["maxReceiveCount"]; rc != float64(3) {
			t.Errorf("%s maxReceiveCount = %v, want 3", q, rc)
		}
	}
	for _, q := range []string{"TaskDlq", "ResultDlq"} {
		_, r := onlyResource(t, m, q)
		assertJSON(t, q, props(r), obj{"VisibilityTimeout": 60})
	}
	for _, f := range []string{"RunnerFunction", "EngineFunction", "DlqFunction"} {
		_, r := onlyResource(t, m, f)
		assertJSON(t, f, props(r), obj{"Timeout": 10})
	}
	// The emulator profile deploys the sweeper without its schedule (MiniStack may not know
	// AWS::Events::Rule); it can still be invoked by hand.
	onlyResource(t, m, "SweeperFunction")
	for id, r := range m["Resources"].(obj) {
		r := r.(obj)
		if typ := r["Type"]; typ == "AWS::Events::Rule" || typ == "AWS::Lambda::Permission" && props(r)["Principal"] != "apigateway.amazonaws.com" {
			t.Errorf("local template has %s (%s); sweeperSchedule should default to off", id, typ)
		}
	}
}

// TestUserResourceGrants: the runner, which runs the aws.* actions, may call exactly the
// functions, queues, topics and buses the configuration lists (one action each, on those ARNs
// alone), and no other function gets any of them.
func TestUserResourceGrants(t *testing.T) {
	fns := "arn:aws:lambda:us-east-1:123456789012:function:resize,arn:aws:lambda:us-east-1:123456789012:function:thumb:live"
	_, m, err := synth(t, map[string]any{
		"userFunctionArns": fns,
		"userQueueArns":    "arn:aws:sqs:us-east-1:123456789012:orders",
		"userTopicArns":    "arn:aws:sns:us-east-1:123456789012:alerts",
		"userEventBusArns": "arn:aws:events:us-east-1:123456789012:event-bus/shop",
	})
	if err != nil {
		t.Fatalf("synth: %v", err)
	}
	want := map[string][]string{
		"lambda:InvokeFunction": {"arn:aws:lambda:us-east-1:123456789012:function:resize", "arn:aws:lambda:us-east-1:123456789012:function:thumb:live"},
		"sqs:SendMessage":       {"arn:aws:sqs:us-east-1:123456789012:orders"},
		"sns:Publish":           {"arn:aws:sns:us-east-1:123456789012:alerts"},
		"events:PutEvents":      {"arn:aws:events:us-east-1:123456789012:event-bus/shop"},
	}
	runnerRole, _ := onlyResource(t, m, "RunnerRole")
	got := map[string][]string{}
	for _, r := range m["Resources"].(obj) {
		r := r.(obj)
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		runner := fmt.Sprint(asList(props(r)["Roles"])) == fmt.Sprint([]any{ref(runnerRole)})
		for _, s := range asList(props(r)["PolicyDocument"].(obj)["Statement"]) {
			for _, a := range asList(s.(obj)["Action"]) {
				for _, res := range asList(s.(obj)["Resource"]) {
					arn, literal := res.(string)
					if !literal || !strings.HasPrefix(arn, "arn:aws:") {
						continue // the stack's own resources, checked by TestFunctionPermissionsExact
					}
					if !runner {
						t.Errorf("a role other than the runner's may %s %s", a, arn)
					}
					got[a.(string)] = append(got[a.(string)], arn)
				}
			}
		}
	}
	for a := range got {
		sort.Strings(got[a])
	}
	gj, _ := json.MarshalIndent(got, "", " ")
	wj, _ := json.MarshalIndent(want, "", " ")
	if string(gj) != string(wj) {
		t.Errorf("runner grants on user resources:\n got %s\nwant %s", gj, wj)
	}
	if f := wildcardFindings(m); len(f) > 0 {
		t.Errorf("wildcards with user resources: %v", f)
	}

	// With no lists the runner gets none of these actions.
	_, d := defaultStack(t)
	for _, s := range allStatements(d) {
		for _, a := range []string{"lambda:InvokeFunction", "sns:Publish", "events:PutEvents"} {
			if strings.Contains(fmt.Sprint(s), a) {
				t.Errorf("default stack grants %s: %v", a, s)
			}
		}
	}
}

func TestUserResourceListsValidated(t *testing.T) {
	for key, tc := range map[string]struct{ value, want string }{
		"userFunctionArns": {"arn:aws:lambda:us-east-1:123456789012:function:*", `userFunctionArns: "arn:aws:lambda:us-east-1:123456789012:function:*" has a wildcard`},
		"userQueueArns":    {"arn:aws:sns:us-east-1:123456789012:orders", "is not a sqs ARN"},
		"userTopicArns":    {"alerts", `userTopicArns: "alerts" is not an ARN`},
		"userEventBusArns": {"arn:aws:events:us-east-1:123456789012:event-bus/shop, arn:aws:events:*:123456789012:event-bus/x", "has a wildcard"},
	} {
		app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{key: tc.value}})
		_, err := ConfigFromContext(app.Node())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: got %v, want an error with %q", key, tc.value, err, tc.want)
		}
	}
}

func tableID(t *testing.T, m map[string]any) string {
	id, _ := onlyResource(t, m, "Table")
	return id
}
