package httpapi

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// drainTime bounds how long a refused body is drained: a client trickling
// bytes must not hold the connection for ever.
const drainTime = 10 * time.Second

// drainRefused reads and discards what is left of a body refused as too
// large, up to MaxDrain bytes and drainTime. A client that sends its whole
// body before reading the answer (Python's urllib, curl without
// Expect) would otherwise have its connection reset while still sending,
// and see the reset instead of the 413. A body bigger still, or one that
// does not end in time, is answered with Connection: close.
func (a *API) drainRefused(w http.ResponseWriter, body io.ReadCloser) {
	DrainRefused(w, body, a.opt.MaxDrain)
}

// DrainRefused is drainRefused for the other API served beside this one
// (Mistral's /v2), reading at most max bytes.
func DrainRefused(w http.ResponseWriter, body io.ReadCloser, max int64) {
	if body == nil {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(drainTime)) // not every host's writer supports it
	n, err := io.CopyN(io.Discard, body, max+1)
	_ = rc.SetReadDeadline(time.Time{})
	if n > max || err != nil && !errors.Is(err, io.EOF) {
		w.Header().Set("Connection", "close")
	}
}
