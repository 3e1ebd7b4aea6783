// Package cfnworkflows serves the CloudFormation custom resource Custom::LazyflowWorkflows,
// which the infra package's Workflows construct declares, so workflow files are registered
// by the deployment that ships them. The api function receives its events beside API
// Gateway's (IsEvent tells them apart) and already holds the grants registration needs.
//
// Create registers the file; Update registers the new source, then unregisters what only the
// old one held; Delete unregisters it. Unregistering removes a name only while it still holds
// that source (service.Unregister), and running executions go on.
package cfnworkflows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ResourceType is the custom resource's type in the template.
const ResourceType = "Custom::LazyflowWorkflows"

// Registrar is the part of the service the resource uses.
type Registrar interface {
	Register(ctx context.Context, file string, source []byte) ([]string, error)
	Unregister(ctx context.Context, file string, source []byte) ([]string, error)
}

// Properties are the resource's properties: the file's name (for error positions), its text,
// and values for its ${Name} placeholders, which CloudFormation resolves at deploy time (a
// function's name, a queue's URL).
type Properties struct {
	File      string            `json:"File"`
	Source    string            `json:"Source"`
	Variables map[string]string `json:"Variables,omitempty"`
}

// Event is a CloudFormation custom resource request.
type Event struct {
	RequestType           string     `json:"RequestType"`
	ResponseURL           string     `json:"ResponseURL"`
	StackID               string     `json:"StackId"`
	RequestID             string     `json:"RequestId"`
	ResourceType          string     `json:"ResourceType"`
	LogicalResourceID     string     `json:"LogicalResourceId"`
	PhysicalResourceID    string     `json:"PhysicalResourceId"`
	ResourceProperties    Properties `json:"ResourceProperties"`
	OldResourceProperties Properties `json:"OldResourceProperties"`
}

// IsEvent reports whether raw is a CloudFormation custom resource request for this resource
// type rather than an API Gateway event.
func IsEvent(raw json.RawMessage) bool {
	var probe struct {
		RequestType  string `json:"RequestType"`
		ResponseURL  string `json:"ResponseURL"`
		ResourceType string `json:"ResourceType"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.RequestType != "" && probe.ResponseURL != "" &&
		probe.ResourceType == ResourceType
}

// response is what CloudFormation expects at the ResponseURL.
type response struct {
	Status             string            `json:"Status"`
	Reason             string            `json:"Reason,omitempty"`
	PhysicalResourceID string            `json:"PhysicalResourceId"`
	StackID            string            `json:"StackId"`
	RequestID          string            `json:"RequestId"`
	LogicalResourceID  string            `json:"LogicalResourceId"`
	Data               map[string]string `json:"Data,omitempty"`
}

// Physical ids: the resource's own, and the one a failed Create reports.
const (
	physicalPrefix = "lazyflow-workflows:"
	failedPrefix   = "lazyflow-workflows-failed:"
)

// maxReason keeps the response under CloudFormation's 4 KiB limit with room for the ids.
const maxReason = 2048

// Handle carries out one request and reports its outcome to the ResponseURL. It returns an
// error only when that report fails (Lambda then retries the event); a failed registration is
// reported to CloudFormation, which fails the deployment with the reason (the workflow's
// errors at file:line:column) and rolls back.
func Handle(ctx context.Context, r Registrar, raw json.RawMessage, client *http.Client) error {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("decode CloudFormation custom resource event: %w", err)
	}
	resp := response{Status: "SUCCESS", PhysicalResourceID: ev.PhysicalResourceID, StackID: ev.StackID,
		RequestID: ev.RequestID, LogicalResourceID: ev.LogicalResourceID}
	if resp.PhysicalResourceID == "" {
		// Stable across updates, so an update never makes CloudFormation delete the old one.
		resp.PhysicalResourceID = physicalPrefix + ev.LogicalResourceID
	}
	names, err := apply(ctx, r, ev)
	if err != nil {
		if ev.RequestType == "Create" {
			// The rollback's Delete then knows nothing was registered.
			resp.PhysicalResourceID = failedPrefix + ev.LogicalResourceID
		}
		resp.Status, resp.Reason = "FAILED", err.Error()
		if len(resp.Reason) > maxReason {
			resp.Reason = resp.Reason[:maxReason] + "…"
		}
	} else {
		resp.Data = map[string]string{"Workflows": strings.Join(names, ",")}
	}
	return respond(ctx, client, ev.ResponseURL, resp)
}

// apply runs the request against the service and returns the names registered or removed.
func apply(ctx context.Context, r Registrar, ev Event) ([]string, error) {
	p := ev.ResourceProperties
	switch ev.RequestType {
	case "Create":
		return register(ctx, r, p)
	case "Update":
		names, err := register(ctx, r, p)
		if err != nil {
			return nil, err
		}
		old := ev.OldResourceProperties
		if _, err := r.Unregister(ctx, old.File, []byte(old.Expand())); err != nil {
			return names, fmt.Errorf("unregister the previous %s: %w", old.File, err)
		}
		return names, nil
	case "Delete":
		if strings.HasPrefix(ev.PhysicalResourceID, failedPrefix) {
			return nil, nil
		}
		names, err := r.Unregister(ctx, p.File, []byte(p.Expand()))
		if err != nil {
			return names, fmt.Errorf("unregister %s: %w", p.File, err)
		}
		return names, nil
	}
	return nil, fmt.Errorf("custom resource request type %q is not Create, Update or Delete", ev.RequestType)
}

func register(ctx context.Context, r Registrar, p Properties) ([]string, error) {
	if p.File == "" || p.Source == "" {
		return nil, fmt.Errorf("%s needs the properties File and Source", ResourceType)
	}
	names, err := r.Register(ctx, p.File, []byte(p.Expand()))
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", p.File, err)
	}
	return names, nil
}

// Expand replaces each ${Name} of Variables in the source with its value.
func (p Properties) Expand() string {
	s := p.Source
	for k, v := range p.Variables {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

// respond PUTs the outcome to the pre-signed ResponseURL. The URL was signed without a
// content type, so the request must carry none.
func respond(ctx context.Context, client *http.Client, url string, resp response) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode custom resource response: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("custom resource ResponseURL: %w", err)
	}
	req.Header.Del("Content-Type")
	req.ContentLength = int64(len(body))
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("send custom resource response: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("send custom resource response: ResponseURL answered %s", res.Status)
	}
	return nil
}
