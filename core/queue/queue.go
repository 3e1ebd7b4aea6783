// Package queue defines the message queue Lazyflow's hosts use between the
// API, the engine and the runners, with SQS's semantics: at-least-once
// delivery, a visibility timeout after which an undeleted message comes back,
// delayed messages, and a dead-letter queue after too many receives.
//
// Drivers: Memory (in-process, for `lazyflow run` and tests), the durable
// embedded queue in package boltqueue, and SQS outside core. The suite in
// queuetest runs against each.
package queue

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("queue closed")

// Message is one received message.
type Message struct {
	ID       string
	Body     []byte
	Receipt  string // handle for Delete / ChangeVisibility of this receipt
	Receives int    // how many times it has been received, this one included
}

// Queue is one queue.
type Queue interface {
	// Send enqueues body, visible after delay.
	Send(ctx context.Context, body []byte, delay time.Duration) error
	// Receive returns up to max visible messages, waiting up to wait for one.
	// Received messages are hidden for the visibility timeout.
	Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error)
	// Delete removes a received message for good.
	Delete(ctx context.Context, receipt string) error
	// ChangeVisibility hides a received message for d from now (0: visible now).
	ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error
}
