package local_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

// post sends a JSON body with extra headers and returns status and body.
func (s *server) post(path, body string, hdr map[string]string) (int, map[string]any, error) {
	req, _ := http.NewRequest("POST", s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%w: %s", err, raw)
	}
	return resp.StatusCode, out, nil
}

// race runs f(0) ... f(n-1) at once and waits for them.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// Starts racing on one Idempotency-Key with different bodies each get the
// execution their own body created, or 409: never another request's.
func TestIdempotencyKeyRaceOverHTTP(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	s.register(workflows)
	for round := range 5 {
		key := fmt.Sprintf("race-%d", round)
		type answer struct {
			name string
			code int
			id   string
		}
		answers := make(chan answer, 30)
		race(30, func(i int) {
			name := fmt.Sprintf("n%d", i%3)
			code, out, err := s.post("/executions", fmt.Sprintf(`{"workflow": "hello", "input": {"name": %q}}`, name),
				map[string]string{"Idempotency-Key": key})
			if err != nil {
				t.Errorf("start: %v", err)
				return
			}
			id, _ := out["id"].(string)
			answers <- answer{name, code, id}
		})
		close(answers)
		for a := range answers {
			switch a.code {
			case 409:
			case 200, 201:
				_, ex := s.call("GET", "/executions/"+a.id, "", "")
				in, _ := value.AsGoMap(ex["input"])
				if in["name"] != a.name {
					t.Fatalf("a start with name %s got execution %s with input %v", a.name, a.id, ex["input"])
				}
			default:
				t.Fatalf("start: %d", a.code)
			}
		}
	}
}

// Twenty callbacks for one delegate at once: exactly one accepted (202),
// the others 409.
func TestConcurrentCallbacksOverHTTP(t *testing.T) {
	reg, cbs := delegateRegistry()
	s := start(t, t.TempDir(), reg)
	s.register(workflows)
	id := s.run("delegated", `{}`)
	cb := <-cbs
	codes := make(chan int, 20)
	race(20, func(i int) {
		code, _, err := s.post(strings.TrimPrefix(cb.URL, s.url), fmt.Sprintf(`{"state": "SUCCESS", "output": %d}`, i), nil)
		if err != nil {
			t.Errorf("callback: %v", err)
		}
		codes <- code
	})
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[202] != 1 || count[409] != 19 {
		t.Fatalf("answers %v; want one 202 and 19 409", count)
	}
	s.wait(id, "SUCCESS", 60*time.Second)
}

const overflows = `
version: '2.0'
power:
  tasks:
    t:
      action: std.echo
      input:
        output: "{{ 10 ** 1000000000 }}"
yaqlpower:
  tasks:
    t:
      action: std.echo
      input:
        output: <% float('1e308') * 10 %>
powervars:
  vars:
    big: "{{ 10 ** 1000000000 }}"
  tasks:
    t:
      action: std.noop
longsleep:
  tasks:
    t:
      action: std.sleep seconds=1e300
longwait:
  input:
    - s
  tasks:
    t:
      action: std.noop
      wait-before: <% $.s %>
longretry:
  input:
    - s
  tasks:
    t:
      action: std.fail
      retry:
        count: 1
        delay: <% $.s %>
longtimeout:
  input:
    - s
  tasks:
    t:
      action: std.noop
      timeout: <% $.s %>
`

// An expression whose number overflows fails its task with a message
// naming the expression; a start never answers 500 for it.
func TestOverflowingExpressionIsAClearError(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	s.register(overflows)
	for wf, c := range map[string]struct{ expr, problem string }{
		"power":     {"10 ** 1000000000", "more than 4300 digits"},
		"yaqlpower": {"float('1e308') * 10", "out of range"},
	} {
		code, out := s.call("POST", "/executions", "application/json", fmt.Sprintf(`{"workflow": %q}`, wf))
		if code != 201 {
			t.Fatalf("start %s: %d %v", wf, code, out)
		}
		ex := s.wait(out["id"].(string), "ERROR", 60*time.Second)
		if info, _ := ex["state_info"].(string); !strings.Contains(info, c.expr) || !strings.Contains(info, c.problem) {
			t.Fatalf("%s: state_info %q; want it to name %q and %q", wf, info, c.expr, c.problem)
		}
	}
	code, out := s.call("POST", "/executions", "application/json", `{"workflow": "powervars"}`)
	if code != 400 || !strings.Contains(fmt.Sprint(out), "10 ** 1000000000") {
		t.Fatalf("start with overflowing vars: %d %v; want 400 naming the expression", code, out)
	}
}

