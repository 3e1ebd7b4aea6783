package local

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// A local server logs a quick successful request at debug level only; a
// failed or slow one, and every other line, keeps its level.
func TestRequestLogQuietsRoutineRequests(t *testing.T) {
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		level := slog.LevelInfo
		if debug {
			level = slog.LevelDebug
		}
		log := slog.New(requestLog{slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})})
		log.Info("http request", "method", "GET", "path", "/executions", "status", 200, "duration_ms", int64(3))
		log.Info("http request", "method", "GET", "path", "/workflows/x", "status", 404, "duration_ms", int64(1),
			"error_code", "not_found", "error", "workflow x not found")
		log.Info("http request", "api", "mistral-v2", "method", "GET", "path", "/v2/nope", "status", 404, "duration_ms", int64(1))
		log.Info("http request", "method", "POST", "path", "/executions", "status", 201, "duration_ms", int64(1500))
		log.Error("http request", "method", "GET", "path", "/executions", "status", 500, "duration_ms", int64(2))
		log.Info("lazyflow serving", "url", "http://127.0.0.1:8080")

		type line struct {
			Level, Msg, Path string
			Status           int
		}
		var got []line
		for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var l line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			got = append(got, l)
		}
		want := []line{
			{"INFO", "http request", "/workflows/x", 404},
			{"INFO", "http request", "/v2/nope", 404},
			{"INFO", "http request", "/executions", 201},
			{"ERROR", "http request", "/executions", 500},
			{"INFO", "lazyflow serving", "", 0},
		}
		if debug {
			want = append([]line{{"DEBUG", "http request", "/executions", 200}}, want...)
		}
		if len(got) != len(want) {
			t.Fatalf("debug=%v: got %d lines %+v, want %+v", debug, len(got), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("debug=%v line %d: got %+v, want %+v", debug, i, got[i], want[i])
			}
		}
	}
}
