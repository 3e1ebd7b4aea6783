package httpapi_test

import (
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/functions/internal/httpapi"
)

// Bodies that decoding would silently alter, or pay dearly for, are
// refused with 400 saying where; what Lazyflow keeps exactly is kept.
func TestJSONBodiesKeptExactlyOrRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.register(hello)
	e.register("version: '2.0'\nkeep:\n  input: [name, big, small, f, nest]\n  tasks:\n    t:\n      action: std.noop\n")
	start := func(input string) response {
		return e.json("POST", "/executions", `{"workflow": "keep", "input": `+input+`}`)
	}

	er := wantError(t, start("{\"name\": \"A\xffda\"}"), 400, httpapi.CodeInvalidJSON, "")
	if msg := er["message"].(string); !strings.Contains(msg, "UTF-8") || !strings.Contains(msg, "column 42") {
		t.Fatalf("message %q does not say where the bad byte is", msg)
	}
	er = wantError(t, start(`{"name": "\ud800x"}`), 400, httpapi.CodeInvalidJSON, "")
	if msg := er["message"].(string); !strings.Contains(msg, `\ud800`) || !strings.Contains(msg, "surrogate") {
		t.Fatalf("message %q", msg)
	}

	huge := "1" + strings.Repeat("0", 4300)
	er = wantError(t, start(`{"name": "x", "ids": [1, `+huge+`]}`), 400, httpapi.CodeInvalidInput, "input.ids[1]")
	if msg := er["message"].(string); !strings.Contains(msg, "10000000000000000000") || !strings.Contains(msg, "4300 digits") {
		t.Fatalf("message %q", msg)
	}
	cbErr := e.json("POST", "/executions", `{"workflow": "hello", "input": {"name": "x"}, "env": {"n": -`+huge+`}}`)
	wantError(t, cbErr, 400, httpapi.CodeInvalidInput, "env.n")

	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	er = wantError(t, start(`{"name": "x", "deep": `+deep+`}`), 400, httpapi.CodeInvalidJSON, "")
	if msg := er["message"].(string); !strings.Contains(msg, "100 deep") {
		t.Fatalf("message %q does not name the limit", msg)
	}

	// Within the bounds: kept exactly, integers beyond int64 (as Python
	// keeps them) and surrogate pairs and all.
	ok := `{"name": "Ada \ud83d\ude00 ✓", "big": 123456789012345678901234567890123456789, "small": -9223372036854775808, "f": 1.5e300, "nest": ` +
		strings.Repeat("[", 90) + strings.Repeat("]", 90) + `}`
	r := start(ok)
	if r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.raw)
	}
	r = e.wait(r.body["id"].(string), engine.Success)
	for _, want := range []string{`"big":123456789012345678901234567890123456789`, `"small":-9223372036854775808`, "Ada 😀 ✓"} {
		if !strings.Contains(r.raw, want) {
			t.Fatalf("input not kept exactly (%s): %s", want, r.raw)
		}
	}
}
