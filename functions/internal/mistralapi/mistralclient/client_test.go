//go:build mistralclient

package mistralclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tier: build lazyflow, serve it on a free port, drive /v2 with the
// pinned `mistral` command and Python API from .tools/mistralclient-venv
// (functions/internal/mistralapi/mistralclient/install.sh, which `make test-mistralclient` runs first).

// here is this package's directory; root is the repository's, four levels up.
var here, root = func() (string, string) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	return dir, filepath.Join(dir, "..", "..", "..", "..")
}()

func venvBin(name string) string {
	return filepath.Join(root, ".tools", "mistralclient-venv", "bin", name)
}

type server struct {
	url      string // .../v2
	delegate *httptest.Server
	calls    chan string // Mistral-Callback-URL of each delegate call
}

func serve(t *testing.T) *server {
	t.Helper()
	if _, err := os.Stat(venvBin("mistral")); err != nil {
		t.Fatalf("python-mistralclient is not installed: run functions/internal/mistralapi/mistralclient/install.sh (make test-mistralclient does): %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lazyflow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/lazyflow")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("lazyflow serve log:\n%s", logs.String())
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("lazyflow serve did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := &server{url: "http://" + addr + "/v2", calls: make(chan string, 16)}
	// A delegate service as written for Mistral: it takes the work, answers
	// at once and reports later to the Mistral-Callback-URL it was given.
	s.delegate = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls <- r.Header.Get("Mistral-Callback-URL")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.delegate.Close)
	return s
}

// mistral runs the CLI without Keystone (no auth URL, token or password).
func (s *server) mistral(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(venvBin("mistral"), append([]string{"--os-mistral-url", s.url}, args...)...)
	cmd.Dir = filepath.Join(here, "testdata")
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "OS_") && !strings.HasPrefix(e, "MISTRAL_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("mistral %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func (s *server) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.mistral(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// show runs a show command with -f json and returns its fields.
func (s *server) show(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var m map[string]any
	out := s.must(t, append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("mistral %v: not JSON: %v\n%s", args, err, out)
	}
	return m
}

func (s *server) list(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var l []map[string]any
	out := s.must(t, append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("mistral %v: not JSON: %v\n%s", args, err, out)
	}
	return l
}

func (s *server) waitState(t *testing.T, ex string, want ...string) map[string]any {
	t.Helper()
	var got map[string]any
	for i := 0; i < 100; i++ {
		got = s.show(t, "execution-get", ex)
		for _, w := range want {
			if got["State"] == w {
				return got
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("execution %s is %v, want %v", ex, got["State"], want)
	return nil
}

func (s *server) nextCall(t *testing.T) string {
	t.Helper()
	select {
	case u := <-s.calls:
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("the delegate was never called")
		return ""
	}
}

// put completes a delegate action as a Mistral delegate does: PUT
// {"state", "output"} to the Mistral-Callback-URL it received.
func put(t *testing.T, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMistralCLI(t *testing.T) {
	s := serve(t)
	cliDefinitions(t, s)
	cliExecution(t, s)
	cliControl(t, s)
	cliDelegateAndRerun(t, s)
	cliEnvironments(t, s)
	cliDeletes(t, s)
}

func cliDefinitions(t *testing.T, s *server) {
	if wb := s.show(t, "workbook-create", "demo.yaml"); wb["Name"] != "demo" {
		t.Fatalf("workbook-create: %v", wb)
	}
	if def := s.must(t, "workbook-get-definition", "demo"); !strings.Contains(def, "name: demo") {
		t.Fatalf("workbook-get-definition: %s", def)
	}
	if wbs := s.list(t, "workbook-list"); len(wbs) != 1 || wbs[0]["Name"] != "demo" {
		t.Fatalf("workbook-list: %v", wbs)
	}
	if wb := s.show(t, "workbook-get", "demo"); wb["Name"] != "demo" {
		t.Fatalf("workbook-get: %v", wb)
	}
	if v := s.show(t, "workflow-validate", "standalone.yaml"); v["Valid"] != true {
		t.Fatalf("workflow-validate: %v", v)
	}
	if l := s.list(t, "workflow-create", "standalone.yaml"); len(l) != 1 || l[0]["Name"] != "standalone" {
		t.Fatalf("workflow-create: %v", l)
	}
	if _, err := s.mistral(t, "workflow-create", "standalone.yaml"); err == nil || !strings.Contains(err.Error(), "Duplicate entry") {
		t.Fatalf("second workflow-create: %v, want Duplicate entry", err)
	}
	s.must(t, "workflow-update", "standalone2.yaml")
	if def := s.must(t, "workflow-get-definition", "standalone"); !strings.Contains(def, "two:") {
		t.Fatalf("workflow-update did not replace the definition: %s", def)
	}
	names := map[string]bool{}
	for _, w := range s.list(t, "workflow-list") {
		names[w["Name"].(string)] = true
	}
	for _, n := range []string{"demo.hello", "demo.rev", "demo.delegated", "standalone"} {
		if !names[n] {
			t.Errorf("workflow-list has no %s: %v", n, names)
		}
	}
	if wf := s.show(t, "workflow-get", "demo.hello"); wf["Input"] != "name" {
		t.Errorf("workflow-get: input %v, want name", wf["Input"])
	}
	if _, err := s.mistral(t, "workflow-get", "nope"); err == nil || !strings.Contains(err.Error(), "Workflow not found") {
		t.Errorf("workflow-get of an unknown workflow: %v", err)
	}
}

// An execution with input, to its end; its tasks and action executions; a
// reverse workflow's task_name.
func cliExecution(t *testing.T, s *server) {
	ex := s.show(t, "execution-create", "demo.hello", `{"name": "Ada"}`, "-d", "first")
	id := ex["ID"].(string)
	s.waitState(t, id, "SUCCESS")
	if out := s.must(t, "execution-get-output", id); !strings.Contains(out, `"greeting": "Hello, Ada!"`) {
		t.Errorf("execution-get-output: %s", out)
	}
	if in := s.must(t, "execution-get-input", id); !strings.Contains(in, `"name": "Ada"`) {
		t.Errorf("execution-get-input: %s", in)
	}
	found := false
	if l := s.list(t, "execution-list", "--limit", "1"); len(l) != 1 {
		t.Errorf("execution-list --limit 1: %v", l)
	}
	for _, e := range s.list(t, "execution-list") {
		found = found || e["ID"] == id
	}
	if !found {
		t.Errorf("execution-list has no %s", id)
	}
	tasks := s.list(t, "task-list", id)
	if len(tasks) != 1 || tasks[0]["Name"] != "greet" || tasks[0]["State"] != "SUCCESS" {
		t.Fatalf("task-list: %v", tasks)
	}
	task := tasks[0]["ID"].(string)
	if got := s.show(t, "task-get", task); got["Workflow Execution ID"] != id {
		t.Errorf("task-get: %v", got)
	}
	if r := s.must(t, "task-get-result", task); !strings.Contains(r, "Hello, Ada!") {
		t.Errorf("task-get-result: %s", r)
	}
	if p := s.must(t, "task-get-published", task); !strings.Contains(p, `"greeting": "Hello, Ada!"`) {
		t.Errorf("task-get-published: %s", p)
	}
	ax := s.list(t, "action-execution-list", task)
	if len(ax) != 1 || ax[0]["Name"] != "std.echo" || ax[0]["State"] != "SUCCESS" {
		t.Fatalf("action-execution-list: %v", ax)
	}
	if got := s.show(t, "action-execution-get", ax[0]["ID"].(string)); got["Task name"] != "greet" {
		t.Errorf("action-execution-get: %v", got)
	}
	if out := s.must(t, "action-execution-get-output", ax[0]["ID"].(string)); !strings.Contains(out, "Hello, Ada!") {
		t.Errorf("action-execution-get-output: %s", out)
	}
	found = false
	for _, a := range s.list(t, "action-list") {
		found = found || a["Name"] == "std.mistral_http"
	}
	if !found {
		t.Errorf("action-list has no std.mistral_http")
	}

	rev := s.show(t, "execution-create", "demo.rev", "{}", `{"task_name": "b"}`)["ID"].(string)
	s.waitState(t, rev, "SUCCESS")
	if got := s.list(t, "task-list", rev); len(got) != 2 {
		t.Errorf("reverse workflow to b ran %d tasks, want a and b: %v", len(got), got)
	}
}

// Pause, resume, cancel while a delegate holds the task.
func cliControl(t *testing.T, s *server) {
	hold := s.show(t, "execution-create", "demo.delegated", fmt.Sprintf(`{"url": %q}`, s.delegate.URL))["ID"].(string)
	s.nextCall(t)
	if st := s.show(t, "execution-update", hold, "-s", "PAUSED")["State"]; st != "PAUSED" {
		t.Errorf("execution-update -s PAUSED: %v", st)
	}
	if st := s.show(t, "execution-update", hold, "-s", "RUNNING")["State"]; st != "RUNNING" {
		t.Errorf("execution-update -s RUNNING: %v", st)
	}
	if st := s.show(t, "execution-update", hold, "-s", "CANCELLED")["State"]; st != "CANCELLED" {
		t.Errorf("execution-update -s CANCELLED: %v", st)
	}
	if _, err := s.mistral(t, "execution-update", hold, "-s", "PAUSED"); err == nil {
		t.Errorf("pausing a cancelled execution succeeded")
	}
}

// Environments are created from a file, named in an execution's params
// and read by env(); update replaces their variables.
func cliEnvironments(t *testing.T, s *server) {
	if env := s.show(t, "environment-create", "env.yaml"); env["Name"] != "prod" || env["Description"] != "production" || env["Scope"] != "private" {
		t.Fatalf("environment-create: %v", env)
	}
	if _, err := s.mistral(t, "environment-create", "env.yaml"); err == nil {
		t.Errorf("environment-create of a duplicate succeeded")
	}
	if l := s.list(t, "environment-list"); len(l) != 1 || l[0]["Name"] != "prod" {
		t.Errorf("environment-list: %v", l)
	}
	if env := s.show(t, "environment-update", "env2.yaml"); !strings.Contains(fmt.Sprint(env["Variables"]), "Hey") || env["Description"] != "production" {
		t.Errorf("environment-update: %v", env)
	}
	if env := s.show(t, "environment-get", "prod"); !strings.Contains(fmt.Sprint(env["Variables"]), "Hey") {
		t.Errorf("environment-get: %v", env)
	}
	s.must(t, "workflow-create", "envwf.yaml")
	ex := s.show(t, "execution-create", "envwf", "{}", `{"env": "prod"}`)["ID"].(string)
	s.waitState(t, ex, "SUCCESS")
	if out := s.must(t, "execution-get-output", ex); !strings.Contains(out, `"Hey"`) {
		t.Errorf("an execution with a named env: output %s", out)
	}
	s.must(t, "environment-delete", "prod")
	if _, err := s.mistral(t, "environment-get", "prod"); err == nil {
		t.Errorf("environment-get after environment-delete succeeded")
	}
}

// Deletes: a finished execution goes, a running one only with --force; a
// workflow and a workbook (with its workflows) go from the lists.
func cliDeletes(t *testing.T, s *server) {
	done := s.list(t, "execution-list", "--limit", "-1")
	var finished string
	for _, e := range done {
		if e["State"] == "SUCCESS" {
			finished = e["ID"].(string)
			break
		}
	}
	if finished == "" {
		t.Fatalf("no finished execution to delete in %v", done)
	}
	s.must(t, "execution-delete", finished)
	if _, err := s.mistral(t, "execution-get", finished); err == nil {
		t.Errorf("execution-get after execution-delete succeeded")
	}
	hold := s.show(t, "execution-create", "demo.delegated", fmt.Sprintf(`{"url": %q}`, s.delegate.URL))["ID"].(string)
	s.nextCall(t)
	if _, err := s.mistral(t, "execution-delete", hold); err == nil || !strings.Contains(err.Error(), "Unable to delete") {
		t.Errorf("execution-delete of a running execution: %v, want a refusal", err)
	}
	s.must(t, "execution-delete", "--force", hold)
	if _, err := s.mistral(t, "execution-get", hold); err == nil {
		t.Errorf("execution-get after execution-delete --force succeeded")
	}
	s.must(t, "workflow-delete", "envwf")
	s.must(t, "workbook-delete", "demo")
	for _, wb := range s.list(t, "workbook-list") { // an empty list is one blank row
		if wb["Name"] == "demo" {
			t.Errorf("workbook-list after workbook-delete: %v", wb)
		}
	}
	for _, w := range s.list(t, "workflow-list") {
		if n := w["Name"].(string); n == "envwf" || strings.HasPrefix(n, "demo.") {
			t.Errorf("workflow %s listed after its delete", n)
		}
	}
}

// A Mistral delegate fails its action; task-rerun runs it again and the
// delegate completes it, both through PUT to its Mistral-Callback-URL.
func cliDelegateAndRerun(t *testing.T, s *server) {
	del := s.show(t, "execution-create", "demo.delegated", fmt.Sprintf(`{"url": %q}`, s.delegate.URL))["ID"].(string)
	first := s.nextCall(t)
	if !strings.Contains(first, "/v2/action_executions/") {
		t.Fatalf("Mistral-Callback-URL %q is not an action execution URL", first)
	}
	if code := put(t, first, `{"state": "ERROR", "output": "the service is down"}`); code != http.StatusOK {
		t.Fatalf("delegate PUT ERROR: %d", code)
	}
	got := s.waitState(t, del, "ERROR")
	if !strings.Contains(fmt.Sprint(got["State info"]), "the service is down") {
		t.Errorf("state info %v does not carry the delegate's error", got["State info"])
	}
	failed := s.list(t, "task-list", del)[0]["ID"].(string)
	if st := s.show(t, "task-rerun", failed)["State"]; st != "RUNNING" {
		t.Errorf("task-rerun: %v", st)
	}
	second := s.nextCall(t)
	if code := put(t, first, `{"state": "SUCCESS", "output": {"answer": 1}}`); code != http.StatusConflict {
		t.Errorf("PUT to the first attempt's URL after the rerun: %d, want 409", code)
	}
	if code := put(t, second, `{"state": "SUCCESS", "output": {"answer": 42}}`); code != http.StatusOK {
		t.Fatalf("delegate PUT SUCCESS: %d", code)
	}
	s.waitState(t, del, "SUCCESS")
	if out := s.must(t, "execution-get-output", del); !strings.Contains(out, `"answer": 42`) {
		t.Errorf("output after the delegate's result: %s", out)
	}
	if code := put(t, strings.Replace(second, "/action_executions/", "/action_executions/x", 1), `{"state": "SUCCESS"}`); code != http.StatusForbidden {
		t.Errorf("PUT with a forged id: %d, want 403", code)
	}
}

func TestMistralPythonAPI(t *testing.T) {
	s := serve(t)
	s.must(t, "workbook-create", "demo.yaml")
	go func() {
		for range s.calls { // the delegate takes the call; the script completes it
		}
	}()
	cmd := exec.Command(venvBin("python"), filepath.Join(here, "testdata", "api.py"), s.url, s.delegate.URL)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("api.py: %v\n%s\n%s", err, out, stderr)
	}
	var seen struct {
		Workbook    string          `json:"workbook"`
		Workflows   []string        `json:"workflows"`
		HelloState  string          `json:"hello_state"`
		HelloOutput map[string]any  `json:"hello_output"`
		HelloInput  map[string]any  `json:"hello_input"`
		HelloTasks  [][]any         `json:"hello_tasks"`
		RevParams   map[string]any  `json:"rev_params"`
		RevTasks    []string        `json:"rev_tasks"`
		ActionNames []string        `json:"action_names"`
		Delegated   map[string]any  `json:"delegated_output"`
		Missing     json.RawMessage `json:"missing"`
		EnvCreated  map[string]any  `json:"env_created"`
		EnvNames    []string        `json:"env_names"`
		EnvUpdated  map[string]any  `json:"env_updated"`
		EnvOutput   map[string]any  `json:"env_output"`
		EnvGone     json.RawMessage `json:"env_gone"`
		ExecGone    json.RawMessage `json:"execution_gone"`
		Left        []string        `json:"workflows_left"`
	}
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatalf("api.py printed %s: %v", out, err)
	}
	if seen.Workbook != "demo" || len(seen.Workflows) != 3 {
		t.Errorf("workbook %q, workflows %v", seen.Workbook, seen.Workflows)
	}
	if seen.HelloState != "SUCCESS" || seen.HelloOutput["greeting"] != "Hello, Py!" || seen.HelloInput["name"] != "Py" {
		t.Errorf("hello: %s %v %v", seen.HelloState, seen.HelloOutput, seen.HelloInput)
	}
	if len(seen.HelloTasks) != 1 || seen.HelloTasks[0][0] != "greet" {
		t.Errorf("hello tasks: %v", seen.HelloTasks)
	}
	if seen.RevParams["task_name"] != "b" || strings.Join(seen.RevTasks, ",") != "a,b" {
		t.Errorf("reverse: params %v tasks %v", seen.RevParams, seen.RevTasks)
	}
	if strings.Join(seen.ActionNames, ",") != "std.mistral_http" || seen.Delegated["answer"] != float64(7) {
		t.Errorf("delegated: actions %v output %v", seen.ActionNames, seen.Delegated)
	}
	if !strings.Contains(string(seen.Missing), "404") {
		t.Errorf("get of a missing execution: %s", seen.Missing)
	}
	if seen.EnvCreated["greeting"] != "Howdy" || strings.Join(seen.EnvNames, ",") != "py" || seen.EnvUpdated["greeting"] != "Hi" ||
		seen.EnvOutput["greeting"] != "Hi" || !strings.Contains(string(seen.EnvGone), "404") {
		t.Errorf("environments: created %v, listed %v, updated %v, execution output %v, after delete %s",
			seen.EnvCreated, seen.EnvNames, seen.EnvUpdated, seen.EnvOutput, seen.EnvGone)
	}
	if !strings.Contains(string(seen.ExecGone), "404") || len(seen.Left) != 0 {
		t.Errorf("deletes: execution after delete %s, workflows left %v", seen.ExecGone, seen.Left)
	}
}
