package local

import (
	"context"
	"log/slog"
	"time"
)

// SlowRequest is how long a request may take before its log line stays at
// info level on a local server.
const SlowRequest = time.Second

// requestLog logs the APIs' one line per request ("http request") at debug
// level when the request succeeded quickly: on a terminal, next to the
// execution logs, every page load and UI refresh is noise. A request that
// failed (4xx or 5xx, or an error logged with it) or was slow keeps its
// level, so what an operator acts on stays visible. Only local servers wrap
// their logger so; the Lambda functions log every request as before.
type requestLog struct{ slog.Handler }

func (h requestLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && r.Message == "http request" && routine(r) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestLog) WithAttrs(as []slog.Attr) slog.Handler {
	return requestLog{h.Handler.WithAttrs(as)}
}

func (h requestLog) WithGroup(name string) slog.Handler {
	return requestLog{h.Handler.WithGroup(name)}
}

// routine reports whether a request line records a quick success.
func routine(r slog.Record) bool {
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "status":
			ok = a.Value.Kind() == slog.KindInt64 && a.Value.Int64() < 400
		case "duration_ms":
			ok = a.Value.Kind() == slog.KindInt64 && time.Duration(a.Value.Int64())*time.Millisecond < SlowRequest
		case "error", "error_code":
			ok = false
		}
		return ok
	})
	return ok
}
