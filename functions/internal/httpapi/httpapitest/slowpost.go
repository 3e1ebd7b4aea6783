// Package httpapitest holds test helpers for the HTTP APIs.
package httpapitest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// SlowPost sends a POST of size bytes of JSON whitespace to path at addr
// the way Python's urllib does: the whole body, in 64 KiB chunks paced by
// pace, before it reads the answer. A server that resets the connection
// while the body is still coming makes a write fail, and SlowPost returns
// that error with how much had been sent.
func SlowPost(addr, path string, size int, pace time.Duration) (status int, body []byte, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, size)
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
			return 0, nil, fmt.Errorf("write after %d of %d bytes (the server reset the connection): %w", sent, size, err)
		}
		time.Sleep(pace)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, nil, fmt.Errorf("read the answer: %w", err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
