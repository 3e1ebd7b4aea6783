package uiproxy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lazyflow/lazyflow/functions/uiproxy"
)

const region = "eu-west-1"

var testCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1")

// seen is what the fake API received, after checking the signature.
type seen struct {
	Method, RequestURI, Body string
	Header                   http.Header
}

// fakeAPI stands in for API Gateway with IAM authorization: it recomputes
// each request's SigV4 signature with the same signer from the test
// credentials and answers 403 unless it matches, as API Gateway would.
type fakeAPI struct {
	t    *testing.T
	mu   sync.Mutex
	reqs []seen
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if why := f.verify(r, body); why != "" {
		f.t.Errorf("%s %s: %s", r.Method, r.RequestURI, why)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Forbidden"}`)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{Method: r.Method, RequestURI: r.RequestURI, Body: string(body), Header: r.Header.Clone()})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Set-Cookie", "tracker=1")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"echo": r.Method + " " + r.RequestURI})
}

func (f *fakeAPI) verify(r *http.Request, body []byte) string {
	auth := r.Header.Get("Authorization")
	_, signedList, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		return "no SigV4 Authorization header: " + auth
	}
	signedList, _, _ = strings.Cut(signedList, ",")
	date, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "bad X-Amz-Date: " + err.Error()
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, strings.NewReader(string(body)))
	if err != nil {
		return err.Error()
	}
	for _, h := range strings.Split(signedList, ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.Header.Del("X-Amz-Date")
	again.Header.Del("X-Amz-Security-Token")
	creds, _ := testCreds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "execute-api", region, date); err != nil {
		return err.Error()
	}
	if want := again.Header.Get("Authorization"); auth != want {
		return "signature mismatch:\n got  " + auth + "\n want " + want
	}
	if r.Header.Get("X-Amz-Security-Token") != "session-token-1" {
		return "session token not sent"
	}
	return ""
}

