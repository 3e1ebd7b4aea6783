package awsactions

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lazyflow/lazyflow/core/value"
)

// text is a message body: a string as it is, any other value as JSON.
func text(action string, in map[string]any, name string) (string, error) {
	v, ok := in[name]
	if !ok || v == nil {
		return "", fmt.Errorf("%s: %s is required", action, name)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%s: %s cannot be encoded as JSON: %w", action, name, err)
	}
	return string(b), nil
}

// attribute is one message attribute: a string is String, a number Number.
type attribute struct{ dataType, value string }

func attributes(action string, in map[string]any) (map[string]attribute, error) {
	v, ok := in["message_attributes"]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := value.AsGoMap(v)
	if !ok {
		return nil, fmt.Errorf("%s: message_attributes must be an object of names to strings or numbers, not %s", action, value.TypeName(v))
	}
	out := map[string]attribute{}
	for k, a := range m {
		switch x := value.Normalize(a).(type) {
		case string:
			out[k] = attribute{"String", x}
		case int64, float64:
			out[k] = attribute{"Number", value.String(x)}
		default:
			return nil, fmt.Errorf("%s: message_attributes.%s must be a string or a number, not %s", action, k, value.TypeName(a))
		}
	}
	return out, nil
}

// sqsSendMessage is aws.sqs.send_message: queue_url, message_body (a
// string, or any value sent as JSON), delay_seconds, message_attributes,
// message_group_id and message_deduplication_id (FIFO queues). Its result
// is {message_id, sequence_number}.
func (c Clients) sqsSendMessage(ctx context.Context, in map[string]any) (any, error) {
	const action = SQSSendMessage
	q, err := required(action, in, "queue_url")
	if err != nil {
		return nil, err
	}
	body, err := text(action, in, "message_body")
	if err != nil {
		return nil, err
	}
	group, dedup, err := fifo(action, in)
	if err != nil {
		return nil, err
	}
	req := &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(body),
		MessageGroupId: optional(group), MessageDeduplicationId: optional(dedup)}
	if d, ok := in["delay_seconds"]; ok && d != nil {
		n, ok := value.Normalize(d).(int64)
		if !ok || n < 0 || n > 900 {
			return nil, fmt.Errorf("%s: delay_seconds must be a whole number from 0 to 900, not %v", action, d)
		}
		req.DelaySeconds = int32(n)
	}
	attrs, err := attributes(action, in)
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		req.MessageAttributes = map[string]sqstypes.MessageAttributeValue{}
		for k, a := range attrs {
			req.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String(a.dataType), StringValue: aws.String(a.value)}
		}
	}
	out, err := c.SQS.SendMessage(ctx, req)
	if err != nil {
		return nil, awsError(action, err)
	}
	return map[string]any{"message_id": aws.ToString(out.MessageId), "sequence_number": aws.ToString(out.SequenceNumber)}, nil
}

func fifo(action string, in map[string]any) (group, dedup string, err error) {
	if group, err = str(action, in, "message_group_id"); err != nil {
		return "", "", err
	}
	dedup, err = str(action, in, "message_deduplication_id")
	return group, dedup, err
}

// snsPublish is aws.sns.publish: topic_arn, message (a string, or any
// value sent as JSON), subject, message_attributes, message_group_id and
// message_deduplication_id (FIFO topics). Its result is {message_id,
// sequence_number}.
func (c Clients) snsPublish(ctx context.Context, in map[string]any) (any, error) {
	const action = SNSPublish
	topic, err := required(action, in, "topic_arn")
	if err != nil {
		return nil, err
	}
	msg, err := text(action, in, "message")
	if err != nil {
		return nil, err
	}
	subject, err := str(action, in, "subject")
	if err != nil {
		return nil, err
	}
	group, dedup, err := fifo(action, in)
	if err != nil {
		return nil, err
	}
	req := &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(msg), Subject: optional(subject),
		MessageGroupId: optional(group), MessageDeduplicationId: optional(dedup)}
	attrs, err := attributes(action, in)
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		req.MessageAttributes = map[string]snstypes.MessageAttributeValue{}
		for k, a := range attrs {
			req.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String(a.dataType), StringValue: aws.String(a.value)}
		}
	}
	out, err := c.SNS.Publish(ctx, req)
	if err != nil {
		return nil, awsError(action, err)
	}
	return map[string]any{"message_id": aws.ToString(out.MessageId), "sequence_number": aws.ToString(out.SequenceNumber)}, nil
}

