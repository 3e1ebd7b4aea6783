package httpapi_test

import (
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// Registration refuses a workflow or action name outside the allowed
// syntax with 400, naming the definition field and the name's line.
func TestRegisterRefusesBadNames(t *testing.T) {
	e := newEnv(t, nil)
	for _, name := range []string{"../../etc/passwd", "a/b", "..", ""} {
		src := "version: '2.0'\n'" + name + "':\n  tasks:\n    t:\n      action: std.noop\n"
		er := wantError(t, e.do("POST", "/workflows", "text/yaml", src), 400, httpapi.CodeInvalidWorkflow, "definition")
		if msg := er["message"].(string); !strings.Contains(msg, "workflow.yaml:2:1: workflow name") {
			t.Errorf("%q: message %q", name, msg)
		}
	}
	src := "version: '2.0'\nname: wb\nactions:\n  'x/y':\n    base: std.echo\nworkflows:\n  wf:\n    tasks:\n      t:\n        action: std.noop\n"
	wantError(t, e.do("POST", "/workflows", "text/yaml", src), 400, httpapi.CodeInvalidWorkflow, "definition")
	if r := e.json("GET", "/workflows", ""); len(r.body["workflows"].([]any)) != 0 {
		t.Fatalf("a refused definition was registered: %s", r.raw)
	}
	e.register("version: '2.0'\nname: wb\nworkflows:\n  wf:\n    tasks:\n      t:\n        action: std.noop\n")
	if r := e.json("GET", "/workflows/wb.wf", ""); r.status != 200 {
		t.Fatalf("dotted name: %d %s", r.status, r.raw)
	}
}
