package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/value"
)

func registerBuiltins(r *Registry) {
	r.Bind("http", bindHTTP)
	r.Register("std.noop", func(ctx context.Context, in map[string]any) (any, error) { return nil, nil })
	r.Register("std.echo", func(ctx context.Context, in map[string]any) (any, error) { return in["output"], nil })
	r.Register("std.fail", stdFail)
	for _, name := range []string{"std.noop", "std.echo", "std.fail"} {
		r.trivial[name] = true
	}
	r.Register("std.sleep", stdSleep)
	r.Register("std.http", stdHTTP)
	// std.async_noop starts nothing: the result comes later through its callback.
	r.RegisterAsync("std.async_noop", func(ctx context.Context, in map[string]any, cb Callback) error { return nil })
	// std.mistral_http is Mistral's delegate HTTP action: it calls the URL with
	// the callback URL in the Mistral-Callback-URL header and returns without
	// a result; the service it called posts the result to that URL later.
	r.RegisterAsync("std.mistral_http", func(ctx context.Context, in map[string]any, cb Callback) error {
		url := cb.URL
		if cb.MistralURL != "" {
			url = cb.MistralURL
		}
		_, err := httpCall(ctx, in, map[string]string{"Mistral-Callback-URL": url, "Mistral-Action-Execution-Id": cb.Token})
		return err
	})
	// Mistral's signatures (mistral/actions/std_actions.py): a call with another
	// input name fails with "Invalid input", as there.
	httpParams := Params{Required: []string{"url"}, Optional: []string{"method", "params", "body", "json", "headers",
		"cookies", "auth", "timeout", "allow_redirects", "proxies", "verify"}}
	for name, p := range map[string]Params{
		"std.noop":         {},
		"std.async_noop":   {},
		"std.echo":         {Required: []string{"output"}},
		"std.fail":         {Optional: []string{"error_data"}},
		"std.sleep":        {Optional: []string{"seconds"}},
		"std.http":         httpParams,
		"std.mistral_http": httpParams,
	} {
		r.Declare(name, p)
	}
}

func stdFail(ctx context.Context, in map[string]any) (any, error) {
	msg := "Fail action expected exception."
	if v, ok := in["error_data"]; ok && v != nil {
		msg = value.String(v)
	}
	return nil, errors.New(msg)
}

func stdSleep(ctx context.Context, in map[string]any) (any, error) {
	secs := 1.0 // Mistral's default
	if v, ok := in["seconds"]; ok {
		var err error
		if secs, err = number(v); err != nil {
			return nil, fmt.Errorf("std.sleep: seconds: %w", err)
		}
		// Converting a huge number to a time.Duration overflows (1e300
		// seconds became a negative duration: no sleep at all).
		if secs < 0 || secs > dsl.MaxSeconds || math.IsNaN(secs) {
			return nil, fmt.Errorf("std.sleep: seconds: %v is out of range: 0 to %d (10 years)", v, dsl.MaxSeconds)
		}
	}
	t := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("std.sleep interrupted: %w", ctx.Err())
	}
}

func number(v any) (float64, error) {
	switch n := value.Normalize(v).(type) {
	case nil:
		return 0, nil
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	}
	return 0, fmt.Errorf("expected a number, got %s", value.TypeName(v))
}

// MaxHTTPBody bounds how much of a response std.http reads.
const MaxHTTPBody = 4 << 20

// stdHTTP is Mistral's std.http: url, method, params, body, json, headers,
// timeout, allow_redirects, auth (user/password list). Its result is
// {content, status, headers, url}; content is parsed JSON when the response is JSON.
func stdHTTP(ctx context.Context, in map[string]any) (any, error) { return httpCall(ctx, in, nil) }

func httpCall(ctx context.Context, in map[string]any, extra map[string]string) (any, error) {
	raw, _ := in["url"].(string)
	if raw == "" {
		return nil, errors.New("std.http: url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("std.http: url %q is not an http(s) URL", raw)
	}
	if params, ok := value.AsGoMap(in["params"]); ok {
		q := u.Query()
		for k, v := range params {
			q.Set(k, value.String(v))
		}
		u.RawQuery = q.Encode()
	}
	method := "GET"
	if m, ok := in["method"].(string); ok && m != "" {
		method = strings.ToUpper(m)
	}
	var body io.Reader
	contentType := ""
	if j, ok := in["json"]; ok && j != nil {
		b, err := json.Marshal(j)
		if err != nil {
			return nil, fmt.Errorf("std.http: json body: %w", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	} else if b, ok := in["body"]; ok && b != nil {
		switch x := b.(type) {
		case string:
			body = strings.NewReader(x)
		default:
			enc, err := json.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("std.http: body: %w", err)
			}
			body, contentType = bytes.NewReader(enc), "application/json"
		}
	}
	timeout := 60.0
	if t, ok := in["timeout"]; ok && t != nil {
		if timeout, err = number(t); err != nil || timeout <= 0 {
			return nil, fmt.Errorf("std.http: timeout must be a positive number of seconds")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("std.http: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h, ok := value.AsGoMap(in["headers"]); ok {
		for k, v := range h {
			req.Header.Set(k, value.String(v))
		}
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	if a, ok := in["auth"].([]any); ok && len(a) == 2 {
		req.SetBasicAuth(value.String(a[0]), value.String(a[1]))
	}
	client := &http.Client{}
	if ar, ok := in["allow_redirects"].(bool); ok && !ar {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("std.http %s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxHTTPBody+1))
	if err != nil {
		return nil, fmt.Errorf("std.http %s %s: read body: %w", method, u.Redacted(), err)
	}
	if len(data) > MaxHTTPBody {
		return nil, fmt.Errorf("std.http %s %s: response body over %d bytes", method, u.Redacted(), MaxHTTPBody)
	}
	var content any = string(data)
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if v, err := value.FromJSONExact(data); err == nil {
			content = v
		}
	}
	headers := map[string]any{}
	for k := range resp.Header {
		headers[k] = resp.Header.Get(k)
	}
	out := map[string]any{"content": content, "status": int64(resp.StatusCode), "headers": headers, "url": u.String()}
	if resp.StatusCode >= 400 {
		// Mistral's std.http fails on an error status; the body stays in the message.
		return nil, fmt.Errorf("std.http %s %s: status %d: %s", method, u.Redacted(), resp.StatusCode, truncate(string(data), 500))
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
