package local_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/value"
)

// TestUserActionsOverHTTP registers a user action bound to an HTTP
// endpoint through POST /actions, without rebuilding anything: a workflow
// calling it with an input it does not take (or without a required one)
// is refused at registration, a correct one runs it, and after DELETE the
// action is gone from the list and a new workflow calling it with a bad
// input is no longer checked against it. The body it gets is the task's
// input in the order of its input clause.
func TestUserActionsOverHTTP(t *testing.T) {
	var got []map[string]any
	var bodies []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &in)
		got = append(got, in)
		bodies = append(bodies, string(b))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"url": "%v-%vpx.png"}`, in["image"], in["width"])
	}))
	defer endpoint.Close()
	s := start(t, t.TempDir(), nil)

	for _, tc := range []struct{ body, field, want string }{
		{`{"name": "resize_image", "kind": "http", "target": "` + endpoint.URL + `"}`, "name", "needs a pack"},
		{`{"name": "std.resize", "kind": "http", "target": "` + endpoint.URL + `"}`, "name", "std pack"},
		{`{"name": "std.echo", "kind": "http", "target": "` + endpoint.URL + `"}`, "name", "std pack"},
		{`{"name": "img.resize", "kind": "ftp", "target": "` + endpoint.URL + `"}`, "kind", `kind "ftp"`},
		{`{"name": "img.resize", "kind": "http", "target": "file:///etc/passwd"}`, "target", "not an http(s) URL"},
		{`{"name": "img.resize", "kind": "http", "target": "` + endpoint.URL + `", "required": ["a", "a"]}`, "required[1]", "listed twice"},
		{`{"kind": "http", "target": "` + endpoint.URL + `"}`, "name", "required"},
	} {
		code, out := s.call("POST", "/actions", "application/json", tc.body)
		e, _ := value.AsGoMap(out["error"])
		if code != 400 || e["field"] != tc.field || !strings.Contains(fmt.Sprint(e["message"]), tc.want) {
			t.Errorf("POST /actions %s: want 400 on field %s saying %q, got %d %v", tc.body, tc.field, tc.want, code, out)
		}
	}

	code, out := s.call("POST", "/actions", "application/json", `{"name": "img.resize", "kind": "http", "target": "`+endpoint.URL+
		`", "required": ["image"], "optional": ["width"], "description": "makes thumbnails"}`)
	if code != 200 || out["name"] != "img.resize" || out["created"] == nil {
		t.Fatalf("POST /actions: %d %v", code, out)
	}
	if code, out := s.call("GET", "/actions/img.resize", "", ""); code != 200 || fmt.Sprint(out["required"]) != "[image]" ||
		fmt.Sprint(out["optional"]) != "[width]" || out["target"] != endpoint.URL {
		t.Fatalf("GET /actions/img.resize: %d %v", code, out)
	}

	code, out = s.call("POST", "/workflows", "text/yaml", `
version: '2.0'
bad:
  tasks:
    thumb:
      action: img.resize image=a.png height=10
`)
	if msg := fmt.Sprint(out); code != 400 || !strings.Contains(msg, `"height"`) || !strings.Contains(msg, "width") {
		t.Fatalf("a call with an input the user action does not take: want 400 naming height and what it takes, got %d %s", code, msg)
	}
	code, out = s.call("POST", "/workflows", "text/yaml", `
version: '2.0'
bad:
  tasks:
    thumb:
      action: img.resize width=10
`)
	if msg := fmt.Sprint(out); code != 400 || !strings.Contains(msg, "without its required input") || !strings.Contains(msg, "image") {
		t.Fatalf("a call without the required input: want 400, got %d %s", code, msg)
	}

	s.register(`
version: '2.0'
thumbs:
  tasks:
    thumb:
      action: img.resize width=64 image=cat
      publish:
        url: <% task().result.url %>
  output:
    url: <% $.url %>
`)
	res := s.wait(s.run("thumbs", `{}`), "SUCCESS", 60*time.Second)
	if url := res["output"].(map[string]any)["url"]; url != "cat-64px.png" {
		t.Fatalf("output url %v, want the endpoint's answer cat-64px.png", url)
	}
	if len(got) != 1 || got[0]["image"] != "cat" || got[0]["width"] != float64(64) {
		t.Fatalf("the endpoint got %v, want the task's input once", got)
	}
	if bodies[0] != `{"width":64,"image":"cat"}` {
		t.Fatalf("the endpoint got the body %s, want the task's input in its order", bodies[0])
	}

	// An ad-hoc action may build on a user action.
	s.register(`
version: '2.0'
name: pics
actions:
  avatar:
    base: img.resize
    base-input:
      image: <% $.who %>
      width: 32
    input: [who]
workflows:
  avatars:
    tasks:
      a:
        action: avatar who=ada
        publish:
          url: <% task().result.url %>
    output:
      url: <% $.url %>
`)
	res = s.wait(s.run("pics.avatars", `{}`), "SUCCESS", 60*time.Second)
	if url := res["output"].(map[string]any)["url"]; url != "ada-32px.png" {
		t.Fatalf("ad-hoc action over the user action: output url %v, want ada-32px.png", url)
	}

	if code, out := s.call("GET", "/actions", "", ""); code != 200 || len(out["actions"].([]any)) != 1 {
		t.Fatalf("GET /actions: %d %v", code, out)
	}
	if code, out := s.call("DELETE", "/actions/img.resize", "", ""); code != 200 {
		t.Fatalf("DELETE: %d %v", code, out)
	}
	if code, _ := s.call("GET", "/actions/img.resize", "", ""); code != 404 {
		t.Fatalf("GET after DELETE: %d, want 404", code)
	}
	if code, _ := s.call("DELETE", "/actions/img.resize", "", ""); code != 404 {
		t.Fatalf("second DELETE: %d, want 404", code)
	}
	if code, out := s.call("GET", "/actions", "", ""); code != 200 || len(out["actions"].([]any)) != 0 {
		t.Fatalf("GET /actions after DELETE: %d %v", code, out)
	}
	res = s.wait(s.run("thumbs", `{}`), "ERROR", 60*time.Second)
	if info := fmt.Sprint(res["tasks"]); !strings.Contains(info, "unknown action") {
		t.Fatalf("a deleted action: want the task to fail as an unknown action, got %s", info)
	}
}
