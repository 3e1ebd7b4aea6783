// Package e2e is Lazyflow's end-to-end tier: tests that drive the whole service as deployed
// from infra/ onto a LocalStack-compatible emulator (localstack/deploy.sh), over the HTTP API,
// exactly as a user would. The tests carry the build tag e2e (go test -tags e2e
// ./localstack/e2e/) because their TestMain starts the emulator and deploys the stack, which
// takes far longer than a unit run.
//
// This file is the client half: the stack outputs deploy.sh writes and a small API client that
// signs requests with SigV4 for the IAM-protected routes, as any AWS user's client must.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Outputs are the deployed stack's outputs, flattened by deploy.sh into outputs.json.
type Outputs struct {
	// Go names; encoding/json matches the outputs' names (ApiId, TaskQueueUrl...) case-insensitively.
	StackName         string
	APIID             string
	APIURL            string
	TableName         string
	BucketName        string
	TaskQueueURL      string
	ResultQueueURL    string
	TaskDLQURL        string
	ResultDLQURL      string
	CallbackSecretARN string
}

// LoadOutputs reads the outputs file deploy.sh writes.
func LoadOutputs(path string) (Outputs, error) {
	var o Outputs
	data, err := os.ReadFile(path)
	if err != nil {
		return o, fmt.Errorf("read stack outputs: %w (run localstack/deploy.sh)", err)
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("decode stack outputs %s: %w", path, err)
	}
	if o.APIID == "" {
		return o, fmt.Errorf("stack outputs %s have no ApiId", path)
	}
	return o, nil
}

// Client calls the deployed Lazyflow API. The emulator serves an HTTP API at
// {endpoint}/_aws/execute-api/{apiId}/{path} (the ApiUrl output names the real cloud's host).
type Client struct {
	Base   string // {endpoint}/_aws/execute-api/{apiId}
	Region string
	Creds  aws.CredentialsProvider
	HTTP   *http.Client
	signer *v4.Signer
}

// NewClient returns a client for the API apiID behind endpoint.
func NewClient(endpoint, apiID, region string, creds aws.CredentialsProvider) *Client {
	return &Client{
		Base:   strings.TrimRight(endpoint, "/") + "/_aws/execute-api/" + apiID,
		Region: region,
		Creds:  creds,
		HTTP:   &http.Client{Timeout: 60 * time.Second},
		signer: v4.NewSigner(),
	}
}

// Response is an API answer: its status and raw body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d response %q: %w", r.Status, truncate(string(r.Body), 300), err)
	}
	return nil
}

func (r *Response) String() string {
	return fmt.Sprintf("HTTP %d %s", r.Status, truncate(string(r.Body), 600))
}

// Do sends method path with body (JSON-encoded unless it is a string or []byte). signed says
// whether to SigV4-sign it: every route but the callbacks requires IAM authorization.
func (c *Client) Do(ctx context.Context, method, path string, body any, signed bool, header http.Header) (*Response, error) {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	case string:
		payload = []byte(b)
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", method, path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if signed {
		creds, err := c.Creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("credentials for signing: %w", err)
		}
		sum := sha256.Sum256(payload)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.Region, time.Now()); err != nil {
			return nil, fmt.Errorf("sign %s %s: %w", method, path, err)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Execution is the API's view of an execution (the fields the suite reads).
type Execution struct {
	ID             string         `json:"id"`
	Workflow       string         `json:"workflow"`
	State          string         `json:"state"`
	StateInfo      string         `json:"state_info"`
	Input          map[string]any `json:"input"`
	Output         any            `json:"output"`
	IdempotencyKey string         `json:"idempotency_key"`
	Tasks          []Task         `json:"tasks"`
}

// Task is the API's view of a task execution.
type Task struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Key       string         `json:"key"`
	State     string         `json:"state"`
	StateInfo string         `json:"state_info"`
	Published map[string]any `json:"published"`
	Result    any            `json:"result"`
	Attempt   int            `json:"attempt"`
	Waiting   string         `json:"waiting_for"`
}

// Terminal reports whether state is final.
func Terminal(state string) bool {
	return state == "SUCCESS" || state == "ERROR" || state == "CANCELLED"
}

// expect checks a response's status and decodes its body into out (when non-nil).
func expect(r *Response, err error, out any, want ...int) error {
	if err != nil {
		return err
	}
	for _, w := range want {
		if r.Status == w {
			if out == nil {
				return nil
			}
			return r.Decode(out)
		}
	}
	return fmt.Errorf("want HTTP %v, got %s", want, r)
}

