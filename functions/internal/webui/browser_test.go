package webui_test

// The browser tests drive Debian's chromium (installed by
// testdata/install-chromium.sh when it is missing) against a real
// `lazyflow serve` (functions/local) on a loopback port, and read the result
// back through the JSON API. With LAZYFLOW_UI_SCREENSHOTS=DIR they save the
// README's screenshots there.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lazyflow/lazyflow/functions/local"
)

const demoWorkflows = `
version: '2.0'
ui_demo:
  description: Prepares, then waits on a delegate action that only a callback (or a cancel) ends.
  tasks:
    prepare:
      action: std.echo output=ready
      on-success: [wait_approval]
    wait_approval:
      action: std.async_noop
      on-success: [ship]
      on-error: [notify, fail]
    ship:
      action: std.noop
    notify:
      action: std.echo output=failed
parent:
  tasks:
    call_hello:
      workflow: hello
      input:
        name: Sub, Workflow
hello:
  input:
    - name: World
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %>!"
      publish:
        greeting: <% task().result %>
      on-success: [count]
    count:
      with-items: c in <% $.greeting.split(",") %>
      action: std.echo output=<% $.c %>
`

const brokenWorkflow = `version: '2.0'
broken:
  tasks:
    first:
      action: std.noop
      on-success: [missing_task]
    second:
      actoin: std.noop
`

// chromiumPath finds chromium, installing Debian's package when absent.
func chromiumPath(t *testing.T) string {
	t.Helper()
	find := func() string {
		for _, c := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(c); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	t.Log("chromium not found; installing Debian's chromium package")
	out, err := exec.Command("testdata/install-chromium.sh").CombinedOutput()
	if p := find(); err == nil && p != "" {
		return p
	}
	t.Fatalf("the browser tests need Chromium and installing it failed (%v):\n%s\ninstall it with `apt-get install -y chromium` (as root) and run again", err, out)
	return ""
}

type server struct {
	base string
}

func startServer(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- local.Serve(ctx, local.Options{Listener: ln, DataDir: t.TempDir(),
			Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
			DrainTimeout: time.Second, ShutdownTimeout: time.Second,
			Ready: func(u string) { ready <- u }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case u := <-ready:
		return &server{base: u}
	case err := <-done:
		t.Fatalf("serve ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start in 30s")
	}
	return nil
}

func (s *server) call(t *testing.T, method, path, ctype, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type execution struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func (s *server) start(t *testing.T, workflow, input string) string {
	t.Helper()
	var e execution
	if code := s.call(t, "POST", "/executions", "application/json", fmt.Sprintf(`{"workflow": %q, "input": %s}`, workflow, input), &e); code != http.StatusCreated {
		t.Fatalf("start %s: HTTP %d", workflow, code)
	}
	return e.ID
}

func (s *server) waitState(t *testing.T, id, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var e execution
		s.call(t, "GET", "/executions/"+id, "", "", &e)
		if e.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, want %s", id, e.State, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// page is one browser tab of a test.
type page struct {
	t   *testing.T
	ctx context.Context
}

func browser(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // the tier runs as root
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &page{t: t, ctx: ctx}
}

// stepTimeout bounds one step, so a page that never gets where a test
// waits fails with its HTML rather than at the test's deadline.
const stepTimeout = 30 * time.Second

// do runs steps, failing the test with the page's HTML when one fails.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		defer cancel()
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#app")))
		p.t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
	}
}

// open loads path and waits for its script to have drawn the page.
func (p *page) open(base, path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(base+path), ready())
}

func ready() chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`#app[data-ready="true"]`))
}

