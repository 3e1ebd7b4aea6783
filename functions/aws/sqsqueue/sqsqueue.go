// Package sqsqueue is queue.Queue over Amazon SQS. The Lambda functions
// receive through event source mappings and only send with it; tests and
// end-to-end harnesses use the receiving side to drive queues by hand.
//
// SQS's limits show through: a delay is capped at 15 minutes (the service
// chains longer timers itself), a long poll waits at most 20 seconds, a
// receive and a batch send carry at most 10 messages, and a body (and a
// batch) is at most 256 KiB.
//
// SQS accepts only some characters in a body. Lazyflow's messages are JSON
// and always qualify, so they travel as they are and a Lambda function reads
// them straight from the event; any other body (control characters, bytes
// that are not UTF-8) travels base64-encoded behind the "b64:" marker, and
// DecodeBody, which Receive and the Lambda adapters use, restores it.
package sqsqueue

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lazyflow/lazyflow/core/queue"
)

// Limits SQS imposes.
const (
	MaxDelay      = 15 * time.Minute
	MaxWait       = 20 * time.Second
	MaxBatch      = 10
	MaxVisibility = 12 * time.Hour
	MaxBody       = 256 << 10
)

// API is the part of the SQS client the queue uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Queue is one SQS queue.
type Queue struct {
	client API
	url    string
}

var _ queue.Queue = (*Queue)(nil)

// New returns the queue at url.
func New(client API, url string) *Queue { return &Queue{client: client, url: url} }

// URL is the queue's URL.
func (q *Queue) URL() string { return q.url }

// ceilSeconds rounds d up to whole seconds within [0, max].
func ceilSeconds(d, max time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	if d > max {
		d = max
	}
	return int32(math.Ceil(d.Seconds()))
}

// Send implements queue.Queue. Delays over 15 minutes are capped: callers
// that need longer chain messages (service.MaxDelay).
func (q *Queue) Send(ctx context.Context, body []byte, delay time.Duration) error {
	if len(body) > MaxBody {
		return fmt.Errorf("sqs send to %s: message of %d bytes exceeds SQS's %d", q.url, len(body), MaxBody)
	}
	text := EncodeBody(body)
	if len(text) > MaxBody {
		return fmt.Errorf("sqs send to %s: encoded message of %d bytes exceeds SQS's %d", q.url, len(text), MaxBody)
	}
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(q.url),
		MessageBody:  aws.String(text),
		DelaySeconds: ceilSeconds(delay, MaxDelay),
	})
	if err != nil {
		return fmt.Errorf("sqs send to %s: %w", q.url, err)
	}
	return nil
}

// SendBatch sends bodies, without delay, with SendMessageBatch: up to 10
// messages and 256 KiB in all per request, so a step that sends several
// actions pays for one request instead of one each. An entry SQS refuses
// is sent once more on its own; the error names those that still failed.
func (q *Queue) SendBatch(ctx context.Context, bodies [][]byte) error {
	var errs []error
	var entries []types.SendMessageBatchRequestEntry
	var texts []string
	size := 0
	flush := func() {
		if len(entries) > 0 {
			errs = append(errs, q.sendEntries(ctx, entries, texts))
		}
		entries, texts, size = nil, nil, 0
	}
	for i, body := range bodies {
		if len(body) > MaxBody {
			errs = append(errs, fmt.Errorf("sqs send to %s: message %d of %d bytes exceeds SQS's %d", q.url, i, len(body), MaxBody))
			continue
		}
		text := EncodeBody(body)
		if len(text) > MaxBody {
			errs = append(errs, fmt.Errorf("sqs send to %s: encoded message %d of %d bytes exceeds SQS's %d", q.url, i, len(text), MaxBody))
			continue
		}
		if len(entries) == MaxBatch || size+len(text) > MaxBody {
			flush()
		}
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(entries))), MessageBody: aws.String(text)})
		texts = append(texts, text)
		size += len(text)
	}
	flush()
	return errors.Join(errs...)
}

// sendEntries sends one batch; texts[i] is entry i's body, for the entries
// SQS refuses, which go again one by one.
func (q *Queue) sendEntries(ctx context.Context, entries []types.SendMessageBatchRequestEntry, texts []string) error {
	out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		return fmt.Errorf("sqs batch send of %d to %s: %w", len(entries), q.url, err)
	}
	var errs []error
	for _, f := range out.Failed {
		i, convErr := strconv.Atoi(aws.ToString(f.Id))
		if convErr != nil || i < 0 || i >= len(texts) {
			errs = append(errs, fmt.Errorf("sqs batch send to %s: unknown failed entry %q", q.url, aws.ToString(f.Id)))
			continue
		}
		_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(texts[i])})
		if err != nil {
			errs = append(errs, fmt.Errorf("sqs send to %s (batch entry refused: %s %s): %w", q.url,
				aws.ToString(f.Code), aws.ToString(f.Message), err))
		}
	}
	return errors.Join(errs...)
}

// Receive implements queue.Queue with long polling (wait rounds up to whole
// seconds, at most 20).
func (q *Queue) Receive(ctx context.Context, n int, wait time.Duration) ([]queue.Message, error) {
	n = min(MaxBatch, max(1, n))
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             ceilSeconds(wait, MaxWait),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("sqs receive from %s: %w", q.url, err)
	}
	msgs := make([]queue.Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs = append(msgs, queue.Message{ID: aws.ToString(m.MessageId), Body: DecodeBody(aws.ToString(m.Body)),
			Receipt: aws.ToString(m.ReceiptHandle), Receives: n})
	}
	return msgs, nil
}

// Delete implements queue.Queue.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	if receipt == "" {
		return errors.New("sqs delete: empty receipt")
	}
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receipt)})
	if err != nil {
		return fmt.Errorf("sqs delete from %s: %w", q.url, err)
	}
	return nil
}

// ChangeVisibility implements queue.Queue (d rounds up to whole seconds, at most 12 hours).
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: aws.String(receipt), VisibilityTimeout: ceilSeconds(d, MaxVisibility)})
	if err != nil {
		return fmt.Errorf("sqs change visibility in %s: %w", q.url, err)
	}
	return nil
}

// marker starts an encoded body. No JSON text starts with it.
const marker = "b64:"

// EncodeBody returns body as SQS can carry it: unchanged when SQS accepts
// every character of it, else base64 behind the marker.
func EncodeBody(body []byte) string {
	if !bytes.HasPrefix(body, []byte(marker)) && sqsText(body) {
		return string(body)
	}
	return marker + base64.StdEncoding.EncodeToString(body)
}

// DecodeBody undoes EncodeBody.
func DecodeBody(text string) []byte {
	if rest, ok := strings.CutPrefix(text, marker); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return b
		}
	}
	return []byte(text)
}

// sqsText reports whether every character is in SQS's allowed set:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func sqsText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}
