package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/functions/local"
)

// server is one run of Serve on a random port.
type server struct {
	t      *testing.T
	url    string
	cancel context.CancelFunc
	done   chan error
}

// start runs Serve over dir. reg may hold test actions; the delegate
// action below is how a test learns a callback URL, the way a real third
// party would: the runner hands it to the action, never to API readers.
func start(t *testing.T, dir string, reg *actions.Registry, tweak ...func(*local.Options)) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &server{t: t, cancel: cancel, done: make(chan error, 1)}
	opt := local.Options{Addr: "127.0.0.1:0", DataDir: dir, Actions: reg,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Visibility: 500 * time.Millisecond,
		Ready: func(u string) { ready <- u }}
	for _, f := range tweak {
		f(&opt)
	}
	go func() { s.done <- local.Serve(ctx, opt) }()
	select {
	case s.url = <-ready:
	case err := <-s.done:
		t.Fatalf("Serve ended before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("Serve did not start")
	}
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("Serve: %v", err)
		}
		s.done <- nil // a second stop returns at once
	case <-time.After(60 * time.Second):
		s.t.Fatal("Serve did not stop")
	}
}

func (s *server) call(method, path, ctype, body string) (int, map[string]any) {
	s.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = s.url + path
	}
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, out
}

func (s *server) register(src string) {
	s.t.Helper()
	if code, out := s.call("POST", "/workflows", "text/yaml", src); code != 200 {
		s.t.Fatalf("register: %d %v", code, out)
	}
}

func (s *server) run(wf, input string) string {
	s.t.Helper()
	code, out := s.call("POST", "/executions", "application/json", fmt.Sprintf(`{"workflow": %q, "input": %s}`, wf, input))
	if code != 201 {
		s.t.Fatalf("start: %d %v", code, out)
	}
	return out["id"].(string)
}

