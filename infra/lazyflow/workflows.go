package lazyflow

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
)

// WorkflowsResourceType is the custom resource the api function serves
// (functions/internal/cfnworkflows).
const WorkflowsResourceType = "Custom::LazyflowWorkflows"

// maxWorkflowSource bounds one file: CloudFormation hands the properties to the api function
// in one asynchronous invocation, whose payload Lambda caps at 256 KiB.
const maxWorkflowSource = 200 << 10

// WorkflowsProps configures NewWorkflows.
type WorkflowsProps struct {
	Lazyflow *Lazyflow
	// Files are the workflow files and workbooks to register, read at synth time.
	Files []string
	// Variables are values for ${Name} placeholders in the files, resolved by CloudFormation
	// at deploy time: a function's name, a queue's URL. A placeholder without a value fails
	// synth at its file:line.
	Variables map[string]*string
}

// Workflows registers workflow files with a Lazyflow deployment when the stack deploys: one
// Custom::LazyflowWorkflows resource per file, served by the api function. Create registers
// the file, an update registers the new text and unregisters workflows only the old one had,
// and deleting the resource (or the stack) unregisters its workflows; running executions go
// on either way. Each file is validated at synth with the service's loader and action
// catalogue (std.* and aws.*), so a broken workflow fails `cdk synth` with its file:line.
type Workflows struct {
	// Construct holds the custom resources (a field for the reason Lazyflow.Construct is).
	Construct constructs.Construct
	Resources []awscdk.CustomResource
}

// NewWorkflows validates props.Files and declares their registration.
func NewWorkflows(scope constructs.Construct, id string, props *WorkflowsProps) (*Workflows, error) {
	if props == nil || props.Lazyflow == nil {
		return nil, fmt.Errorf("workflows %s: WorkflowsProps.Lazyflow is required", id)
	}
	if len(props.Files) == 0 {
		return nil, fmt.Errorf("workflows %s: WorkflowsProps.Files lists no file", id)
	}
	type file struct{ base, source string }
	var files []file
	seen := map[string]string{}
	for _, path := range props.Files {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("workflows %s: %w", id, err)
		}
		if err := ValidateWorkflow(path, src, props.Variables); err != nil {
			return nil, fmt.Errorf("workflows %s: %w", id, err)
		}
		base := filepath.Base(path)
		if other, dup := seen[base]; dup {
			return nil, fmt.Errorf("workflows %s: %s and %s have the same file name, which names the resource and the errors at deploy", id, other, path)
		}
		seen[base] = path
		files = append(files, file{base, string(src)})
	}
	w := &Workflows{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	for _, f := range files {
		vars := map[string]*string{}
		for k, v := range props.Variables {
			if strings.Contains(f.source, "${"+k+"}") {
				vars[k] = v
			}
		}
		w.Resources = append(w.Resources, awscdk.NewCustomResource(w.Construct, jsii.String(resourceID(f.base)), &awscdk.CustomResourceProps{
			ServiceToken: props.Lazyflow.Functions["api"].FunctionArn(),
			ResourceType: jsii.String(WorkflowsResourceType),
			Properties:   &map[string]any{"File": f.base, "Source": f.source, "Variables": vars},
		}))
	}
	return w, nil
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// ValidateWorkflow checks one file as registration will: the service's loader with the
// actions every Lazyflow stack runs (std.* and aws.*), and a value for each ${Name}
// placeholder. Errors name file:line:column. User actions registered with POST /actions are
// not known at synth; registration checks their calls at deploy.
func ValidateWorkflow(file string, src []byte, variables map[string]*string) error {
	if len(src) > maxWorkflowSource {
		return fmt.Errorf("%s: %d bytes, more than the %d one deployment can register", file, len(src), maxWorkflowSource)
	}
	var missing []string
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range placeholder.FindAllStringSubmatchIndex(line, -1) {
			if name := line[m[2]:m[3]]; variables[name] == nil {
				missing = append(missing, fmt.Sprintf("%s:%d:%d: ${%s} has no value in WorkflowsProps.Variables", file, i+1, m[0]+1, name))
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s", strings.Join(missing, "\n"))
	}
	if _, err := dsl.LoadWith(file, src, dsl.Options{Actions: awsactions.Catalog()}); err != nil {
		return err
	}
	return nil
}

// resourceID turns a file name into a construct id: letters and digits only.
func resourceID(base string) string {
	var b strings.Builder
	for _, r := range strings.TrimSuffix(base, filepath.Ext(base)) {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return "Workflow" + b.String()
}
