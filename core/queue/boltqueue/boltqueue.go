// Package boltqueue is a durable queue.Queue over a bbolt file, with SQS's
// semantics: at-least-once delivery, a visibility timeout after which an
// undeleted message comes back, delayed messages, receive counts, and a
// dead-letter queue after too many receives. The local mode uses it so that
// a result or a timer sent before a crash is still delivered after restart.
//
// Layout, per queue name N (several queues may share one file, and the file
// may also hold boltstore's bucket):
//
//	bucket "queue:N"  key: message id (8-byte big-endian sequence)  value: JSON message
//	bucket "due:N"    key: visible-at (8-byte big-endian unix ns) + id  value: empty
//
// The "due" index keeps receive cheap: a cursor from its start meets the
// visible messages first and stops at the first one still hidden. Moving a
// message to the dead-letter queue happens in the same transaction as the
// receive that finds it over the limit, so it is never in both queues or
// in neither.
package boltqueue

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/internal/boltgroup"
	"github.com/lazyflow/lazyflow/core/queue"
)

// Options configures a queue.
type Options struct {
	Visibility  time.Duration // default 30s
	MaxReceives int           // move to DLQ after this many receives (0: never)
	DLQ         string        // name of the dead-letter queue in the same file ("" : dropped)
	Now         func() time.Time
}

// Queue is one named queue in a bbolt file.
type Queue struct {
	db   *bolt.DB
	own  bool
	name string
	opt  Options
	msgs []byte // bucket names
	due  []byte
	n    *notifier
	w    *boltgroup.Writer // shared with the store in the same file
	// closed is closed by Close to wake receivers.
	closed    chan struct{}
	closeOnce sync.Once
}

var _ queue.Queue = (*Queue)(nil)

type record struct {
	Body     []byte `json:"body"`
	Visible  int64  `json:"visible"` // unix ns
	Receives int    `json:"receives"`
	Receipt  string `json:"receipt,omitempty"`
	Sent     int64  `json:"sent"`
}

// Open opens (creating if needed) queue name in the bbolt file at path; the
// queue owns the file and closes it on Close.
func Open(path, name string, opt Options) (*Queue, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open queue file %s: %w", path, err)
	}
	q, err := New(db, name, opt)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	q.own = true
	return q, nil
}

// New returns queue name in an open database (shared with the store or
// other queues); the caller closes db after closing every user of it.
func New(db *bolt.DB, name string, opt Options) (*Queue, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return nil, fmt.Errorf("invalid queue name %q", name)
	}
	if opt.Visibility <= 0 {
		opt.Visibility = 30 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	q := &Queue{db: db, name: name, opt: opt, msgs: []byte("queue:" + name), due: []byte("due:" + name),
		n: notifierFor(db, name), w: boltgroup.For(db), closed: make(chan struct{})}
	names := [][]byte{q.msgs, q.due}
	if opt.DLQ != "" {
		names = append(names, []byte("queue:"+opt.DLQ), []byte("due:"+opt.DLQ))
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range names {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("prepare queue %s: %w", name, err)
	}
	return q, nil
}

// notifiers wake the receivers of a queue name in this process when a
// message is sent to it (bbolt locks the file, so no other process can).
var (
	notifiersMu sync.Mutex
	notifiers   = map[*bolt.DB]map[string]*notifier{}
)

type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func notifierFor(db *bolt.DB, name string) *notifier {
	notifiersMu.Lock()
	defer notifiersMu.Unlock()
	m := notifiers[db]
	if m == nil {
		m = map[string]*notifier{}
		notifiers[db] = m
	}
	n := m[name]
	if n == nil {
		n = &notifier{ch: make(chan struct{})}
		m[name] = n
	}
	return n
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func dueKey(visible int64, id []byte) []byte {
	return append(u64(uint64(max(visible, 0))), id...)
}

func (q *Queue) isClosed() bool {
	select {
	case <-q.closed:
		return true
	default:
		return false
	}
}

// Send implements queue.Queue.
func (q *Queue) Send(ctx context.Context, body []byte, delay time.Duration) error {
	if q.isClosed() {
		return queue.ErrClosed
	}
	if err := q.w.Update(func(tx *bolt.Tx) error {
		return put(tx, q.msgs, q.due, body, q.opt.Now().Add(delay).UnixNano(), q.opt.Now().UnixNano())
	}, q.n.wake); err != nil {
		return fmt.Errorf("send to queue %s: %w", q.name, err)
	}
	return nil
}

// Stage puts a message on queue name inside tx, a write transaction of the
// file that holds the queue, so a store commit can send with its records
// (a transactional outbox). Once tx has committed, call Wake.
func Stage(tx *bolt.Tx, name string, body []byte, delay time.Duration) error {
	msgs, due := []byte("queue:"+name), []byte("due:"+name)
	if tx.Bucket(msgs) == nil || tx.Bucket(due) == nil {
		return fmt.Errorf("no queue %q in %s", name, tx.DB().Path())
	}
	now := time.Now()
	return put(tx, msgs, due, body, now.Add(delay).UnixNano(), now.UnixNano())
}

// Wake tells the receivers of queue name in db that messages were staged.
func Wake(db *bolt.DB, name string) { notifierFor(db, name).wake() }

// Exists reports whether db holds queue name.
func Exists(db *bolt.DB, name string) bool {
	found := false
	_ = db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket([]byte("queue:"+name)) != nil && tx.Bucket([]byte("due:"+name)) != nil
		return nil
	})
	return found
}