func (s *server) wait(id, state string, within time.Duration) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, out := s.call("GET", "/executions/"+id, "", "")
		if out["state"] == state {
			return out
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(out)
			s.t.Fatalf("execution %s: want %s, have %s", id, state, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// napRegistry adds test.nap, std.sleep that first reports when it began:
// a test stops the server mid-action on that event, where a guessed pause
// could end on a loaded machine before the runner has claimed the action.
func napRegistry() (*actions.Registry, chan time.Time) {
	reg := actions.New()
	began := make(chan time.Time, 8)
	reg.Register("test.nap", func(ctx context.Context, in map[string]any) (any, error) {
		select {
		case began <- time.Now():
		default:
		}
		out, _, err := reg.Run(ctx, "std.sleep", in, nil)
		return out, err
	})
	return reg, began
}

// napBegan waits for test.nap to begin; it will, so the wait is generous.
func napBegan(t *testing.T, began chan time.Time) time.Time {
	t.Helper()
	select {
	case at := <-began:
		return at
	case <-time.After(60 * time.Second):
		t.Fatal("the nap action never began")
		return time.Time{}
	}
}

func delegateRegistry() (*actions.Registry, chan actions.Callback) {
	reg := actions.New()
	ch := make(chan actions.Callback, 8)
	reg.RegisterAsync("test.delegate", func(ctx context.Context, in map[string]any, cb actions.Callback) error {
		ch <- cb
		return nil
	})
	return reg, ch
}

const workflows = `
version: '2.0'
hello:
  input:
    - name
  tasks:
    greet:
      action: std.echo output=<% 'Hello, ' + $.name %>
      publish:
        greeting: <% task().result %>
  output:
    greeting: <% $.greeting %>
delegated:
  tasks:
    ask:
      action: test.delegate
      publish:
        answer: <% task().result %>
  output:
    answer: <% $.answer %>
`

func TestServeRunsWorkflowsAndCallbacks(t *testing.T) {
	dir := t.TempDir()
	reg, cbs := delegateRegistry()
	s := start(t, dir, reg)
	s.register(workflows)

	id := s.run("hello", `{"name": "Ada"}`)
	out := s.wait(id, "SUCCESS", 60*time.Second)
	if out["output"].(map[string]any)["greeting"] != "Hello, Ada" {
		t.Fatalf("output %v", out["output"])
	}

	id = s.run("delegated", `{}`)
	cb := <-cbs
	if !strings.HasPrefix(cb.URL, s.url+"/callbacks/") {
		t.Fatalf("callback URL %q is not on this server (%s)", cb.URL, s.url)
	}
	// A forged token is refused and changes nothing.
	forged := cb.URL[:len(cb.URL)-4] + "AAAA"
	if code, _ := s.call("POST", forged, "application/json", `{"state": "SUCCESS", "output": "forged"}`); code != 403 {
		t.Fatalf("forged callback: %d", code)
	}
	if _, out := s.call("GET", "/executions/"+id, "", ""); out["state"] != "RUNNING" {
		t.Fatalf("forged callback changed the execution: %v", out)
	}
	if code, out := s.call("POST", cb.URL, "application/json", `{"state": "SUCCESS", "output": 42}`); code != 202 {
		t.Fatalf("callback: %d %v", code, out)
	}
	out = s.wait(id, "SUCCESS", 60*time.Second)
	if out["output"].(map[string]any)["answer"] != float64(42) {
		t.Fatalf("output %v", out["output"])
	}

	fi, err := os.Stat(filepath.Join(dir, "callback.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("callback key file: %v %v", fi, err)
	}
}

const sleepy = `
version: '2.0'
sleepy:
  tasks:
    nap:
      action: test.nap seconds=2
      retry:
        count: 1
        delay: 0
      on-success: after
    after:
      action: std.echo output="done"
      publish:
        said: <% task().result %>
  output:
    said: <% $.said %>
`

// TestKillAndRestart stops the server while an action runs and starts it
// again on the same data directory: the execution still finishes. The
// interrupted attempt gets an error result, so its retry policy runs the
// action again — a second attempt, never the same attempt twice.
func TestKillAndRestart(t *testing.T) {
	dir := t.TempDir()
	reg, began := napRegistry()
	// No time to drain: the sleep is cut short, as by a kill.
	s := start(t, dir, reg, func(o *local.Options) { o.DrainTimeout = time.Millisecond })
	s.register(sleepy)
	id := s.run("sleepy", `{}`)
	// Once the runner has begun the sleep, stop mid-action.
	napBegan(t, began)
	if _, out := s.call("GET", "/executions/"+id, "", ""); out["state"] != "RUNNING" {
		t.Fatalf("before stop: %v", out)
	}
	s.stop()

	s2 := start(t, dir, reg)
	out := s2.wait(id, "SUCCESS", 60*time.Second)
	if out["output"].(map[string]any)["said"] != "done" {
		t.Fatalf("output %v", out["output"])
	}
	nap := out["tasks"].([]any)[0].(map[string]any)
	if nap["name"] != "nap" || nap["attempt"] != float64(2) {
		t.Fatalf("nap should have needed a second attempt: %v", nap)
	}
	// The workflow registered before the restart is still there.
	if code, _ := s2.call("GET", "/workflows/sleepy", "", ""); code != 200 {
		t.Fatalf("workflow lost across restart: %d", code)
	}
}

// TestSafeRerunAfterKill: an action cut short by a kill runs again after
// the restart when its task has safe-rerun (Mistral's policy for a lost
// executor), with no retry policy; without it, the task fails.
func TestSafeRerunAfterKill(t *testing.T) {
	const src = `
version: '2.0'
safe:
  tasks:
    nap:
      action: test.nap seconds=2
      safe-rerun: true
unsafe:
  tasks:
    nap:
      action: test.nap seconds=2
`
	dir := t.TempDir()
	reg, began := napRegistry()
	kill := func(o *local.Options) { o.DrainTimeout = time.Millisecond }
	s := start(t, dir, reg, kill)
	s.register(src)
	safe, unsafe := s.run("safe", `{}`), s.run("unsafe", `{}`)
	napBegan(t, began)
	napBegan(t, began)
	s.stop()
	s2 := start(t, dir, reg)
	out := s2.wait(safe, "SUCCESS", 60*time.Second)
	if nap := out["tasks"].([]any)[0].(map[string]any); nap["attempt"] != float64(2) || nap["state"] != "SUCCESS" {
		t.Fatalf("safe-rerun nap: %v", nap)
	}
	out = s2.wait(unsafe, "ERROR", 60*time.Second)
	if nap := out["tasks"].([]any)[0].(map[string]any); !strings.Contains(fmt.Sprint(nap["state_info"]), "interrupted") {
		t.Fatalf("nap without safe-rerun: %v", nap)
	}
}

// TestGracefulStopLetsActionsFinish: a stop (SIGTERM) takes no new work but
// lets the action in flight finish and report within the drain timeout, so
// a restart continues without an interrupted attempt.
func TestGracefulStopLetsActionsFinish(t *testing.T) {
	dir := t.TempDir()
	reg, began := napRegistry()
	s := start(t, dir, reg)
	s.register(sleepy)
	id := s.run("sleepy", `{}`)
	napAt := napBegan(t, began)
	if _, out := s.call("GET", "/executions/"+id, "", ""); out["state"] != "RUNNING" {
		t.Fatalf("before stop: %v", out)
	}
	s.stop()
	// Measured from the nap's own start, not the stop's: however late the
	// stop came, it can only have returned this soon by not waiting.
	if d := time.Since(napAt); d < 2*time.Second {
		t.Fatalf("stop returned %v after the 2 s sleep began: it did not wait for it", d)
	}
	s2 := start(t, dir, reg)
	out := s2.wait(id, "SUCCESS", 60*time.Second)
	nap := out["tasks"].([]any)[0].(map[string]any)
	if nap["name"] != "nap" || nap["attempt"] != float64(1) || nap["state"] != "SUCCESS" {
		t.Fatalf("nap should have finished in its first attempt: %v", nap)
	}
}

// TestCallbackURLSurvivesRestart: a third party holding a callback URL from
// before a restart can still complete its action after it.
func TestCallbackURLSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	reg, cbs := delegateRegistry()
	s := start(t, dir, reg)
	s.register(workflows)
	id := s.run("delegated", `{}`)
	cb := <-cbs
	s.stop()

	s2 := start(t, dir, reg)
	// The port changed, so post to the new server with the old token.
	path := cb.URL[strings.Index(cb.URL, "/callbacks/"):]
	if code, out := s2.call("POST", path, "application/json", `{"state": "SUCCESS", "output": "late"}`); code != 202 {
		t.Fatalf("callback after restart: %d %v", code, out)
	}
	out := s2.wait(id, "SUCCESS", 60*time.Second)
	if out["output"].(map[string]any)["answer"] != "late" {
		t.Fatalf("output %v", out["output"])
	}
}

// sweeps records the executions count of each "sweep done" log record.
type sweeps struct {
	mu     sync.Mutex
	counts []int64
}

func (h *sweeps) Enabled(context.Context, slog.Level) bool { return true }
func (h *sweeps) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *sweeps) WithGroup(string) slog.Handler            { return h }
func (h *sweeps) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "sweep done" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "executions" {
			h.mu.Lock()
			h.counts = append(h.counts, a.Value.Int64())
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h *sweeps) seen() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64(nil), h.counts...)
}

