package service

import (
	"context"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Ack is the acknowledgement of one queue message a host hands to RunTask
// or HandleMessage. With an outbox (UseOutbox), the durable write that
// completes the message's handling deletes the message in its own
// transaction: the runner's result send, or a result step whose commit
// carries everything the step does. The message then comes back exactly
// when that write did not commit, and the host saves a transaction of its
// own. Done tells the host whether it still has to delete the message.
type Ack struct {
	receipt string
	queue   string // set by the handler: the outbox queue the message came from
	done    bool
}

type ackKey struct{}

// Consuming returns ctx carrying the acknowledgement of the message with
// receipt, for the handler that ctx is passed to.
func Consuming(ctx context.Context, receipt string) (context.Context, *Ack) {
	a := &Ack{receipt: receipt}
	return context.WithValue(ctx, ackKey{}, a), a
}

// Done reports whether the message was deleted with the handler's write.
func (a *Ack) Done() bool { return a != nil && a.done }

// arm names the queue of the message ctx consumes, if any, when this
// service commits through an outbox holding it.
func (s *Service) arm(ctx context.Context, queue func(*outbox) string) {
	if a, _ := ctx.Value(ackKey{}).(*Ack); a != nil && s.outbox != nil {
		a.queue = queue(s.outbox)
	}
}

// takeAck returns the armed acknowledgement in ctx, if any, and ctx without
// it: only the write that completes the handling may carry it, never the
// steps that write sets off.
func takeAck(ctx context.Context) (*Ack, context.Context) {
	a, _ := ctx.Value(ackKey{}).(*Ack)
	if a == nil {
		return nil, ctx
	}
	ctx = context.WithValue(ctx, ackKey{}, (*Ack)(nil))
	if a.queue == "" || a.done {
		return nil, ctx
	}
	return a, ctx
}

// outgoing is the deletion a write carries for a.
func (a *Ack) outgoing() store.Outgoing { return store.Outgoing{Queue: a.queue, Receipt: a.receipt} }

// completes reports whether committing p with its messages leaves nothing
// for carryRest to do, so that the commit may acknowledge the message.
func completes(p *engine.Plan, sent *sentWith) bool {
	if p.CheckFinal || sent == nil {
		return false
	}
	for i, c := range p.Commands {
		if carry, _ := sent.carried(i, c); carry {
			return false
		}
	}
	return true
}