// RegisterWorkflow registers (or updates) the workflows in a YAML definition.
func (c *Client) RegisterWorkflow(ctx context.Context, yaml string) error {
	r, err := c.Do(ctx, "POST", "/workflows", map[string]string{"definition": yaml}, true, nil)
	if err := expect(r, err, nil, 200, 201); err != nil {
		return fmt.Errorf("register workflow: %w", err)
	}
	return nil
}

// Start starts workflow with input; a non-empty key is sent as Idempotency-Key. It returns the
// execution and the HTTP status (201 created, 200 an existing one for the same key).
func (c *Client) Start(ctx context.Context, workflow string, input map[string]any, key string) (Execution, int, error) {
	var h http.Header
	if key != "" {
		h = http.Header{"Idempotency-Key": {key}}
	}
	var e Execution
	r, err := c.Do(ctx, "POST", "/executions", map[string]any{"workflow": workflow, "input": input}, true, h)
	if err := expect(r, err, &e, 200, 201); err != nil {
		return e, 0, fmt.Errorf("start %s: %w", workflow, err)
	}
	return e, r.Status, nil
}

// Get returns an execution with its tasks.
func (c *Client) Get(ctx context.Context, id string) (Execution, error) {
	var e Execution
	r, err := c.Do(ctx, "GET", "/executions/"+url.PathEscape(id), nil, true, nil)
	if err := expect(r, err, &e, 200); err != nil {
		return e, fmt.Errorf("get execution %s: %w", id, err)
	}
	return e, nil
}

// List returns every execution of workflow (following the cursor), optionally in state.
func (c *Client) List(ctx context.Context, workflow, state string) ([]Execution, error) {
	var all []Execution
	cursor := ""
	for {
		q := url.Values{"workflow": {workflow}, "limit": {"1000"}}
		if state != "" {
			q.Set("state", state)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Executions []Execution `json:"executions"`
			Next       string      `json:"next_cursor"`
		}
		r, err := c.Do(ctx, "GET", "/executions?"+q.Encode(), nil, true, nil)
		if err := expect(r, err, &page, 200); err != nil {
			return nil, fmt.Errorf("list executions of %s: %w", workflow, err)
		}
		all = append(all, page.Executions...)
		if page.Next == "" {
			return all, nil
		}
		cursor = page.Next
	}
}

// Control sends pause, resume or cancel and returns the response as is.
func (c *Client) Control(ctx context.Context, id, op string) (*Response, error) {
	return c.Do(ctx, "POST", "/executions/"+url.PathEscape(id)+"/"+op, nil, true, nil)
}

// Callback posts a delegate action's result to its callback token, unsigned, as a third party
// holding only the URL would.
func (c *Client) Callback(ctx context.Context, token string, body any) (*Response, error) {
	return c.Do(ctx, "POST", "/callbacks/"+token, body, false, nil)
}

// Wait polls an execution until cond holds, ctx ends or timeout passes. Every poll is a Lambda
// invocation on the emulator (a new process), so the interval is not tiny.
func (c *Client) Wait(ctx context.Context, id string, timeout time.Duration, cond func(Execution) bool) (Execution, error) {
	deadline := time.Now().Add(timeout)
	var last Execution
	for {
		e, err := c.Get(ctx, id)
		if err == nil {
			last = e
			if cond(e) {
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return last, fmt.Errorf("waiting for execution %s: %w", id, err)
			}
			return last, fmt.Errorf("execution %s: condition not met after %s; last state %s (%s), tasks %s",
				id, timeout, last.State, last.StateInfo, TaskSummary(last))
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(700 * time.Millisecond):
		}
	}
}

// WaitTerminal waits until the execution is SUCCESS, ERROR or CANCELLED.
func (c *Client) WaitTerminal(ctx context.Context, id string, timeout time.Duration) (Execution, error) {
	return c.Wait(ctx, id, timeout, func(e Execution) bool { return Terminal(e.State) })
}

// TaskSummary lists name=STATE(attempt) for each task, for failure messages.
func TaskSummary(e Execution) string {
	var b strings.Builder
	for i, t := range e.Tasks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s(attempt %d)", t.Key, t.State, t.Attempt)
		if t.StateInfo != "" {
			fmt.Fprintf(&b, "[%s]", truncate(t.StateInfo, 120))
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// TaskByName returns the first task named name.
func (e Execution) TaskByName(name string) (Task, bool) {
	for _, t := range e.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	return Task{}, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
