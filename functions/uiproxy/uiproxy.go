// Package uiproxy serves the browser UI on the user's own machine for a
// deployed stack. The pages are the embedded ones `lazyflow serve` and the
// api function serve (package webui); every API call the page makes is
// forwarded to the deployed API, signed with SigV4 (service execute-api)
// from the user's AWS credentials. The credentials stay in this process:
// the browser only ever talks to localhost, unsigned.
//
// Because whoever can reach the proxy acts with the user's credentials, it
// forwards only the API routes the page uses (not the callbacks, not
// arbitrary paths), answers only requests addressed to localhost or an IP
// literal (a DNS-rebinding page names its own domain), and refuses requests
// another site's page makes (Origin or Sec-Fetch-Site says cross-site).
package uiproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lazyflow/lazyflow/functions/internal/webui"
)

// Service is the SigV4 signing name of API Gateway's invoke API.
const Service = "execute-api"

// MaxBody bounds a request body the proxy reads to sign; the API's own limit
// (1 MiB by default) is lower, so the API still gives its own answer.
const MaxBody = 8 << 20

// Routes are the API routes the page calls, as ServeMux patterns: the
// IAM-protected routes of the deployed stack, and the UI's graph.
var Routes = []string{
	"GET /openapi.json",
	"POST /workflows",
	"GET /workflows",
	"GET /workflows/{name}",
	"POST /executions",
	"GET /executions",
	"GET /executions/{id}",
	"POST /executions/{id}/pause",
	"POST /executions/{id}/resume",
	"POST /executions/{id}/cancel",
	"POST /tasks/{id}/rerun",
	"GET /ui/api/graph/{file}",
}

// forwardedHeaders are the request headers the API reads; nothing else the
// browser sends (cookies above all) goes upstream or into the signature.
var forwardedHeaders = []string{"Accept", "Content-Type", "Idempotency-Key"}

// hopHeaders are response headers that describe one connection, not the
// response, and Set-Cookie, which would land on localhost's cookie jar.
var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true,
	"Content-Length": true, "Set-Cookie": true, "Trailer": true, "Upgrade": true}

// Options configures the proxy.
type Options struct {
	// API is the deployed API's base URL, e.g.
	// https://abc123.execute-api.eu-west-1.amazonaws.com (a stage path,
	// if any, is kept in front of every forwarded path).
	API string
	// Region signs the requests; empty takes it from an execute-api host name.
	Region string
	// Credentials sign every forwarded request (the default chain, in the CLI).
	Credentials aws.CredentialsProvider
	// Client sends the signed requests (default: 60 s timeout).
	Client *http.Client
	Log    *slog.Logger
}

type proxy struct {
	base   *url.URL
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	client *http.Client
	log    *slog.Logger
}

var executeAPIHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// ParseAPI checks an API base URL and returns it with the region its host
// names ("" for a custom domain).
func ParseAPI(raw string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, "", fmt.Errorf("API URL %q: %w", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", fmt.Errorf("API URL %q: want an absolute http(s) URL such as https://ID.execute-api.REGION.amazonaws.com", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, "", fmt.Errorf("API URL %q: a base URL has no query, fragment or user info", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	region := ""
	if m := executeAPIHost.FindStringSubmatch(strings.ToLower(u.Hostname())); m != nil {
		region = m[1]
	}
	return u, region, nil
}

// New returns the handler: the UI's pages, / redirecting to them, and the
// forwarded API routes; anything else is refused.
func New(opt Options) (http.Handler, error) {
	base, region, err := ParseAPI(opt.API)
	if err != nil {
		return nil, err
	}
	if opt.Region != "" {
		region = opt.Region
	}
	if region == "" {
		return nil, fmt.Errorf("API URL %q: its host names no region (not *.execute-api.REGION.amazonaws.com); give the region", opt.API)
	}
	if opt.Credentials == nil {
		return nil, errors.New("uiproxy: no AWS credentials provider")
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	p := &proxy{base: base, region: region, creds: opt.Credentials, signer: v4.NewSigner(), client: opt.Client, log: opt.Log}

	mux := http.NewServeMux()
	mux.Handle(webui.Prefix, webui.New(webui.Options{Log: opt.Log}))
	mux.Handle("GET /{$}", webui.Redirect())
	for _, route := range Routes {
		mux.HandleFunc(route, p.forward)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("lazyflow ui forwards only the API routes the page uses; no route %s %s", r.Method, r.URL.Path))
	})
	return guard(mux), nil
}

// guard refuses what does not come from a page of this proxy, before any
// route runs.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host) {
			writeError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("lazyflow ui answers requests for localhost or an IP address, not host %q", r.Host))
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, "forbidden", "lazyflow ui refuses requests made by another site's page")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("lazyflow ui refuses requests from origin %q", o))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localHost reports whether a Host header names this machine the way a
// rebinding attack cannot: "localhost" or an IP literal.
func localHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}

// forward signs r for the deployed API, sends it and copies the answer back.
func (p *proxy) forward(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes: %v", MaxBody, err))
		return
	}
	out, err := p.signed(r, body)
	if err != nil {
		p.log.Error("ui proxy: sign request", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadGateway, "signing_failed", err.Error())
		return
	}
	resp, err := p.client.Do(out)
	if err != nil {
		p.log.Error("ui proxy: call the API", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadGateway, "api_unreachable", fmt.Sprintf("call %s: %v", p.base.Redacted(), err))
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if !hopHeaders[http.CanonicalHeaderKey(k)] {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		p.log.Warn("ui proxy: copy the API's answer", "path", r.URL.Path, "err", err)
	}
	p.log.Debug("ui proxy", "method", r.Method, "path", r.URL.Path, "status", resp.StatusCode)
}

// signed builds the upstream request: the base URL's stage path, then the
// path exactly as the page escaped it (a task id's %2F stays one segment),
// the query, the headers the API reads, and the SigV4 signature.
func (p *proxy) signed(r *http.Request, body []byte) (*http.Request, error) {
	u := *p.base
	u.Path = p.base.Path + r.URL.Path
	u.RawPath = p.base.EscapedPath() + r.URL.EscapedPath()
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build the request to %s: %w", p.base.Redacted(), err)
	}
	for _, k := range forwardedHeaders {
		if v := r.Header.Get(k); v != "" {
			out.Header.Set(k, v)
		}
	}
	creds, err := p.creds.Retrieve(r.Context())
	if err != nil {
		return nil, fmt.Errorf("get AWS credentials to sign the request: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := p.signer.SignHTTP(r.Context(), creds, out, hex.EncodeToString(sum[:]), Service, p.region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("sign the request (SigV4, %s, %s): %w", Service, p.region, err)
	}
	return out, nil
}

// writeError answers in the API's error shape, so the page shows the message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// Serve listens on addr and serves h until ctx ends; ready gets the URL to
// open once the listener is up.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String() + webui.Prefix)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
