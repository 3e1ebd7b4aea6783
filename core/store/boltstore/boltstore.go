// Package boltstore is Lazyflow's durable embedded store: the conditional
// rules of package kvstore over a single bbolt file, so the local mode keeps
// its executions across restarts with no server to run.
//
// Layout: one bucket, "records"; a record's key is its partition key, a NUL
// byte and its sort key (kvstore's layout). NUL sorts before every other
// byte, so the records of one partition are contiguous and in sort-key
// order, and a prefix scan is a cursor seek. A bbolt read-write transaction
// is serialised and atomic, which is all kvstore needs for its commits.
//
// The file may also hold other buckets (boltqueue shares it): see OpenDB.
package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lazyflow/lazyflow/core/internal/boltgroup"
	"github.com/lazyflow/lazyflow/core/queue/boltqueue"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

var bucket = []byte("records")

// Open opens (creating if needed) the store in the bbolt file at path. The
// file is locked: a second process opening it waits up to 5 seconds, then
// fails.
func Open(path string) (*kvstore.Store, error) {
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	s, err := New(db, true)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB opens a bbolt file with the options the Lazyflow drivers expect, for
// callers that share one file between the store and the queue.
func OpenDB(path string) (*bolt.DB, error) {
	// The freelist is rebuilt on open instead of written on every commit:
	// less to write per commit, and no durability lost (bbolt's own advice).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open store file %s: %w: %v", path, store.ErrUnavailable, err)
	}
	return db, nil
}

// CloseDB closes a database opened with OpenDB, after every user of it,
// and drops its group-commit writer.
func CloseDB(db *bolt.DB) error {
	boltgroup.Forget(db)
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store file: %w", err)
	}
	return nil
}

// New returns a store over an open database. With own set, closing the
// store closes db; otherwise the caller closes it (after every user of it).
func New(db *bolt.DB, own bool) (*kvstore.Store, error) {
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("prepare store bucket in %s: %w", db.Path(), err)
	}
	return kvstore.New(newBackend(db, own)), nil
}

// backend runs kvstore's transactions over bbolt. Read-write transactions
// go through the file's group-commit writer (package boltgroup), which they
// share with the queues in the same file, so concurrent store commits and
// queue operations are committed, and fsynced, together. Each call's writes
// are staged in its own overlay and reach the bbolt transaction only if the
// call succeeds, so a call that fails (a conflict) leaves no trace and does
// not fail the others: the group is equivalent to running its calls one by
// one. A lone caller commits at once.
type backend struct {
	db  *bolt.DB
	own bool
	w   *boltgroup.Writer
}

func newBackend(db *bolt.DB, own bool) *backend {
	return &backend{db: db, own: own, w: boltgroup.For(db)}
}

func key(pk, sk string) []byte {
	k := make([]byte, 0, len(pk)+1+len(sk))
	k = append(k, pk...)
	k = append(k, 0)
	return append(k, sk...)
}

type tx struct{ b *bolt.Bucket }

func (t tx) Get(pk, sk string) (any, error) {
	v := t.b.Get(key(pk, sk))
	if v == nil {
		return nil, nil
	}
	// bbolt's slices are valid only inside the transaction.
	return append([]byte(nil), v...), nil
}

func (t tx) Put(pk, sk string, v any) error {
	return errors.New("write in a read-only transaction")
}

func (t tx) Delete(pk, sk string) error {
	return errors.New("delete in a read-only transaction")
}

func (t tx) Scan(pk, prefix string, fn func(sk string, v any) error) error {
	p := key(pk, prefix)
	skAt := len(pk) + 1
	c := t.b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if err := fn(string(k[skAt:]), append([]byte(nil), v...)); err != nil {
			return err
		}
	}
	return nil
}

// overlay is one call's view inside a group: the bbolt transaction (with
// the writes of the calls before it) plus its own staged writes.
type overlay struct {
	tx
	writes map[string][]byte // by bbolt key; nil: deleted
}

func (o *overlay) Get(pk, sk string) (any, error) {
	if v, ok := o.writes[string(key(pk, sk))]; ok {
		if v == nil {
			return nil, nil
		}
		return append([]byte(nil), v...), nil
	}
	return o.tx.Get(pk, sk)
}

func (o *overlay) Delete(pk, sk string) error {
	o.writes[string(key(pk, sk))] = nil
	return nil
}

