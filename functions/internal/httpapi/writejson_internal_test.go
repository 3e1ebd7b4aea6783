package httpapi

import (
	"math"
	"net/http/httptest"
	"strings"
	"testing"
)

// A response that cannot be encoded answers 500 and leaves its cause for
// the request's ERROR log line.
func TestUnencodableResponseKeepsItsCause(t *testing.T) {
	ri := &reqInfo{}
	w := &statusWriter{ResponseWriter: httptest.NewRecorder(), ri: ri}
	writeJSON(w, 200, map[string]any{"x": math.Inf(1)})
	if ri.status != 500 || ri.err == nil || !strings.Contains(ri.err.Message, "unsupported value: +Inf") {
		t.Fatalf("status %d, error %+v; want 500 with the encoding error's cause", ri.status, ri.err)
	}
}