// click sends a click event to what sel finds; an SVG shape has no box
// model for chromedp's mouse click to aim at.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new MouseEvent("click", {bubbles: true})), undefined`, sel))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func get[T any](p *page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// screenshot saves the page when LAZYFLOW_UI_SCREENSHOTS names a directory.
func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("LAZYFLOW_UI_SCREENSHOTS")
	if dir == "" {
		return
	}
	p.do("settle", chromedp.Sleep(300*time.Millisecond))
	png := get(p, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

const taskStates = `Object.fromEntries([...document.querySelectorAll("svg g[data-task]")].map(g => [g.dataset.task, g.querySelector(".lf-state").textContent]))`

func TestBrowserPages(t *testing.T) {
	s := startServer(t)
	if code := s.call(t, "POST", "/workflows", "text/yaml", demoWorkflows, nil); code != http.StatusOK {
		t.Fatalf("register: HTTP %d", code)
	}
	done := s.start(t, "hello", `{"name": "Ada, Grace"}`)
	s.waitState(t, done, "SUCCESS")
	running := s.start(t, "ui_demo", `{}`)
	p := browser(t)

	// The bare address redirects to the list, which shows both workflows and executions.
	p.open(s.base, "/")
	p.do("executions listed", chromedp.WaitVisible(css(`#executions tr[data-id="`+running+`"]`)))
	if url := get(p, "location", chromedp.Location()); !strings.HasSuffix(url, "/ui/") {
		t.Errorf("/ redirected to %s", url)
	}
	wfs := get(p, "workflows", chromedp.Text(css("#workflows")))
	for _, want := range []string{"ui_demo", "hello"} {
		if !strings.Contains(wfs, want) {
			t.Errorf("workflow list lacks %s: %q", want, wfs)
		}
	}
	execs := get(p, "executions", chromedp.Text(css("#executions")))
	if !strings.Contains(execs, done) || !strings.Contains(execs, "SUCCESS") || !strings.Contains(execs, "RUNNING") {
		t.Errorf("execution list lacks the executions: %q", execs)
	}
	p.screenshot("ui-index.png")

	// Filtering by state leaves only the running one.
	p.do("filter", chromedp.SetValue(css("#filter-state"), "RUNNING"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#filter-state").dispatchEvent(new Event("change")), undefined`),
		chromedp.WaitNotPresent(css(`#executions tr[data-id="`+done+`"]`)))
	if filtered := get(p, "filtered", chromedp.Text(css("#executions"))); !strings.Contains(filtered, running) {
		t.Errorf("state filter lost the running execution: %q", filtered)
	}

	// The workflow page draws every task.
	p.open(s.base, "/ui/workflows/ui_demo")
	nodes := get(p, "graph nodes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg g[data-task]")].map(g => g.dataset.task)`))
	if strings.Join(nodes, ",") != "prepare,wait_approval,ship,notify" {
		t.Errorf("graph tasks: %v", nodes)
	}
	p.screenshot("ui-workflow.png")

	// A finished execution: every task that ran shows its state in the SVG.
	p.open(s.base, "/ui/executions/"+done)
	p.do("states drawn", chromedp.WaitVisible(css(`g[data-task="count"][data-state="SUCCESS"]`)))
	states := get(p, "states", chromedp.Evaluate[map[string]string](taskStates))
	if !strings.HasPrefix(states["greet"], "SUCCESS") || !strings.Contains(states["count"], "SUCCESS · 3/3 items") {
		t.Errorf("task states in the SVG: %v", states)
	}
	p.do("task details", click(`g[data-task="greet"] rect`), chromedp.WaitVisible(css(`#task-details dl`)))
	if detail := get(p, "details", chromedp.Text(css("#task-details"))); !strings.Contains(detail, "Hello, Ada, Grace!") {
		t.Errorf("task details lack the result: %q", detail)
	}
	p.screenshot("ui-execution.png")

	// A sub-workflow task links to its workflow, and the sub-execution is listed.
	parent := s.start(t, "parent", `{}`)
	s.waitState(t, parent, "SUCCESS")
	p.open(s.base, "/ui/executions/"+parent)
	p.do("sub-execution listed", chromedp.WaitVisible(css(`g[data-task="call_hello"][data-state="SUCCESS"] a[href="/ui/workflows/hello"]`)),
		chromedp.WaitVisible(css(`#sub-executions a`)))
	sub := get(p, "sub-execution link", chromedp.Text(css("#sub-executions a")))
	p.open(s.base, "/ui/executions/"+sub)
	if head := get(p, "sub-execution head", chromedp.Text(css("#exec-head"))); !strings.Contains(head, parent) {
		t.Errorf("the sub-execution does not name its parent: %q", head)
	}

	// A running execution: its states, then the buttons pause, resume and cancel it.
	p.open(s.base, "/ui/executions/"+running)
	p.do("running drawn", chromedp.WaitVisible(css(`g[data-task="wait_approval"][data-state="RUNNING"]`)))
	states = get(p, "states", chromedp.Evaluate[map[string]string](taskStates))
	want := map[string]string{"prepare": "SUCCESS", "wait_approval": "RUNNING", "ship": "not run", "notify": "not run"}
	for task, st := range want {
		if states[task] != st {
			t.Errorf("task %s shows %q in the SVG, want %q (all: %v)", task, states[task], st, states)
		}
	}
	p.screenshot("ui-execution-running.png")
	p.do("pause", chromedp.Click(css("#pause")), chromedp.WaitVisible(css(`#exec-state [data-state="PAUSED"]`)))
	s.waitState(t, running, "PAUSED")
	p.do("resume", chromedp.Click(css("#resume")), chromedp.WaitVisible(css(`#exec-state [data-state="RUNNING"]`)))
	s.waitState(t, running, "RUNNING")
	p.do("cancel", chromedp.Click(css("#cancel")), chromedp.WaitVisible(css(`#exec-state [data-state="CANCELLED"]`)))
	s.waitState(t, running, "CANCELLED")
}

func TestBrowserStartAndRegister(t *testing.T) {
	s := startServer(t)
	p := browser(t)

	// Registering from the page: a broken definition lists its problems at line:column.
	p.open(s.base, "/ui/")
	p.do("register broken", chromedp.SetValue(css("#definition"), brokenWorkflow), chromedp.Click(css("#register")),
		chromedp.WaitVisible(css("#register-result .problems li")))
	problems := get(p, "problems", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#register-result .problems li")].map(li => li.textContent)`))
	at := regexp.MustCompile(`^\d+:\d+ `)
	if len(problems) < 2 {
		t.Fatalf("problems shown: %q", problems)
	}
	for _, pr := range problems {
		if !at.MatchString(pr) {
			t.Errorf("problem %q does not start with line:column", pr)
		}
	}
	if !strings.Contains(strings.Join(problems, "\n"), "6:") {
		t.Errorf("the unknown task on line 6 is not reported there: %q", problems)
	}
	p.screenshot("ui-register-errors.png")

	// A valid one registers, and its page starts an execution that runs to SUCCESS.
	good := strings.Replace(demoWorkflows, "\nui_demo:", "\nunused_demo:", 1)
	p.do("register good", chromedp.SetValue(css("#definition"), good), chromedp.Click(css("#register")),
		chromedp.WaitVisible(css(`#register-result a[href="/ui/workflows/hello"]`)),
		chromedp.Click(css(`#register-result a[href="/ui/workflows/hello"]`)))
	p.do("start", chromedp.WaitVisible(css(`#app[data-page="workflow"][data-ready="true"]`)),
		chromedp.SetValue(css("#input"), `{"name": "Lin"}`), chromedp.Click(css("#start")),
		chromedp.WaitVisible(css(`#app[data-page="execution"] g[data-task="count"][data-state="SUCCESS"]`)))
	url := get(p, "location", chromedp.Location())
	id := url[strings.LastIndex(url, "/")+1:]
	var e execution
	s.call(t, "GET", "/executions/"+id, "", "", &e)
	if e.State != "SUCCESS" {
		t.Errorf("the execution started from the page is %s", e.State)
	}
}
