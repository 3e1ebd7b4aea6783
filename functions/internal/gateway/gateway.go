// Package gateway serves an http.Handler to API Gateway through Lambda. It
// takes both event formats API Gateway delivers — the HTTP API's payload
// 2.0 and the REST API's (and HTTP API's) payload 1.0 — telling them apart
// by their "version" field, and answers in the same format.
package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler returns the Lambda handler serving h.
func Handler(h http.Handler) func(ctx context.Context, raw json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("API Gateway event is not a JSON object: %w", err)
		}
		if probe.Version == "2.0" {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("decode API Gateway payload 2.0 event: %w", err)
			}
			return ServeV2(ctx, h, ev)
		}
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode API Gateway payload 1.0 event: %w", err)
		}
		return ServeV1(ctx, h, ev)
	}
}

// ServeV2 serves one payload 2.0 event.
func ServeV2(ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	// A named stage is part of rawPath; the routes are not.
	if st := ev.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	hdr := http.Header{}
	for k, v := range ev.Headers {
		hdr.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		hdr.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r, err := request(ctx, ev.RequestContext.HTTP.Method, path, ev.RawQueryString, hdr, ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	rec := serve(h, r)
	out := events.APIGatewayV2HTTPResponse{StatusCode: rec.status, Headers: map[string]string{}}
	for k, vs := range rec.header {
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	out.Body, out.IsBase64Encoded = body(rec)
	return out, nil
}

// ServeV1 serves one payload 1.0 event.
func ServeV1(ctx context.Context, h http.Handler, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	hdr := http.Header{}
	for k, v := range ev.Headers {
		hdr.Set(k, v)
	}
	for k, vs := range ev.MultiValueHeaders {
		hdr.Del(k)
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	q := url.Values{}
	for k, v := range ev.QueryStringParameters {
		q.Set(k, v)
	}
	for k, vs := range ev.MultiValueQueryStringParameters {
		q[k] = vs
	}
	// Payload 1.0 carries the path decoded; escape it again for the URL.
	path := (&url.URL{Path: ev.Path}).EscapedPath()
	r, err := request(ctx, ev.HTTPMethod, path, q.Encode(), hdr, ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	r.RemoteAddr = ev.RequestContext.Identity.SourceIP
	rec := serve(h, r)
	out := events.APIGatewayProxyResponse{StatusCode: rec.status, Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}}
	for k, vs := range rec.header {
		out.Headers[k] = vs[len(vs)-1]
		out.MultiValueHeaders[k] = vs
	}
	out.Body, out.IsBase64Encoded = body(rec)
	return out, nil
}

func request(ctx context.Context, method, path, query string, hdr http.Header, body string, b64 bool) (*http.Request, error) {
	data := []byte(body)
	if b64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, fmt.Errorf("API Gateway event body is not valid base64: %w", err)
		}
	}
	if path == "" {
		path = "/"
	}
	u := path
	if query != "" {
		u += "?" + query
	}
	r, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("API Gateway event: %w", err)
	}
	r.Header = hdr
	r.Host = hdr.Get("Host")
	r.RequestURI = u
	r.ContentLength = int64(len(data))
	return r, nil
}

// recorder collects a handler's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func serve(h http.Handler, r *http.Request) *recorder {
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

// body returns the response body as API Gateway wants it: text as is,
// anything else base64-encoded.
func body(rec *recorder) (string, bool) {
	b := rec.body.Bytes()
	ct, _, _ := mime.ParseMediaType(rec.header.Get("Content-Type"))
	textual := ct == "" || strings.HasPrefix(ct, "text/") || ct == "application/json" || strings.HasSuffix(ct, "+json") ||
		ct == "application/yaml" || ct == "application/x-yaml"
	if textual && utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}