func (f *fakeAPI) received() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func newProxy(t *testing.T) (*fakeAPI, *httptest.Server) {
	t.Helper()
	api := &fakeAPI{t: t}
	upstream := httptest.NewServer(api)
	t.Cleanup(upstream.Close)
	h, err := uiproxy.New(uiproxy.Options{API: upstream.URL + "/prod/", Region: region, Credentials: testCreds,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(h)
	t.Cleanup(proxy.Close)
	return api, proxy
}

func send(t *testing.T, method, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestForwardsSignedRequests(t *testing.T) {
	api, proxy := newProxy(t)
	yaml := "version: '2.0'\nhello:\n  tasks:\n    a:\n      action: std.noop\n"
	cases := []struct {
		method, path, body string
		hdr                map[string]string
	}{
		{"GET", "/executions?workflow=a%20b&state=RUNNING&limit=5", "", nil},
		{"POST", "/workflows", yaml, map[string]string{"Content-Type": "text/yaml", "Origin": proxy.URL, "Sec-Fetch-Site": "same-origin",
			"Cookie": "session=browser-secret", "Authorization": "Bearer from-the-page"}},
		{"POST", "/executions", `{"workflow":"hello","input":{"n":1}}`, map[string]string{"Content-Type": "application/json", "Idempotency-Key": "k-1"}},
		{"POST", "/tasks/exec-1%2Fgreet/rerun", "", nil},
		{"GET", "/ui/api/graph/hello.svg", "", nil},
	}
	for i, c := range cases {
		resp, out := send(t, c.method, proxy.URL+c.path, c.body, c.hdr)
		if len(api.received()) != i+1 {
			t.Fatalf("%s %s: %d %s; the API did not accept it", c.method, c.path, resp.StatusCode, out)
		}
		r := api.received()[i]
		var got map[string]string
		_ = json.Unmarshal([]byte(out), &got)
		if resp.StatusCode != http.StatusCreated || got["echo"] != c.method+" "+r.RequestURI {
			t.Fatalf("%s %s: %d %s, want the API's answer", c.method, c.path, resp.StatusCode, out)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: the API's Set-Cookie reached the browser", c.path)
		}
		// The signer puts the query in canonical order; its values stay.
		sentPath, sentQuery, _ := strings.Cut(c.path, "?")
		gotPath, gotQuery, _ := strings.Cut(r.RequestURI, "?")
		sq, _ := url.ParseQuery(sentQuery)
		gq, _ := url.ParseQuery(gotQuery)
		if gotPath != "/prod"+sentPath || !reflect.DeepEqual(sq, gq) || r.Body != c.body {
			t.Errorf("%s %s: API received %s with body %q", c.method, c.path, r.RequestURI, r.Body)
		}
		for k, v := range c.hdr {
			switch k {
			case "Content-Type", "Idempotency-Key":
				if r.Header.Get(k) != v {
					t.Errorf("%s: header %s = %q, want %q", c.path, k, r.Header.Get(k), v)
				}
			case "Cookie", "Origin", "Sec-Fetch-Site":
				if r.Header.Get(k) != "" {
					t.Errorf("%s: the browser's %s header was forwarded", c.path, k)
				}
			case "Authorization":
				if strings.Contains(r.Header.Get(k), "from-the-page") {
					t.Errorf("%s: the browser's Authorization header was forwarded", c.path)
				}
			}
		}
	}
	if n := len(api.received()); n != len(cases) {
		t.Fatalf("API received %d requests, want %d", n, len(cases))
	}
}

func TestServesThePagesLocally(t *testing.T) {
	api, proxy := newProxy(t)
	resp, body := send(t, "GET", proxy.URL+"/ui/", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "/ui/static/app.js") {
		t.Fatalf("GET /ui/: %d %.200s", resp.StatusCode, body)
	}
	if resp, _ := send(t, "GET", proxy.URL+"/ui/static/app.js", "", nil); resp.StatusCode != 200 {
		t.Fatalf("app.js: %d", resp.StatusCode)
	}
	if resp, _ := send(t, "GET", proxy.URL+"/", "", nil); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := len(api.received()); n != 0 {
		t.Fatalf("the pages went to the API: %+v", api.received())
	}
}

func TestRefusesWhatThePageDoesNotCall(t *testing.T) {
	api, proxy := newProxy(t)
	host := strings.TrimPrefix(proxy.URL, "http://")
	cases := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
	}{
		{"a callback", "POST", "/callbacks/some-token", nil, http.StatusNotFound},
		{"an unknown path", "GET", "/admin/secrets", nil, http.StatusNotFound},
		{"a method the route has not", "DELETE", "/executions/exec-1", nil, http.StatusNotFound},
		{"another site's page", "POST", "/executions", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a cross-site fetch", "POST", "/executions/exec-1/cancel", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"a same-site page on another port", "GET", "/executions", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"a rebound host name", "GET", "/executions", map[string]string{"Host": "evil.example:" + strings.Split(host, ":")[1]}, http.StatusForbidden},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, proxy.URL+c.path, nil)
		req.URL.Opaque = c.path // sent as written, not cleaned by the client
		for k, v := range c.hdr {
			req.Header.Set(k, v)
			if k == "Host" {
				req.Host = v
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != c.status || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d with a message", c.name, resp.StatusCode, e, c.status)
		}
	}
	if got := api.received(); len(got) != 0 {
		t.Fatalf("refused requests reached the API: %+v", got)
	}
}

func TestParseAPI(t *testing.T) {
	u, r, err := uiproxy.ParseAPI("https://abc123.execute-api.eu-central-1.amazonaws.com/")
	if err != nil || r != "eu-central-1" || u.String() != "https://abc123.execute-api.eu-central-1.amazonaws.com" {
		t.Fatalf("%v %q %v", u, r, err)
	}
	if _, r, err := uiproxy.ParseAPI("https://flows.example.com/prod"); err != nil || r != "" {
		t.Fatalf("custom domain: %q %v", r, err)
	}
	for _, bad := range []string{"abc123.execute-api.eu-central-1.amazonaws.com", "ftp://x", "https://x/?a=1", ""} {
		if _, _, err := uiproxy.ParseAPI(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	_, err = uiproxy.New(uiproxy.Options{API: "https://flows.example.com", Credentials: testCreds})
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("a custom domain without a region: %v", err)
	}
}
