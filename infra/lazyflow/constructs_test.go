package lazyflow

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// userApp is a user's CDK app: its own stack with its function, queue, topic and bus, and the
// Lazyflow construct under an id of the user's choosing.
type userApp struct {
	stack awscdk.Stack
	lf    *Lazyflow
	fn    awslambda.Function
	queue awssqs.Queue
	topic awssns.Topic
	bus   awsevents.EventBus
}

func newUserApp(t *testing.T) userApp {
	t.Helper()
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack := awscdk.NewStack(app, jsii.String("Shop"), nil)
	cfg := DefaultConfig()
	cfg.AssetDir = placeholderAssets(t)
	lf, err := New(stack, "Lazyflow", &Props{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	u := userApp{stack: stack, lf: lf}
	u.fn = awslambda.NewFunction(stack, jsii.String("Resize"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_PROVIDED_AL2023(), Handler: jsii.String("bootstrap"),
		Code: awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, "api")), nil),
	})
	u.queue = awssqs.NewQueue(stack, jsii.String("Orders"), nil)
	u.topic = awssns.NewTopic(stack, jsii.String("Alerts"), nil)
	u.bus = awsevents.NewEventBus(stack, jsii.String("Bus"), nil)
	return u
}

func template(t *testing.T, stack awscdk.Stack) map[string]any {
	t.Helper()
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// runnerUserGrants maps each action of the runner's user-resource statements to its
// resources, as JSON, and fails on a user-resource action held by any other role.
func runnerUserGrants(t *testing.T, m map[string]any) map[string][]string {
	t.Helper()
	runnerRole, _ := onlyResource(t, m, "LazyflowRunnerRole")
	got := map[string][]string{}
	for id, r := range m["Resources"].(obj) {
		r := r.(obj)
		if r["Type"] != "AWS::IAM::Policy" {
			continue
		}
		runner := len(asList(props(r)["Roles"])) == 1 && jsonOf(asList(props(r)["Roles"])[0]) == jsonOf(ref(runnerRole))
		for _, s := range asList(props(r)["PolicyDocument"].(obj)["Statement"]) {
			sid, _ := s.(obj)["Sid"].(string)
			if _, user := map[string]bool{"InvokeUserFunctions": true, "SendToUserQueues": true,
				"PublishToUserTopics": true, "PutEventsOnUserBuses": true}[sid]; !user {
				continue
			}
			if !runner {
				t.Errorf("policy %s outside the runner's role has %s", id, sid)
			}
			for _, a := range asList(s.(obj)["Action"]) {
				for _, res := range asList(s.(obj)["Resource"]) {
					got[a.(string)] = append(got[a.(string)], jsonOf(res))
				}
			}
		}
	}
	for a := range got {
		sort.Strings(got[a])
	}
	return got
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// GrantInvoke and the Allow methods give the runner exactly the user's resources: one action
// per kind, each resource by its own ARN, nothing else and no wildcard.
func TestGrantsAreExact(t *testing.T) {
	u := newUserApp(t)
	u.lf.GrantInvoke(u.fn)
	u.lf.AllowQueues(u.queue)
	u.lf.AllowTopics(u.topic)
	u.lf.AllowEventBuses(u.bus)
	if err := u.lf.AllowFunctionArns("arn:aws:lambda:us-east-1:123456789012:function:thumb:live"); err != nil {
		t.Fatal(err)
	}
	m := template(t, u.stack)
	id := func(prefix string) string { i, _ := onlyResource(t, m, prefix); return i }
	want := map[string][]string{
		"lambda:InvokeFunction": {`"arn:aws:lambda:us-east-1:123456789012:function:thumb:live"`, jsonOf(getAtt(id("Resize")))},
		"sqs:SendMessage":       {jsonOf(getAtt(id("Orders")))},
		"sns:Publish":           {jsonOf(ref(id("Alerts")))},
		"events:PutEvents":      {jsonOf(getAtt(id("Bus")))},
	}
	for a := range want {
		sort.Strings(want[a])
	}
	if got := runnerUserGrants(t, m); jsonOf(got) != jsonOf(want) {
		t.Errorf("runner's grants on user resources:\n got %s\nwant %s", jsonOf(got), jsonOf(want))
	}
	if f := wildcardFindings(m); len(f) > 0 {
		t.Errorf("wildcards: %v", f)
	}
	// The construct's own grants are the stack's: the user's id only prefixes logical ids.
	if n := len(resourcesByPrefix(m, "LazyflowTable")); n != 1 {
		t.Errorf("want the table as LazyflowTable*, found %d", n)
	}
	if _, ok := m["Outputs"].(obj)["ApiId"]; !ok {
		t.Errorf("outputs %v lack ApiId under its exact name", m["Outputs"])
	}

	// Without any grant the runner holds none of these actions.
	bare := newUserApp(t)
	if got := runnerUserGrants(t, template(t, bare.stack)); len(got) != 0 {
		t.Errorf("runner of a stack without grants may call %v", got)
	}
	if err := bare.lf.AllowFunctionArns("arn:aws:lambda:us-east-1:123456789012:function:*"); err == nil ||
		!strings.Contains(err.Error(), "wildcard") {
		t.Errorf("AllowFunctionArns with a wildcard: %v, want a refusal", err)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Workflows declares one custom resource per file, served by the api function, with the
// file's text and the values of the placeholders it uses.
func TestWorkflowsRegisterThroughTheAPIFunction(t *testing.T) {
	u := newUserApp(t)
	dir := t.TempDir()
	src := "version: '2.0'\nresize:\n  tasks:\n    call:\n      action: aws.lambda.invoke function_name=${ResizeFunction}\n"
	file := writeFile(t, dir, "resize.yaml", src)
	if _, err := NewWorkflows(u.stack, "Workflows", &WorkflowsProps{Lazyflow: u.lf, Files: []string{file},
		Variables: map[string]*string{"ResizeFunction": u.fn.FunctionName(), "Unused": jsii.String("x")}}); err != nil {
		t.Fatal(err)
	}
	m := template(t, u.stack)
	id, r := onlyResource(t, m, "WorkflowsWorkflowresize")
	if r["Type"] != WorkflowsResourceType {
		t.Fatalf("%s has type %v", id, r["Type"])
	}
	api, _ := onlyResource(t, m, "LazyflowApiFunction")
	resize, _ := onlyResource(t, m, "Resize")
	want := obj{"ServiceToken": getAtt(api), "File": "resize.yaml", "Source": src,
		"Variables": obj{"ResizeFunction": ref(resize)}}
	if jsonOf(props(r)) != jsonOf(want) {
		t.Errorf("custom resource properties:\n got %s\nwant %s", jsonOf(props(r)), jsonOf(want))
	}
}

// A broken workflow fails synth with its file:line, before anything deploys.
func TestBrokenWorkflowFailsSynth(t *testing.T) {
	u := newUserApp(t)
	dir := t.TempDir()
	for name, tc := range map[string]struct{ src, want string }{
		"transition": {"version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n      on-success: [nowhere]\n", "broken.yaml:6:"},
		"aws input":  {"version: '2.0'\nwf:\n  tasks:\n    a:\n      action: aws.lambda.invoke payload=1\n", "broken.yaml:4:5: task \"a\" calls action \"aws.lambda.invoke\" without its required input \"function_name\""},
		"std action": {"version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.nope\n", "broken.yaml:4:5: task \"a\" calls action \"std.nope\", which does not exist"},
		"variable":   {"version: '2.0'\nwf:\n  tasks:\n    a:\n      action: aws.lambda.invoke function_name=${Missing}\n", "broken.yaml:5:47: ${Missing} has no value"},
	} {
		file := writeFile(t, dir, "broken.yaml", tc.src)
		_, err := NewWorkflows(u.stack, "Broken"+strings.ReplaceAll(name, " ", ""), &WorkflowsProps{Lazyflow: u.lf, Files: []string{file}})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
			t.Errorf("%s: NewWorkflows = %v, want an error at %s", name, err, tc.want)
		}
	}
}
