package sqsbatch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// An all-success batch answers an empty list, not null: an event source
// that reads null as "no answer" would redeliver every message.
func TestAllSuccessIsEmptyList(t *testing.T) {
	h := Handler("t", func(ctx context.Context, body []byte) error { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp, err := h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: "{}"}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(resp)
	if !strings.Contains(string(raw), `"batchItemFailures":[]`) {
		t.Fatalf("response %s", raw)
	}
	// One failing record is the only one reported.
	h = Handler("t", func(ctx context.Context, body []byte) error {
		if string(body) == "bad" {
			return errors.New("boom")
		}
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp, _ = h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: "ok"}, {MessageId: "2", Body: "bad"}}})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
}