// maxEvents is EventBridge's limit of entries in one PutEvents call.
const maxEvents = 10

// eventsPutEvents is aws.events.put_events: entries, a list of 1 to 10
// objects {source, detail_type, detail (any value, sent as JSON),
// event_bus_name, resources}. Its result is {event_ids}; when EventBridge
// refuses some entries the task fails naming each refused entry with its
// error code and message (the others were sent).
func (c Clients) eventsPutEvents(ctx context.Context, in map[string]any) (any, error) {
	const action = EventsPutEvents
	list, ok := in["entries"].([]any)
	if !ok || len(list) == 0 || len(list) > maxEvents {
		return nil, fmt.Errorf("%s: entries must be a list of 1 to %d events", action, maxEvents)
	}
	req := &eventbridge.PutEventsInput{}
	for i, e := range list {
		entry, err := eventEntry(action, i, e)
		if err != nil {
			return nil, err
		}
		req.Entries = append(req.Entries, entry)
	}
	out, err := c.Events.PutEvents(ctx, req)
	if err != nil {
		return nil, awsError(action, err)
	}
	ids := make([]any, len(out.Entries))
	var failed []string
	for i, e := range out.Entries {
		ids[i] = aws.ToString(e.EventId)
		if e.ErrorCode != nil {
			failed = append(failed, fmt.Sprintf("entries[%d]: %s: %s", i, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)))
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return nil, fmt.Errorf("%s: %d of %d events refused: %v", action, len(failed), len(list), failed)
	}
	return map[string]any{"event_ids": ids}, nil
}

var entryFields = map[string]bool{"source": true, "detail_type": true, "detail": true, "event_bus_name": true, "resources": true}

func eventEntry(action string, i int, e any) (ebtypes.PutEventsRequestEntry, error) {
	m, ok := value.AsGoMap(e)
	if !ok {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s: entries[%d] must be an object, not %s", action, i, value.TypeName(e))
	}
	for k := range m {
		if !entryFields[k] {
			return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s: entries[%d] has %q; an event takes source, detail_type, detail, event_bus_name and resources", action, i, k)
		}
	}
	field := fmt.Sprintf("entries[%d].", i)
	src, err := required(action, m, "source")
	if err != nil {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s (%s)", err, field+"source")
	}
	dt, err := required(action, m, "detail_type")
	if err != nil {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s (%s)", err, field+"detail_type")
	}
	bus, err := str(action, m, "event_bus_name")
	if err != nil {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s (%s)", err, field+"event_bus_name")
	}
	detail := "{}"
	if d, ok := m["detail"]; ok && d != nil {
		if detail, err = text(action, m, "detail"); err != nil {
			return ebtypes.PutEventsRequestEntry{}, err
		}
	}
	entry := ebtypes.PutEventsRequestEntry{Source: aws.String(src), DetailType: aws.String(dt), Detail: aws.String(detail),
		EventBusName: optional(bus)}
	if r, ok := m["resources"]; ok && r != nil {
		rs, ok := r.([]any)
		if !ok {
			return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s: %sresources must be a list of ARNs", action, field)
		}
		for _, x := range rs {
			s, ok := x.(string)
			if !ok {
				return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("%s: %sresources must be a list of ARNs", action, field)
			}
			entry.Resources = append(entry.Resources, s)
		}
	}
	return entry, nil
}
