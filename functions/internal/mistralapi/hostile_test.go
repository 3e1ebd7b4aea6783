package mistralapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/functions/internal/httpapi/httpapitest"
)

// /v2 bodies get the HTTP API's checks: not UTF-8, nested too deep or an
// integer of more than 4,300 digits is a 400 saying what and where.
func TestV2RefusesHostileJSON(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	start := func(input string) response {
		return e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": `+input+`}`)
	}
	e.wantFault(start("{\"name\": \"A\xffda\"}"), http.StatusBadRequest, "not valid UTF-8 at line 1")
	e.wantFault(start(`{"name": "x", "deep": `+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`), http.StatusBadRequest, "more than 100 deep")
	e.wantFault(start(`{"name": 1`+strings.Repeat("0", 4300)+`}`), http.StatusBadRequest, "has more than 4300 digits")
}

// An integer beyond int64 in an input is kept exactly, as Python keeps it:
// through the store, expressions and the API's answers.
func TestV2KeepsBigIntegersExactly(t *testing.T) {
	const id = "123456789012345678901234567890123456789"
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	r := e.want(e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": {"name": `+id+`}}`), http.StatusCreated, "start")
	ex := e.waitState(r.body["id"].(string), "SUCCESS")
	for _, field := range []string{"input", "output"} {
		s, _ := ex[field].(string)
		if !strings.Contains(s, id) {
			t.Errorf("%s %q does not hold %s exactly", field, s, id)
		}
	}
	if out, _ := ex["output"].(string); !strings.Contains(out, "Hello, "+id+"!") {
		t.Errorf("output %q, want the greeting with the exact integer", out)
	}
}

// A body over /v2's limit is answered 413 to a client still sending it.
func TestV2TooLargeBodyAnswered413WithoutReset(t *testing.T) {
	e := newEnv(t)
	status, raw, err := httpapitest.SlowPost(strings.TrimPrefix(e.srv.URL, "http://"), "/v2/executions", 4<<20, 15*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "faultstring") {
		t.Fatalf("answer %d %s, want a 413 fault", status, raw)
	}
}
