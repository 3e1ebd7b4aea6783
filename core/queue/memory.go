package queue

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// MemoryOptions configures a Memory queue.
type MemoryOptions struct {
	Visibility  time.Duration // default 30s
	MaxReceives int           // move to DLQ after this many receives (0: never)
	DLQ         *Memory       // where such messages go (nil: dropped)
	Now         func() time.Time
}

// Memory is an in-process queue with SQS's semantics.
type Memory struct {
	opt    MemoryOptions
	mu     sync.Mutex
	cond   chan struct{} // closed and replaced when something may have become visible
	msgs   map[string]*memMsg
	seq    int64
	closed bool
}

type memMsg struct {
	id       string
	body     []byte
	visible  time.Time
	receives int
	receipt  string
	seq      int64
}

// NewMemory returns an empty queue.
func NewMemory(opt MemoryOptions) *Memory {
	if opt.Visibility <= 0 {
		opt.Visibility = 30 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Memory{opt: opt, msgs: map[string]*memMsg{}, cond: make(chan struct{})}
}

func (q *Memory) wake() {
	close(q.cond)
	q.cond = make(chan struct{})
}

// Send implements Queue.
func (q *Memory) Send(ctx context.Context, body []byte, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	q.seq++
	id := strconv.FormatInt(q.seq, 10)
	q.msgs[id] = &memMsg{id: id, body: append([]byte(nil), body...), visible: q.opt.Now().Add(delay), seq: q.seq}
	q.wake()
	return nil
}

// Receive implements Queue.
func (q *Memory) Receive(ctx context.Context, max int, wait time.Duration) ([]Message, error) {
	deadline := time.Now().Add(wait)
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrClosed
		}
		out, next := q.take(max)
		ch := q.cond
		q.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if !next.IsZero() {
			if d := next.Sub(q.opt.Now()); d < left {
				left = d
			}
		}
		if left < time.Millisecond {
			left = time.Millisecond
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// take returns visible messages (oldest first) and the next time one becomes visible.
func (q *Memory) take(max int) ([]Message, time.Time) {
	now := q.opt.Now()
	var ready []*memMsg
	var next time.Time
	for _, m := range q.msgs {
		if !m.visible.After(now) {
			ready = append(ready, m)
		} else if next.IsZero() || m.visible.Before(next) {
			next = m.visible
		}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].seq < ready[j].seq })
	var out []Message
	for _, m := range ready {
		if len(out) == max {
			break
		}
		if q.opt.MaxReceives > 0 && m.receives >= q.opt.MaxReceives {
			delete(q.msgs, m.id)
			if q.opt.DLQ != nil {
				_ = q.opt.DLQ.Send(context.Background(), m.body, 0)
			}
			continue
		}
		m.receives++
		q.seq++
		m.receipt = fmt.Sprintf("%s-%d", m.id, q.seq)
		m.visible = now.Add(q.opt.Visibility)
		out = append(out, Message{ID: m.id, Body: m.body, Receipt: m.receipt, Receives: m.receives})
	}
	return out, next
}

func (q *Memory) byReceipt(receipt string) *memMsg {
	for _, m := range q.msgs {
		if m.receipt == receipt {
			return m
		}
	}
	return nil
}

// Delete implements Queue. Deleting with a stale receipt does nothing, as in SQS.
func (q *Memory) Delete(ctx context.Context, receipt string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if m := q.byReceipt(receipt); m != nil {
		delete(q.msgs, m.id)
	}
	return nil
}

// ChangeVisibility implements Queue.
func (q *Memory) ChangeVisibility(ctx context.Context, receipt string, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.byReceipt(receipt)
	if m == nil {
		return fmt.Errorf("receipt %s is not current", receipt)
	}
	m.visible = q.opt.Now().Add(d)
	q.wake()
	return nil
}

// Len is the number of messages held, visible or not.
func (q *Memory) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// Close wakes receivers and refuses further use.
func (q *Memory) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.wake()
	}
	return nil
}
