package chaos_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/value"
)

// TestChaosServeKill9 runs generated workflows on a real `lazyflow serve`
// process, kills it with SIGKILL at random moments and restarts it on the
// same data directory. Every execution must end as it does in a fault-free
// in-process run, and none may stay running.
func TestChaosServeKill9(t *testing.T) {
	cases, kills := 6, 5
	if n := envInt(t, "CHAOS_SERVE_CASES"); n > 0 {
		cases, kills = n, n
	}
	c := serveKill9(t, buildLazyflow(t), 0, cases, kills)
	t.Logf("executions=%d kills=%d lost=0 stuck=0", c.Executions, c.Kills)
}

// buildLazyflow builds the lazyflow command into a temporary directory.
func buildLazyflow(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "lazyflow")
	build := exec.Command("go", "build", "-o", bin, "github.com/lazyflow/lazyflow/cmd/lazyflow")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build lazyflow: %v\n%s", err, out)
	}
	return bin
}

// serveKill9 runs cases generated workflows (from the first-th on) on one
// `lazyflow serve` process over a fresh data directory, kills it kills
// times and restarts it, and fails t unless every execution ends as in a
// fault-free run. It returns what it did.
func serveKill9(t *testing.T, bin string, first, cases, kills int) chaos.Kill9Counts {
	srv := &server{t: t, bin: bin, data: t.TempDir()}
	srv.start()
	defer srv.kill()

	gen := rapid.Custom(chaos.DrawStdCase)
	type started struct {
		id, prefix string
		racing     bool
		want       []string
	}
	var all []started
	for i := first; i < first+cases; i++ {
		c := gen.Example(i)
		prefix := fmt.Sprintf("c%d_", i)
		src := rename(c.Source, prefix)
		want := chaos.Run(t, c, memory(), chaos.Quiet())
		srv.post("/workflows", "text/yaml", []byte(src))
		for _, wf := range []string{"wf", "rev"} {
			body := map[string]any{"workflow": prefix + wf, "input": map[string]any{"flag": true}}
			if wf == "rev" {
				if c.Target == "" {
					continue
				}
				body = map[string]any{"workflow": prefix + wf, "target": c.Target}
			}
			b, _ := json.Marshal(body)
			var e struct{ ID string }
			mustJSON(t, srv.post("/executions", "application/json", b), &e)
			all = append(all, started{id: e.ID, prefix: prefix, racing: c.RacingJoin && wf == "wf", want: roots(want.Executions, wf)})
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		srv.kill()
		srv.start()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, s := range all {
		for {
			got, terminal := srv.execution(s.id, s.prefix, s.racing)
			if terminal {
				if w := strings.Join(s.want, "\n"); got != w {
					t.Fatalf("lost: execution %s ended differently after %d kills\nwithout faults:\n%s\nserved:\n%s", s.id, kills, w, got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stuck: execution %s still not finished after %d kills:\n%s", s.id, kills, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return chaos.Kill9Counts{Kills: kills, Restarts: kills, Executions: len(all)}
}

// rename gives a case's workflows names of their own, so cases share one server.
func rename(src, prefix string) string {
	for _, wf := range []string{"wf", "sub", "rev"} {
		src = strings.ReplaceAll(src, "\n"+wf+":\n", "\n"+prefix+wf+":\n")
	}
	return strings.ReplaceAll(src, "workflow: sub ", "workflow: "+prefix+"sub ")
}

// roots keeps the lines of the executions of workflow wf (not its children).
func roots(lines []string, wf string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, wf+"/ ") {
			out = append(out, l)
		}
	}
	return out
}

type server struct {
	t    *testing.T
	bin  string
	data string
	url  string
	cmd  *exec.Cmd
}

func (s *server) start() {
	s.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s.cmd = exec.Command(s.bin, "serve", "--addr", addr, "--data", s.data)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start lazyflow serve: %v", err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && strings.Contains(sc.Text(), "serving on")
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			s.cmd.Process.Kill()
			s.cmd.Wait()
			s.t.Fatalf("lazyflow serve did not start:\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Fatalf("lazyflow serve not ready after 30s:\n%s", stderr.String())
	}
	s.url = "http://" + addr
}

func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *server) post(path, ctype string, body []byte) []byte {
	s.t.Helper()
	resp, err := http.Post(s.url+path, ctype, bytes.NewReader(body))
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		s.t.Fatalf("POST %s: %s\n%s", path, resp.Status, b.String())
	}
	return b.Bytes()
}

// execution returns an execution as the harness's canonical lines, and
// whether it has ended.
func (s *server) execution(id, prefix string, racing bool) (string, bool) {
	resp, err := http.Get(s.url + "/executions/" + id)
	if err != nil {
		return err.Error(), false
	}
	defer resp.Body.Close()
	var e struct {
		Workflow string
		State    string
		Output   json.RawMessage // read in order: the harness's side keeps it
		Tasks    []struct {
			Key       string
			State     string
			Published json.RawMessage
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return err.Error(), false
	}
	var ts []string
	for _, t := range e.Tasks {
		ts = append(ts, fmt.Sprintf("%s=%s %s", t.Key, t.State, js(ordered(t.Published))))
	}
	sort.Strings(ts)
	wf := strings.TrimPrefix(e.Workflow, prefix)
	output := js(ordered(e.Output))
	if racing {
		output = chaos.RacingOutput
	}
	if strings.HasPrefix(e.State, "RUNNING") || e.State == "PAUSED" || e.State == "IDLE" {
		return fmt.Sprintf("%s/ %s %s\n  %s", wf, e.State, output, strings.Join(ts, "\n  ")), false
	}
	return fmt.Sprintf("%s/ %s %s\n  %s", wf, e.State, output, strings.Join(ts, "\n  ")), true
}

// ordered reads a JSON value keeping its dicts' order; absent is null.
func ordered(raw json.RawMessage) any {
	v, _ := value.FromJSON(raw)
	return v
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func envInt(t *testing.T, name string) int {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil {
		t.Fatalf("%s=%q: not a number", name, v)
	}
	return n
}
