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
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("n%d", i%3)
				code, out, err := s.post("/executions", fmt.Sprintf(`{"workflow": "hello", "input": {"name": %q}}`, name),
					map[string]string{"Idempotency-Key": key})
				if err != nil {
					t.Errorf("start: %v", err)
					return
				}
				id, _ := out["id"].(string)
				answers <- answer{name, code, id}
			}()
		}
		wg.Wait()
		close(answers)
		for a := range answers {
			switch a.code {
			case 409:
			case 200, 201:
				_, ex := s.call("GET", "/executions/"+a.id, "", "")
				in, _ := ex["input"].(map[string]any)
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
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, err := s.post(strings.TrimPrefix(cb.URL, s.url), fmt.Sprintf(`{"state": "SUCCESS", "output": %d}`, i), nil)
			if err != nil {
				t.Errorf("callback: %v", err)
			}
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[202] != 1 || count[409] != 19 {
		t.Fatalf("answers %v; want one 202 and 19 409", count)
	}
	s.wait(id, "SUCCESS", 10*time.Second)
}
