// Package boltgroup group-commits the write transactions of everything that
// shares one bbolt file: the store's commits and the queues' sends,
// receives and deletes. A durable bbolt commit costs an fsync, which is most
// of its time; while one group commits, the calls that arrive wait, and the
// next bbolt transaction runs them all, one after another, and commits (and
// fsyncs) once. A call returns only after its group is durable, so nothing
// is acknowledged before it is on disk. A lone caller commits at once: the
// group is formed by the calls that arrive while the previous one commits,
// never by waiting for more.
package boltgroup

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Writer runs the write transactions of one bbolt file.
type Writer struct {
	db *bolt.DB

	mu      sync.Mutex
	busy    bool    // a group is committing
	pending []*call // waiting for the next group
	groups  int     // bbolt transactions committed
	calls   int     // calls committed in them
}

type call struct {
	fn    func(*bolt.Tx) error
	after func() // run once the group is durable, if fn succeeded
	err   error
	done  chan bool // false: finished (err is set); true: lead the next group
}

var (
	writersMu sync.Mutex
	writers   = map[*bolt.DB]*Writer{}
)

// For returns the writer of db, the same one for every caller in this
// process, so that the store and the queues in one file share groups.
func For(db *bolt.DB) *Writer {
	writersMu.Lock()
	defer writersMu.Unlock()
	w := writers[db]
	if w == nil {
		w = &Writer{db: db}
		writers[db] = w
	}
	return w
}

// Forget drops db's writer; callers call it when they close db.
func Forget(db *bolt.DB) {
	writersMu.Lock()
	defer writersMu.Unlock()
	delete(writers, db)
}

// Stats reports how many bbolt transactions committed and how many calls
// they carried.
func (w *Writer) Stats() (groups, calls int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.groups, w.calls
}

// Update runs fn in a durable write transaction, possibly shared with other
// calls, and returns once that transaction has committed (or failed).
//
// When fn returns an error, the group's transaction is rolled back (with
// fn's partial writes) and each of its calls runs again in a transaction of
// its own, so one call's failure never fails another (fn may thus run
// twice, as with bbolt's Batch). A call that expects to fail now and then
// (a conflict) avoids that cost by staging its writes until it knows it
// succeeds and reporting its failure itself, returning nil. after, if not nil, runs once the transaction
// is durable and fn succeeded, before Update returns.
func (w *Writer) Update(fn func(*bolt.Tx) error, after func()) error {
	c := &call{fn: fn, after: after, done: make(chan bool, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, c)
	lead := !w.busy
	w.busy = true
	w.mu.Unlock()
	if !lead && !<-c.done {
		return c.err
	}
	w.mu.Lock()
	group := w.pending
	w.pending = nil
	w.mu.Unlock()
	w.commit(group)
	for _, g := range group {
		if g != c {
			g.done <- false
		}
	}
	w.mu.Lock()
	if len(w.pending) > 0 {
		next := w.pending[0]
		w.mu.Unlock()
		next.done <- true // busy stays set: leadership passes on
	} else {
		w.busy = false
		w.mu.Unlock()
	}
	return c.err
}

// errCall marks a call's own failure inside a group transaction.
var errCall = errors.New("a call of the group failed")

// commit runs a group in one bbolt transaction; if a call fails, it runs
// each call alone.
func (w *Writer) commit(group []*call) {
	err := w.db.Update(func(tx *bolt.Tx) error {
		for _, c := range group {
			if c.err = run(c.fn, tx); c.err != nil {
				return errCall
			}
		}
		return nil
	})
	if errors.Is(err, errCall) && len(group) > 1 {
		for _, c := range group {
			w.commit([]*call{c})
		}
		return
	}
	w.mu.Lock()
	w.groups++
	if err == nil {
		w.calls += len(group)
	}
	w.mu.Unlock()
	for _, c := range group {
		switch {
		case err == nil:
			if c.after != nil {
				c.after()
			}
		case c.err == nil:
			c.err = err // bbolt itself failed: disk full, closed file
		}
	}
}

// run calls fn, turning a panic into that call's error: the leader runs
// other callers' functions, and one bad call must not strand the rest.
func run(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("transaction panicked: %v", r)
		}
	}()
	return fn(tx)
}
