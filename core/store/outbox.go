package store

import (
	"context"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
)

// Outgoing is a message a step sends, to a queue that lives in the store's
// own database (the embedded host's bbolt file holds the store and its
// queues), or, with Receipt set, the acknowledgement of a message the step
// consumed from such a queue: the message is deleted in the transaction
// that commits what handling it produced, so it is redelivered exactly
// when that did not commit. A stale receipt deletes nothing.
type Outgoing struct {
	Queue   string // the queue's name in the store's database
	Body    []byte
	Delay   time.Duration
	Receipt string // delete this received message instead of sending Body
}

// Outbox is a store that commits a step's messages in the transaction that
// commits its records (a transactional outbox): both are durable together
// or neither is, and a message is visible to its consumer only once the
// records it follows from are. Hosts whose queues are elsewhere (SQS, the
// memory queues) send after Commit, and recovery re-sends what a crash
// between the two lost.
type Outbox interface {
	// CommitSending is Commit that also sends msgs: on ErrConflict (or any
	// error) nothing is written and nothing is sent.
	CommitSending(ctx context.Context, ops []engine.Op, msgs []Outgoing) error
	// CanSend reports whether the store's database holds queue.
	CanSend(queue string) bool
}
