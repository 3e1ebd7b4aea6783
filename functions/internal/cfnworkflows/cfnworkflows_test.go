package cfnworkflows

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
)

// newHost is the service as the api function runs it: with the AWS actions in its catalogue.
func newHost(t *testing.T) *embedded.Host {
	reg := actions.New()
	awsactions.Register(reg, awsactions.Clients{})
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory(), Actions: reg})
	t.Cleanup(h.Close)
	return h
}

// cfn stands in for CloudFormation: it records what each request PUT to its ResponseURL.
type cfn struct {
	srv  *httptest.Server
	got  []response
	ctyp []string
}

func newCFN(t *testing.T) *cfn {
	c := &cfn{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var resp response
		if r.Method != http.MethodPut || json.Unmarshal(b, &resp) != nil {
			http.Error(w, "want a PUT of a JSON response", http.StatusBadRequest)
			return
		}
		c.got = append(c.got, resp)
		c.ctyp = append(c.ctyp, r.Header.Get("Content-Type"))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// send delivers one request and returns CloudFormation's view of the outcome.
func (c *cfn) send(t *testing.T, r Registrar, ev Event) response {
	t.Helper()
	ev.ResponseURL, ev.ResourceType, ev.StackID, ev.RequestID = c.srv.URL+"/signed", ResourceType, "stack-1", "req-1"
	if ev.LogicalResourceID == "" {
		ev.LogicalResourceID = "ShopWorkflows"
	}
	raw, _ := json.Marshal(ev)
	if !IsEvent(raw) {
		t.Fatalf("IsEvent(%s) = false", raw)
	}
	if err := Handle(context.Background(), r, raw, c.srv.Client()); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if c.ctyp[len(c.ctyp)-1] != "" {
		t.Errorf("response sent with Content-Type %q; the pre-signed URL allows none", c.ctyp[len(c.ctyp)-1])
	}
	return c.got[len(c.got)-1]
}

const shopV1 = `version: '2.0'
order:
  tasks:
    charge:
      action: aws.lambda.invoke function_name=${ChargeFunction}
refund:
  tasks:
    t:
      action: std.noop
`

const shopV2 = `version: '2.0'
order:
  tasks:
    charge:
      action: aws.lambda.invoke function_name=${ChargeFunction}
`

func TestCreateUpdateDeleteRegisterAndUnregister(t *testing.T) {
	h := newHost(t)
	ctx := context.Background()
	c := newCFN(t)
	vars := map[string]string{"ChargeFunction": "shop-charge"}

	resp := c.send(t, h, Event{RequestType: "Create", ResourceProperties: Properties{File: "shop.yaml", Source: shopV1, Variables: vars}})
	if resp.Status != "SUCCESS" || resp.PhysicalResourceID != "lazyflow-workflows:ShopWorkflows" || resp.Data["Workflows"] != "order,refund" {
		t.Fatalf("create: %+v", resp)
	}
	d, err := h.Store.Definition(ctx, "order")
	if err != nil || !strings.Contains(d.Source, "function_name=shop-charge") {
		t.Fatalf("order after create: %v %v; want the source with ${ChargeFunction} replaced", d, err)
	}

	resp = c.send(t, h, Event{RequestType: "Update", PhysicalResourceID: resp.PhysicalResourceID,
		ResourceProperties:    Properties{File: "shop.yaml", Source: shopV2, Variables: vars},
		OldResourceProperties: Properties{File: "shop.yaml", Source: shopV1, Variables: vars}})
	if resp.Status != "SUCCESS" || resp.PhysicalResourceID != "lazyflow-workflows:ShopWorkflows" {
		t.Fatalf("update: %+v", resp)
	}
	if _, err := h.Store.Definition(ctx, "refund"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refund, dropped from the file, is still registered after the update: %v", err)
	}
	if d, err := h.Store.Definition(ctx, "order"); err != nil || strings.Contains(d.Source, "refund") {
		t.Errorf("order after update: %v %v, want the new source", d, err)
	}

	resp = c.send(t, h, Event{RequestType: "Delete", PhysicalResourceID: resp.PhysicalResourceID,
		ResourceProperties: Properties{File: "shop.yaml", Source: shopV2, Variables: vars}})
	if resp.Status != "SUCCESS" {
		t.Fatalf("delete: %+v", resp)
	}
	if _, err := h.Store.Definition(ctx, "order"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("order is still registered after the delete: %v", err)
	}
}

// A broken file fails the deployment with its errors at file:line, and the rollback's Delete
// of the resource that never registered anything succeeds, so the stack does not get stuck.
func TestBrokenWorkflowFailsAndRollsBack(t *testing.T) {
	h := newHost(t)
	c := newCFN(t)
	broken := Properties{File: "broken.yaml", Source: "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n      on-success: [missing]\n"}
	resp := c.send(t, h, Event{RequestType: "Create", ResourceProperties: broken})
	if resp.Status != "FAILED" || !strings.Contains(resp.Reason, "broken.yaml:6:") || !strings.Contains(resp.Reason, "missing") {
		t.Fatalf("create of a broken file: %+v, want FAILED naming broken.yaml:6 and the missing task", resp)
	}
	resp = c.send(t, h, Event{RequestType: "Delete", PhysicalResourceID: resp.PhysicalResourceID, ResourceProperties: broken})
	if resp.Status != "SUCCESS" {
		t.Fatalf("rollback delete: %+v, want SUCCESS", resp)
	}
}

func TestIsEventTellsCustomResourcesFromAPIGateway(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"version":"2.0","rawPath":"/workflows","requestContext":{"http":{"method":"GET"}}}`:                false,
		`{"RequestType":"Create","ResponseURL":"https://x","ResourceType":"Custom::LazyflowWorkflows"}`:      true,
		`{"RequestType":"Create","ResponseURL":"https://x","ResourceType":"Custom::SomethingElse"}`:          false,
		`{"RequestType":"Create","ResourceType":"Custom::LazyflowWorkflows","body":"not a custom resource"}`: false,
	} {
		if got := IsEvent(json.RawMessage(raw)); got != want {
			t.Errorf("IsEvent(%s) = %v, want %v", raw, got, want)
		}
	}
}