func (o *overlay) Put(pk, sk string, v any) error {
	b, ok := v.([]byte)
	if !ok {
		return fmt.Errorf("write %s/%s: %T is not bytes", pk, sk, v)
	}
	o.writes[string(key(pk, sk))] = b
	return nil
}

func (o *overlay) Scan(pk, prefix string, fn func(sk string, v any) error) error {
	p := string(key(pk, prefix))
	var staged []string
	for k := range o.writes {
		if strings.HasPrefix(k, p) {
			staged = append(staged, k)
		}
	}
	if len(staged) == 0 {
		return o.tx.Scan(pk, prefix, fn)
	}
	keys := map[string]bool{}
	for _, k := range staged {
		keys[k] = true
	}
	c := o.b.Cursor()
	for k, _ := c.Seek([]byte(p)); k != nil && bytes.HasPrefix(k, []byte(p)); k, _ = c.Next() {
		keys[string(k)] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	skAt := len(pk) + 1
	for _, k := range sorted {
		v, ok := o.writes[k]
		if ok {
			if v == nil {
				continue // deleted in this transaction
			}
			v = append([]byte(nil), v...)
		} else {
			v = append([]byte(nil), o.b.Get([]byte(k))...)
		}
		if err := fn(k[skAt:], v); err != nil {
			return err
		}
	}
	return nil
}

func (b *backend) Update(fn func(kvstore.Tx) error) error { return b.UpdateSending(fn, nil) }

// UpdateSending implements kvstore.OutboxBackend: msgs are put on their
// queues (boltqueue, in this file) in the transaction that commits fn's
// writes, and only if fn succeeds: the step's records and the messages it
// sends are durable together or not at all.
func (b *backend) UpdateSending(fn func(kvstore.Tx) error, msgs []store.Outgoing) error {
	var own error
	err := b.w.Update(func(btx *bolt.Tx) error {
		bk := btx.Bucket(bucket)
		if bk == nil {
			return fmt.Errorf("store bucket missing in %s", b.db.Path())
		}
		o := &overlay{tx: tx{bk}, writes: map[string][]byte{}}
		if own = run(fn, o); own != nil {
			return nil // nothing staged reaches the file; the group goes on
		}
		for k, v := range o.writes {
			var err error
			if v == nil {
				err = bk.Delete([]byte(k))
			} else {
				err = bk.Put([]byte(k), v)
			}
			if err != nil {
				return fmt.Errorf("write %q: %w", k, err)
			}
		}
		for _, m := range msgs {
			if m.Receipt != "" {
				if err := boltqueue.StageDelete(btx, m.Queue, m.Receipt); err != nil {
					return fmt.Errorf("delete from queue %s: %w", m.Queue, err)
				}
				continue
			}
			if err := boltqueue.Stage(btx, m.Queue, m.Body, m.Delay); err != nil {
				return fmt.Errorf("send to queue %s: %w", m.Queue, err)
			}
		}
		return nil
	}, func() {
		if own == nil {
			for _, m := range msgs {
				if m.Receipt == "" {
					boltqueue.Wake(b.db, m.Queue)
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("store file %s: %w: %v", b.db.Path(), store.ErrUnavailable, err)
	}
	return own
}

// run calls fn, turning a panic into that call's error: the leader runs
// other callers' functions, and one bad call must not strand the rest.
func run(fn func(kvstore.Tx) error, t kvstore.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store transaction panicked: %v", r)
		}
	}()
	return fn(t)
}

// HasQueue implements kvstore.OutboxBackend.
func (b *backend) HasQueue(name string) bool { return boltqueue.Exists(b.db, name) }

func (b *backend) View(fn func(kvstore.Tx) error) error {
	var inner error
	err := b.db.View(func(btx *bolt.Tx) error {
		bk := btx.Bucket(bucket)
		if bk == nil {
			return fmt.Errorf("store bucket missing in %s", b.db.Path())
		}
		inner = fn(tx{bk})
		return inner
	})
	if err != nil && inner == nil {
		return fmt.Errorf("store file %s: %w: %v", b.db.Path(), store.ErrUnavailable, err)
	}
	return err
}

func (b *backend) Close() error {
	if !b.own {
		return nil
	}
	boltgroup.Forget(b.db)
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store file: %w", err)
	}
	return nil
}
