package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/functions/internal/httpapi/httpapitest"
)

// A client that sends its whole body before it reads the answer, as
// Python's urllib does, gets the 413 for a body over the limit (64 KiB
// here), not a connection reset while it is still sending. The sender is
// slow, so the server answers long before the end.
func TestTooLargeBodyAnswered413WithoutReset(t *testing.T) {
	e := newEnv(t, nil)
	status, raw, err := httpapitest.SlowPost(strings.TrimPrefix(e.srv.URL, "http://"), "/executions", 4<<20, 15*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error struct{ Code string } }
	if status != http.StatusRequestEntityTooLarge || json.Unmarshal(raw, &body) != nil || body.Error.Code != "too_large" {
		t.Fatalf("answer %d %s, want 413 too_large", status, raw)
	}
}
