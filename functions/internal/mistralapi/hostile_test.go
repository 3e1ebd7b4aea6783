package mistralapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// /v2 bodies get the HTTP API's checks: not UTF-8, nested too deep or an
// integer beyond int64 is a 400 saying what and where.
func TestV2RefusesHostileJSON(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("POST", "/v2/workflows", "text/plain", hello), http.StatusCreated, "create")
	start := func(input string) response {
		return e.do("POST", "/v2/executions", "application/json", `{"workflow_name": "hello", "input": `+input+`}`)
	}
	e.wantFault(start("{\"name\": \"A\xffda\"}"), http.StatusBadRequest, "not valid UTF-8 at line 1")
	e.wantFault(start(`{"name": "x", "deep": `+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`), http.StatusBadRequest, "more than 100 deep")
	e.wantFault(start(`{"name": 123456789012345678901234567890123456789}`), http.StatusBadRequest, "integer 123456789012345678901234567890123456789 is beyond what is kept exactly")
}

// A body over /v2's limit is answered 413 to a client still sending it.
func TestV2TooLargeBodyAnswered413WithoutReset(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 4 << 20
	fmt.Fprintf(conn, "POST /v2/executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("write after %d of %d bytes: %v (the server reset the connection)", sent, size, err)
		}
		time.Sleep(15 * time.Millisecond)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "faultstring") {
		t.Fatalf("answer %d %s, want a 413 fault", resp.StatusCode, raw)
	}
}