// Durations out of range (std.sleep seconds, wait-before, retry delay,
// timeout given by expressions) fail the task with a clear error instead
// of overflowing.
func TestOutOfRangeDurationsAreAnError(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	s.register(overflows)
	for _, wf := range []string{"longsleep", "longwait", "longretry", "longtimeout"} {
		in := `{"s": 1e300}`
		if wf == "longsleep" {
			in = `{}`
		}
		id := s.run(wf, in)
		ex := s.wait(id, "ERROR", 60*time.Second)
		if info, _ := ex["state_info"].(string); !strings.Contains(info, "out of range") {
			t.Fatalf("%s: state_info %q; want an out-of-range duration error", wf, info)
		}
	}
}

// listAll returns every execution the server lists.
func (s *server) listAll() []map[string]any {
	s.t.Helper()
	var all []map[string]any
	cursor := ""
	for {
		_, out := s.call("GET", "/executions?limit=100&cursor="+cursor, "", "")
		for _, e := range out["executions"].([]any) {
			all = append(all, e.(map[string]any))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// A workflow that calls itself stops at the sub-workflow depth limit with
// an error naming it, ids keep their length, and a restart in the middle
// does not resume it past the limit.
func TestUnboundedRecursionStops(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, nil)
	s.register("version: '2.0'\nrecur:\n  tasks:\n    t:\n      workflow: recur\n")
	id := s.run("recur", `{}`)
	time.Sleep(200 * time.Millisecond)
	s.stop()
	s = start(t, dir, nil)
	ex := s.wait(id, "ERROR", 60*time.Second)
	if info, _ := ex["state_info"].(string); !strings.Contains(info, "over the limit of 32 nested sub-workflows") {
		t.Fatalf("state_info %q; want the depth limit named", info)
	}
	all := s.listAll()
	if len(all) != 33 {
		t.Fatalf("%d executions; want the root and 32 levels of sub-workflows", len(all))
	}
	for _, e := range all {
		if e["state"] != "ERROR" || len(e["id"].(string)) != len(id) {
			t.Fatalf("execution %v: want ERROR with an id as long as %s", e, id)
		}
	}
}

// A workflow with 10,000 parallel tasks starts at once (its first tasks
// are started a page at a time), and cancelling it while its tasks
// complete wins at once: nothing starts after the cancel.
func TestWideFanOutStartsAndCancels(t *testing.T) {
	s := start(t, t.TempDir(), nil)
	var src strings.Builder
	src.WriteString("version: '2.0'\nwide:\n  tasks:\n")
	for i := range 10000 {
		fmt.Fprintf(&src, "    t%d:\n      action: std.sleep seconds=0.01\n", i)
	}
	s.register(src.String())
	began := time.Now()
	id := s.run("wide", `{}`)
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("the start answered after %s; want a few seconds at most", d)
	}
	// A moment for the first tasks to complete, far less than starting all
	// 10,000 takes: the cancel must land while pages are still starting.
	time.Sleep(50 * time.Millisecond)
	began = time.Now()
	code, out := s.call("POST", "/executions/"+id+"/cancel", "application/json", "")
	if code != 200 || out["state"] != "CANCELLED" {
		t.Fatalf("cancel: %d %v", code, out)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("the cancel answered after %s", d)
	}
	_, ex := s.call("GET", "/executions/"+id, "", "")
	started := len(ex["tasks"].([]any))
	if started >= 10000 {
		t.Fatalf("all %d tasks had started before the cancel; the test proves nothing", started)
	}
	time.Sleep(time.Second)
	_, ex = s.call("GET", "/executions/"+id, "", "")
	if ex["state"] != "CANCELLED" || len(ex["tasks"].([]any)) != started {
		t.Fatalf("after the cancel: %v with %d tasks (had %d)", ex["state"], len(ex["tasks"].([]any)), started)
	}
}
