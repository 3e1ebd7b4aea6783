//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// thirdParty is the outside world the deployed actions talk to: an HTTP server on 127.0.0.1
// that the emulator's Lambda processes (local processes on this host) reach through std.http.
// It counts every call, so the suite can prove how many times an action really ran.
type thirdParty struct {
	URL string
	srv *http.Server

	mu       sync.Mutex
	hits     map[string]int           // key -> calls
	gates    map[string]chan struct{} // key -> closed when the test opens the gate
	arrived  map[string]chan struct{} // key -> closed when the first call arrives
	delegate map[string]http.Header   // key -> headers of the delegate action's request
}

func startThirdParty() (*thirdParty, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the third-party server: %w", err)
	}
	tp := &thirdParty{URL: "http://" + ln.Addr().String(), hits: map[string]int{}, gates: map[string]chan struct{}{},
		arrived: map[string]chan struct{}{}, delegate: map[string]http.Header{}}
	mux := http.NewServeMux()
	// /hit/{key}?n=N answers {"n": N, "calls": C}: a plain action that is counted.
	mux.HandleFunc("/hit/{key...}", func(w http.ResponseWriter, r *http.Request) {
		c := tp.count(r.PathValue("key"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		writeJSON(w, 200, map[string]any{"n": n, "calls": c})
	})
	// /flaky/{key}?fail=F answers 503 to the first F calls, then 200: retry must get through.
	mux.HandleFunc("/flaky/{key...}", func(w http.ResponseWriter, r *http.Request) {
		c := tp.count(r.PathValue("key"))
		fail, _ := strconv.Atoi(r.URL.Query().Get("fail"))
		if c <= fail {
			writeJSON(w, 503, map[string]any{"error": "flaky: failing on purpose", "calls": c})
			return
		}
		writeJSON(w, 200, map[string]any{"calls": c})
	})
	// /gate/{key} holds the call until the test opens the gate (or 60 s pass).
	mux.HandleFunc("/gate/{key...}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		tp.count(key)
		select {
		case <-tp.gate(key):
			writeJSON(w, 200, map[string]any{"opened": true})
		case <-time.After(60 * time.Second):
			writeJSON(w, 504, map[string]any{"error": "gate never opened"})
		case <-r.Context().Done():
		}
	})
	// /delegate/{key} is the third party of a delegate action: it records the request's
	// headers (the callback URL travels in Mistral-Callback-URL) and answers at once.
	mux.HandleFunc("/delegate/{key...}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		tp.mu.Lock()
		tp.delegate[key] = r.Header.Clone()
		tp.mu.Unlock()
		tp.count(key)
		writeJSON(w, 200, map[string]any{"accepted": true})
	})
	tp.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = tp.srv.Serve(ln) }()
	return tp, nil
}

// count records one call to key and returns how many there have been.
func (tp *thirdParty) count(key string) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.hits[key]++
	if ch, ok := tp.arrived[key]; ok && tp.hits[key] == 1 {
		close(ch)
	} else if !ok {
		ch = make(chan struct{})
		close(ch)
		tp.arrived[key] = ch
	}
	return tp.hits[key]
}

// Hits returns how many calls key received.
func (tp *thirdParty) Hits(key string) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.hits[key]
}

// Arrived returns a channel closed once key has received its first call.
func (tp *thirdParty) Arrived(key string) <-chan struct{} {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	ch, ok := tp.arrived[key]
	if !ok {
		ch = make(chan struct{})
		tp.arrived[key] = ch
	}
	return ch
}

func (tp *thirdParty) gate(key string) chan struct{} {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	ch, ok := tp.gates[key]
	if !ok {
		ch = make(chan struct{})
		tp.gates[key] = ch
	}
	return ch
}

// Open lets every held and future call to /gate/{key} through.
func (tp *thirdParty) Open(key string) {
	ch := tp.gate(key)
	tp.mu.Lock()
	defer tp.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// DelegateHeaders returns the headers the delegate call for key carried, if it came.
func (tp *thirdParty) DelegateHeaders(key string) (http.Header, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	h, ok := tp.delegate[key]
	return h, ok
}

// Snapshot copies the call counts.
func (tp *thirdParty) Snapshot() map[string]int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	out := make(map[string]int, len(tp.hits))
	for k, v := range tp.hits {
		out[k] = v
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
