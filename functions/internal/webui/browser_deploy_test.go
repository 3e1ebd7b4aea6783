package webui_test

// The UI of a deployed stack, in Chromium: opened straight from API Gateway
// (pages public, data routes refusing unsigned calls) and through
// `lazyflow ui`'s signing proxy.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/chromedp/chromedp"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/functions/internal/webui"
	"github.com/lazyflow/lazyflow/functions/uiproxy"
)

type noDefinitions struct{}

func (noDefinitions) Definition(ctx context.Context, name string) (*engine.Definition, error) {
	return nil, nil
}

// TestBrowserUnsignedOnAPIGateway serves the pages as the api function does
// behind API Gateway, whose IAM authorizer answers every unsigned data call
// with 403 {"message":"Forbidden"}: the page says how to open it instead.
func TestBrowserUnsignedOnAPIGateway(t *testing.T) {
	iam := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Forbidden"}`)
	})
	gw := httptest.NewServer(webui.Mount(iam, noDefinitions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer gw.Close()
	p := browser(t)
	p.do("open /ui/", chromedp.Navigate(gw.URL+"/ui/"), chromedp.WaitVisible(css(`#app[data-ready="error"] .errors`)))
	msg := get(p, "error", chromedp.Text(css("#app .errors")))
	if !strings.Contains(msg, "lazyflow ui --api "+gw.URL) || !strings.Contains(msg, "SigV4") {
		t.Fatalf("the page does not say how to open a deployed stack's UI: %q", msg)
	}
}

// TestBrowserThroughSigningProxy opens the UI through `lazyflow ui`'s proxy
// in front of a real server: the list, the graph and a pause all work.
func TestBrowserThroughSigningProxy(t *testing.T) {
	s := startServer(t)
	if code := s.call(t, "POST", "/workflows", "text/yaml", demoWorkflows, nil); code != http.StatusOK {
		t.Fatalf("register: HTTP %d", code)
	}
	running := s.start(t, "ui_demo", `{}`)
	h, err := uiproxy.New(uiproxy.Options{API: s.base, Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(h)
	defer proxy.Close()

	p := browser(t)
	p.open(proxy.URL, "/")
	p.do("executions listed", chromedp.WaitVisible(css(`#executions tr[data-id="`+running+`"]`)))
	p.open(proxy.URL, "/ui/executions/"+running)
	p.do("graph drawn", chromedp.WaitVisible(css(`svg g[data-task="wait_approval"]`)))
	p.do("pause", chromedp.Click(css("#pause")), chromedp.WaitVisible(css(`#exec-state [data-state="PAUSED"]`)))
	s.waitState(t, running, "PAUSED")
}