func put(tx *bolt.Tx, msgsName, dueName, body []byte, visible, now int64) error {
	msgs, due := tx.Bucket(msgsName), tx.Bucket(dueName)
	seq, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	id := u64(seq)
	raw, err := json.Marshal(record{Body: body, Visible: visible, Sent: now})
	if err != nil {
		return err
	}
	if err := msgs.Put(id, raw); err != nil {
		return err
	}
	return due.Put(dueKey(visible, id), nil)
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]queue.Message, error) {
	if max <= 0 {
		max = 1
	}
	deadline := time.Now().Add(wait)
	for {
		if q.isClosed() {
			return nil, queue.ErrClosed
		}
		woken := q.n.wait()
		// A send wakes every receiver of the queue; a read-only look first
		// keeps those that would find nothing out of the write transactions.
		var (
			out   []queue.Message
			moved bool
		)
		next, visible, err := q.peek()
		if err == nil && visible {
			out, next, moved, err = q.take(max)
		}
		if err != nil {
			return nil, fmt.Errorf("receive from queue %s: %w", q.name, err)
		}
		if moved {
			notifierFor(q.db, q.opt.DLQ).wake()
		}
		if len(out) > 0 {
			return out, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		if next > 0 {
			if d := time.Duration(next - q.opt.Now().UnixNano()); d < left {
				left = d
			}
		}
		t := time.NewTimer(max64(left, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-q.closed:
		case <-woken:
		case <-t.C:
		}
		t.Stop()
	}
}

func max64(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// peek reports, without writing, whether a message is visible, and if not
// when the first hidden one becomes visible (0: none).
func (q *Queue) peek() (next int64, visible bool, err error) {
	err = q.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(q.due).Cursor().First()
		if k == nil {
			return nil
		}
		v := int64(binary.BigEndian.Uint64(k[:8]))
		if visible = v <= q.opt.Now().UnixNano(); !visible {
			next = v
		}
		return nil
	})
	return next, visible, err
}

// take receives up to max visible messages in one transaction. next is when
// the first hidden message becomes visible (0: none).
func (q *Queue) take(max int) (out []queue.Message, next int64, moved bool, err error) {
	err = q.w.Update(func(tx *bolt.Tx) error {
		out, next, moved = nil, 0, false
		msgs, due := tx.Bucket(q.msgs), tx.Bucket(q.due)
		now := q.opt.Now().UnixNano()
		type hit struct{ dk, id []byte }
		var ready []hit
		c := due.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if v := int64(binary.BigEndian.Uint64(k[:8])); v > now {
				next = v
				break
			}
			if len(ready) == max*4+16 {
				break // enough to fill the batch even if some go to the DLQ
			}
			ready = append(ready, hit{append([]byte(nil), k...), append([]byte(nil), k[8:]...)})
		}
		for _, h := range ready {
			if len(out) == max {
				break
			}
			raw := msgs.Get(h.id)
			if err := due.Delete(h.dk); err != nil {
				return err
			}
			if raw == nil {
				continue // index entry of a deleted message
			}
			var r record
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("decode message %x: %w", h.id, err)
			}
			if q.opt.MaxReceives > 0 && r.Receives >= q.opt.MaxReceives {
				if err := msgs.Delete(h.id); err != nil {
					return err
				}
				if q.opt.DLQ != "" {
					if err := put(tx, []byte("queue:"+q.opt.DLQ), []byte("due:"+q.opt.DLQ), r.Body, now, now); err != nil {
						return err
					}
					moved = true
				}
				continue
			}
			r.Receives++
			r.Visible = now + int64(q.opt.Visibility)
			r.Receipt = receipt(h.id)
			enc, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := msgs.Put(h.id, enc); err != nil {
				return err
			}
			if err := due.Put(dueKey(r.Visible, h.id), nil); err != nil {
				return err
			}
			out = append(out, queue.Message{ID: strconv.FormatUint(binary.BigEndian.Uint64(h.id), 10),
				Body: r.Body, Receipt: r.Receipt, Receives: r.Receives})
		}
		return nil
	}, nil)
	return out, next, moved, err
}

