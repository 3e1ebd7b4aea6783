package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that sends its whole body before it reads the answer, as
// Python's urllib does, gets the 413 for a body over the limit (64 KiB
// here), not a connection reset while it is still sending.
func TestTooLargeBodyAnswered413WithoutReset(t *testing.T) {
	e := newEnv(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 4 << 20
	fmt.Fprintf(conn, "POST /executions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("write after %d of %d bytes: %v (the server reset the connection)", sent, size, err)
		}
		time.Sleep(15 * time.Millisecond) // a slow sender: the server answers long before the end
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct{ Error struct{ Code string } }
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(raw, &body) != nil || body.Error.Code != "too_large" {
		t.Fatalf("answer %d %s, want 413 too_large", resp.StatusCode, raw)
	}
}
