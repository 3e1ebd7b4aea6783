// Package events_test checks that every sample event in events/ is a
// well-formed event of the kind its folder says, decoded strictly into
// aws-lambda-go's types, so a typo in a sample fails here rather than
// silently in a replay. functions/replay_test.go replays them.
package events_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

func strict(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(fs) == 0 {
		t.Fatalf("no samples in %s: %v", dir, err)
	}
	return fs
}

func TestAPIGatewayV2Samples(t *testing.T) {
	for _, f := range files(t, "api/v2") {
		var ev lambdaevents.APIGatewayV2HTTPRequest
		strict(t, f, &ev)
		if ev.Version != "2.0" || ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" || ev.RequestContext.HTTP.Path != ev.RawPath {
			t.Errorf("%s: not a complete payload 2.0 request", f)
		}
	}
}

func TestAPIGatewayV1Samples(t *testing.T) {
	for _, f := range files(t, "api/v1") {
		var ev lambdaevents.APIGatewayProxyRequest
		strict(t, f, &ev)
		if ev.HTTPMethod == "" || ev.Path == "" || ev.RequestContext.Stage == "" {
			t.Errorf("%s: not a complete REST request", f)
		}
		var probe map[string]any
		raw, _ := os.ReadFile(f)
		_ = json.Unmarshal(raw, &probe)
		if _, ok := probe["version"]; ok {
			t.Errorf("%s: REST events carry no version field", f)
		}
	}
}

func TestSQSSamples(t *testing.T) {
	for _, f := range files(t, "sqs") {
		var ev lambdaevents.SQSEvent
		strict(t, f, &ev)
		if len(ev.Records) != 3 {
			t.Errorf("%s: %d records; each sample batch has three", f, len(ev.Records))
		}
		for _, r := range ev.Records {
			if r.MessageId == "" || r.EventSource != "aws:sqs" || !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:") {
				t.Errorf("%s: incomplete record %+v", f, r)
			}
		}
	}
}
