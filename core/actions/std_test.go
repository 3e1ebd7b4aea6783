package actions

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

func TestStdHTTP(t *testing.T) {
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"got": body["x"], "q": r.URL.Query().Get("p"), "h": r.Header.Get("X-T")})
		case "/slow":
			time.Sleep(2 * time.Second)
		case "/fail":
			http.Error(w, "nope", http.StatusTeapot)
		case "/delegate":
			seen <- r.Header.Get("Mistral-Callback-URL")
		}
	}))
	defer srv.Close()
	r := New()
	out, _, err := r.Run(context.Background(), "std.http", map[string]any{"url": srv.URL + "/json", "method": "POST",
		"json": map[string]any{"x": int64(3)}, "params": map[string]any{"p": "v"}, "headers": map[string]any{"X-T": "h1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	content, _ := value.AsGoMap(m["content"])
	if m["status"] != int64(200) || content["got"] != int64(3) || content["q"] != "v" || content["h"] != "h1" {
		t.Fatalf("result %v", m)
	}
	if _, _, err := r.Run(context.Background(), "std.http", map[string]any{"url": srv.URL + "/slow", "timeout": 0.2}, nil); err == nil ||
		!strings.Contains(err.Error(), "deadline") {
		t.Fatalf("timeout not honoured: %v", err)
	}
	if _, _, err := r.Run(context.Background(), "std.http", map[string]any{"url": srv.URL + "/fail"}, nil); err == nil || !strings.Contains(err.Error(), "418") {
		t.Fatalf("error status: %v", err)
	}
	if _, _, err := r.Run(context.Background(), "std.http", map[string]any{"url": "file:///etc/passwd"}, nil); err == nil {
		t.Fatal("non-http URL accepted")
	}
	// The delegate variant hands the callback URL over and returns no result.
	out, async, err := r.Run(context.Background(), "std.mistral_http", map[string]any{"url": srv.URL + "/delegate"},
		func() (Callback, error) { return Callback{URL: "http://cb/tok"}, nil })
	if err != nil || !async || out != nil {
		t.Fatalf("mistral_http: out %v async %v err %v", out, async, err)
	}
	if h := <-seen; h != "http://cb/tok" {
		t.Fatalf("Mistral-Callback-URL header %q", h)
	}
	// A host serving Mistral's API v2 hands over its action execution URL,
	// where a delegate written for Mistral PUTs the result.
	if _, _, err := r.Run(context.Background(), "std.mistral_http", map[string]any{"url": srv.URL + "/delegate"},
		func() (Callback, error) {
			return Callback{URL: "http://h/callbacks/tok", Token: "tok", MistralURL: "http://h/v2/action_executions/tok"}, nil
		}); err != nil {
		t.Fatal(err)
	}
	if h := <-seen; h != "http://h/v2/action_executions/tok" {
		t.Fatalf("Mistral-Callback-URL header %q, want the /v2 action execution URL", h)
	}
}

func TestPanicBecomesError(t *testing.T) {
	r := New()
	r.Register("test.panic", func(ctx context.Context, in map[string]any) (any, error) { panic("kaboom") })
	_, _, err := r.Run(context.Background(), "test.panic", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("panic not turned into an error: %v", err)
	}
	if _, _, err := r.Run(context.Background(), "no.such", nil, nil); err == nil {
		t.Fatal("unknown action ran")
	}
}

// The std actions check their input names as Mistral's do: an unknown name
// or a missing required one fails the call with "Invalid input", before the
// action runs; an action registered without declared names takes anything.
func TestStdInputNames(t *testing.T) {
	r := New()
	ctx := context.Background()
	for _, tc := range []struct {
		action string
		input  map[string]any
		want   string // "" for success
	}{
		{"std.echo", map[string]any{"output": "x"}, ""},
		{"std.echo", map[string]any{"wrong_input": "x"}, "Invalid input [name=std.echo, unexpected=['wrong_input'], missing=['output']]"},
		{"std.echo", map[string]any{"output": 1, "b": 2, "a": 3}, "Invalid input [name=std.echo, unexpected=['a', 'b']]"},
		{"std.noop", map[string]any{"x": 1}, "Invalid input [name=std.noop, unexpected=['x']]"},
		{"std.fail", map[string]any{"error_data": "boom"}, "boom"},
		{"std.http", map[string]any{"method": "GET"}, "Invalid input [name=std.http, missing=['url']]"},
		{"std.sleep", map[string]any{"seconds": 0}, ""},
	} {
		_, _, err := r.Run(ctx, tc.action, tc.input, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: %v", tc.action, tc.input, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s %v: error %v, want %q", tc.action, tc.input, err, tc.want)
		}
	}
	r.Register("my.any", func(context.Context, map[string]any) (any, error) { return "ok", nil })
	if out, _, err := r.Run(ctx, "my.any", map[string]any{"whatever": 1}, nil); err != nil || out != "ok" {
		t.Fatalf("an action without declared inputs: %v %v", out, err)
	}
	r.Register("std.echo", func(context.Context, map[string]any) (any, error) { return "mine", nil })
	if out, _, err := r.Run(ctx, "std.echo", map[string]any{"other": 1}, nil); err != nil || out != "mine" {
		t.Fatalf("a replaced std.echo kept the old input names: %v %v", out, err)
	}
}
