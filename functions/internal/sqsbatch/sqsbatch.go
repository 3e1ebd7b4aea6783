// Package sqsbatch turns a per-message handler into a Lambda handler for an
// SQS event source mapping with ReportBatchItemFailures: each record is
// handled once, and only the records that failed are reported, so one bad
// message never makes SQS redeliver (and re-run) the others.
package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/functions/aws/sqsqueue"
)

// Handle is what runs one message body.
type Handle func(ctx context.Context, body []byte) error

// Reserve is how much of the invocation's remaining time is kept back: a
// record is not started with less left, so it is reported as failed (and
// redelivered) instead of being cut off half-way.
const Reserve = 2 * time.Second

// Handler returns the Lambda handler over handle. A poison message
// (service.ErrPoison) is reported as failed too: SQS then moves it to the
// dead-letter queue after maxReceiveCount receives, where the dlq function
// deals with it, instead of it vanishing here.
func Handler(name string, handle Handle, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		// An empty list, never null: an event source that reads null as
		// "no answer" deletes nothing and redelivers the whole batch.
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		for _, rec := range ev.Records {
			l := log.With("function", name, "message_id", rec.MessageId, "receives", rec.Attributes["ApproximateReceiveCount"])
			if d, ok := ctx.Deadline(); ok && time.Until(d) < Reserve {
				l.Warn("not enough time left; message left for redelivery")
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				continue
			}
			if err := run(ctx, handle, sqsqueue.DecodeBody(rec.Body)); err != nil {
				switch {
				case errors.Is(err, service.ErrGone):
					// Routine after a crash: the message's work has ended.
					l.Info("message about ended work; it will reach the dead-letter queue", "err", err)
				case errors.Is(err, service.ErrPoison):
					l.Error("unprocessable message; it will reach the dead-letter queue", "err", err, "body", truncate(rec.Body, 300))
				default:
					l.Warn("message failed; it will be redelivered", "err", err)
				}
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			}
		}
		return resp, nil
	}
}

// run calls handle, turning a panic into an error so it fails one record,
// not the whole batch.
func run(ctx context.Context, handle Handle, body []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic handling message: %v\n%s", p, debug.Stack())
		}
	}()
	return handle(ctx, body)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