// TestPeriodicSweep: while Serve runs, service.Sweep runs on its interval
// and looks at the running executions (here one waiting on a delegate
// callback, which it must leave alone); it stops with Serve.
func TestPeriodicSweep(t *testing.T) {
	reg, cbs := delegateRegistry()
	rec := &sweeps{}
	s := start(t, t.TempDir(), reg, func(o *local.Options) {
		o.Log = slog.New(rec)
		o.SweepInterval, o.SweepMinAge = 50*time.Millisecond, time.Millisecond
	})
	s.register(workflows)
	id := s.run("delegated", `{}`)
	cb := <-cbs
	deadline := time.Now().Add(60 * time.Second)
	for !slices.Contains(rec.seen(), 1) {
		if time.Now().After(deadline) {
			t.Fatalf("no sweep looked at the running execution; sweeps seen: %v", rec.seen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The delegate's claimed attempt was not sent again: still one callback,
	// still RUNNING. Something that must not happen: a window of a few more
	// sweeps (50 ms apart) is the chance it gets.
	select {
	case extra := <-cbs:
		t.Fatalf("the sweep re-sent a claimed action (callback %s)", extra.URL)
	case <-time.After(200 * time.Millisecond):
	}
	if code, _ := s.call("POST", cb.URL, "application/json", `{"state": "SUCCESS", "output": 1}`); code != 202 {
		t.Fatalf("callback: %d", code)
	}
	s.wait(id, "SUCCESS", 60*time.Second)
	s.stop()
	n := len(rec.seen())
	// Must not happen: a window of four sweep intervals.
	time.Sleep(200 * time.Millisecond)
	if after := len(rec.seen()); after != n {
		t.Fatalf("sweeps went on after Serve returned: %d then %d", n, after)
	}
}

// TestRetentionPurges: with a retention set, the periodic sweep deletes
// finished executions older than it, and leaves a running one alone.
func TestRetentionPurges(t *testing.T) {
	reg, cbs := delegateRegistry()
	s := start(t, t.TempDir(), reg, func(o *local.Options) {
		o.SweepInterval, o.Retention = 50*time.Millisecond, time.Nanosecond
	})
	s.register(workflows)
	running := s.run("delegated", `{}`)
	<-cbs // its action is out, waiting for the callback
	done := s.run("delegated", `{}`)
	cb := <-cbs
	if code, out := s.call("POST", cb.URL, "application/json", `{"state": "SUCCESS", "output": 1}`); code != 202 {
		t.Fatalf("callback for %s: %d %v", done, code, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := s.call("GET", "/executions/"+done, "", "")
		if code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("finished execution %s still there (HTTP %d) after 60 s with a 1 ns retention", done, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := s.call("GET", "/executions/"+running, "", ""); code != 200 || body["state"] != "RUNNING" {
		t.Fatalf("the running execution was touched: HTTP %d %v", code, body)
	}
}
