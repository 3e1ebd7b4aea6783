package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUIUsageErrors(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"ui", "needs --api"},
		{"ui --api abc123.execute-api.eu-west-1.amazonaws.com", "--api"},
		{"ui --api https://x.example/?a=1", "--api"},
		{"ui --api https://abc.execute-api.eu-west-1.amazonaws.com extra", "no arguments"},
	} {
		code, _, errs := runCLI(strings.Fields(c.args)...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
}

// syncBuffer is written by the command's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestUIForwardsWithTheDefaultCredentials runs `lazyflow ui` against a local
// stand-in for the API: the page's call arrives signed with the credentials
// of the environment, for the region given.
func TestUIForwardsWithTheDefaultCredentials(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "none")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDCLITEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	auth := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"workflows":[]}`)
	}))
	defer api.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ui", "--api", api.URL, "--region", "us-west-2", "--addr", "127.0.0.1:0"}, &out, &errs)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`is at (http://127\.0\.0\.1:\d+)/ui/`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no address printed: %q %q", out.String(), errs.String())
	}
	resp, err := http.Get(base + "/workflows")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"workflows":[]}` {
		t.Fatalf("GET /workflows through the UI: %d %s", resp.StatusCode, body)
	}
	if got := <-auth; !regexp.MustCompile(`^GET /workflows AWS4-HMAC-SHA256 Credential=AKIDCLITEST/\d{8}/us-west-2/execute-api/aws4_request, `).MatchString(got) {
		t.Fatalf("the API received %q", got)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}