// A receipt names the message and this receive of it, so a receipt from an
// earlier receive no longer works (as in SQS).
func receipt(id []byte) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(id) + "." + hex.EncodeToString(b[:])
}

var errStale = errors.New("receipt is not current")

// current loads the message a receipt names, if the receipt is its latest.
func current(tx *bolt.Tx, msgs []byte, rc string) ([]byte, *record, error) {
	idHex, _, ok := strings.Cut(rc, ".")
	id, err := hex.DecodeString(idHex)
	if !ok || err != nil || len(id) != 8 {
		return nil, nil, fmt.Errorf("malformed receipt %q", rc)
	}
	raw := tx.Bucket(msgs).Get(id)
	if raw == nil {
		return id, nil, errStale
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, nil, fmt.Errorf("decode message %x: %w", id, err)
	}
	if r.Receipt != rc {
		return id, nil, errStale
	}
	return id, &r, nil
}

// Delete implements queue.Queue. A stale receipt deletes nothing and is not
// an error, as in SQS.
func (q *Queue) Delete(ctx context.Context, rc string) error {
	if err := q.w.Update(func(tx *bolt.Tx) error { return del(tx, q.msgs, q.due, rc) }, nil); err != nil {
		return fmt.Errorf("delete from queue %s: %w", q.name, err)
	}
	return nil
}

// StageDelete deletes the received message receipt rc names from queue
// name inside tx, a write transaction of the file that holds the queue, so
// a store commit can acknowledge the message it follows from with its
// records. A stale receipt deletes nothing and is not an error, as Delete.
func StageDelete(tx *bolt.Tx, name, rc string) error {
	msgs, due := []byte("queue:"+name), []byte("due:"+name)
	if tx.Bucket(msgs) == nil || tx.Bucket(due) == nil {
		return fmt.Errorf("no queue %q in %s", name, tx.DB().Path())
	}
	return del(tx, msgs, due, rc)
}

func del(tx *bolt.Tx, msgsName, dueName []byte, rc string) error {
	id, r, err := current(tx, msgsName, rc)
	if errors.Is(err, errStale) {
		return nil // nothing to do; not a failure of the group
	}
	if err != nil {
		return err
	}
	if err := tx.Bucket(dueName).Delete(dueKey(r.Visible, id)); err != nil {
		return err
	}
	return tx.Bucket(msgsName).Delete(id)
}

// ChangeVisibility implements queue.Queue.
func (q *Queue) ChangeVisibility(ctx context.Context, rc string, d time.Duration) error {
	err := q.w.Update(func(tx *bolt.Tx) error {
		id, r, err := current(tx, q.msgs, rc)
		if err != nil {
			return err
		}
		due := tx.Bucket(q.due)
		if err := due.Delete(dueKey(r.Visible, id)); err != nil {
			return err
		}
		r.Visible = q.opt.Now().Add(d).UnixNano()
		enc, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := tx.Bucket(q.msgs).Put(id, enc); err != nil {
			return err
		}
		return due.Put(dueKey(r.Visible, id), nil)
	}, nil)
	if err != nil {
		return fmt.Errorf("change visibility in queue %s: %w", q.name, err)
	}
	q.n.wake()
	return nil
}

// Len is the number of messages held, visible or not.
func (q *Queue) Len() (n int, err error) {
	err = q.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(q.msgs).Stats().KeyN
		return nil
	})
	return n, err
}

// Close wakes receivers and refuses further use; it closes the file when
// the queue was made by Open.
func (q *Queue) Close() error {
	var err error
	q.closeOnce.Do(func() {
		close(q.closed)
		if q.own {
			notifiersMu.Lock()
			delete(notifiers, q.db)
			notifiersMu.Unlock()
			boltgroup.Forget(q.db)
			err = q.db.Close()
		}
	})
	return err
}
