// Package kvstore implements store.Store over any ordered, transactional
// key-value backend. The in-memory driver (NewMemory) and the durable
// embedded driver (boltstore) are this package over two backends, so the
// conditional-write rules live in one place.
//
// Layout: every record has a partition key (an execution id, or "~def" /
// "~exec" for definitions and the execution index) and a sort key:
//
//	<exec>  H                     the execution head (without its input)
//	<exec>  I                     the execution's input, written once
//	<exec>  T#<task key>          a task execution
//	<exec>  S#<task key>#<index>  a with-items slot (index zero-padded)
//	<exec>  L#<seq>#<task key>    a branch end (leaf), for the final context
//	<exec>  A#<join>\x00<from>    one branch's arrival at a join, with its context
//	~def    N#<name>              the current definition of a workflow
//	~def    I#<def id>            a definition by content id
//	~exec   <inverted time>#<id>  index of executions, newest first
package kvstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Tx is one transaction of a backend. Values are opaque to the backend: it
// keeps whatever the store's codec made of a record (JSON bytes for a
// durable backend, a private deep copy for the memory one).
type Tx interface {
	Get(pk, sk string) (any, error) // nil, nil when absent
	Put(pk, sk string, v any) error
	Delete(pk, sk string) error
	// Scan calls fn for each record of pk whose sort key starts with prefix, in order.
	Scan(pk, prefix string, fn func(sk string, v any) error) error
}

// codec turns records into what a backend keeps and back. encode refuses a
// record whose encoding exceeds max bytes with store.ErrTooLarge.
type codec interface {
	encode(v any, max int) (raw any, size int, err error)
	decode(raw, into any) error
}

// jsonCodec is the durable backends' codec: the bytes they write to disk.
type jsonCodec struct{}

func (jsonCodec) encode(v any, max int) (any, int, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, 0, err
	}
	return raw, len(raw), nil
}

func (jsonCodec) decode(raw, into any) error {
	b, ok := raw.([]byte)
	if !ok {
		return fmt.Errorf("backend returned %T, not bytes", raw)
	}
	return engine.Decode(b, into)
}

// Backend runs transactions.
type Backend interface {
	Update(fn func(Tx) error) error // read-write, atomic
	View(fn func(Tx) error) error   // read-only snapshot
	Close() error
}

// Store is store.Store over a Backend.
type Store struct {
	b Backend
	c codec
	// MaxValue is the largest encoded record accepted (default 4 MiB).
	MaxValue int
}

// New wraps a backend that keeps records as JSON bytes.
func New(b Backend) *Store { return &Store{b: b, c: jsonCodec{}, MaxValue: 4 << 20} }

var _ store.Store = (*Store)(nil)

const (
	defPK   = "~def"
	indexPK = "~exec"
	headSK  = "H"
	inputSK = "I"
)

func taskSK(key string) string          { return "T#" + key }
func slotSK(task string, i int) string  { return "S#" + task + "#" + padded(int64(i), 8) }
func leafSK(seq int64, t string) string { return "L#" + padded(seq, 12) + "#" + t }

// padded formats n (>= 0) zero-padded to width digits, as %0*d does
// (fmt.Sprintf was a measurable part of every with-items step).
func padded(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// Arrival records sort under their join; "\x00" ends the join key so join
// "b" never sees the arrivals of a join "b#…".
func arrivalSK(join, from string) string { return "A#" + join + "\x00" + from }
func indexSK(e *engine.Execution) string {
	return fmt.Sprintf("%019d#%s", math.MaxInt64-e.Created.UnixNano(), e.ID)
}

// peek returns the record at pk/sk for reading only: the caller must not
// change it or keep it past the transaction. Over the memory backend that is
// the store's own copy, so a check of a version or a state copies nothing.
func peek[T any](s *Store, tx Tx, pk, sk string) (*T, error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return nil, err
	}
	if r, ok := raw.(*T); ok {
		return r, nil
	}
	return decoded[T](s, pk, sk, raw)
}

// bump rewrites the record at pk/sk with fn's changes to its fixed-size
// fields (counters, states, versions); fn must not change a map, a slice or
// a string's length in a way that matters to MaxValue. It reports whether
// the record exists; fn runs only if it does. Over the memory backend the
// new version is a shallow copy sharing its maps with the old one: stored
// records are never changed in place (every write replaces the value and
// every read copies it), so the two can share what neither changes.
func bump[T any](s *Store, tx Tx, pk, sk string, fn func(*T) error) (bool, error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return false, err
	}
	if r, ok := raw.(*T); ok {
		c := *r
		if err := fn(&c); err != nil {
			return true, err
		}
		return true, tx.Put(pk, sk, &c)
	}
	v, err := decoded[T](s, pk, sk, raw)
	if err != nil {
		return true, err
	}
	if err := fn(v); err != nil {
		return true, err
	}
	return true, s.put(tx, pk, sk, v)
}

func decoded[T any](s *Store, pk, sk string, raw any) (*T, error) {
	v := new(T)
	if err := s.c.decode(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", pk, sk, err)
	}
	return v, nil
}

func get[T any](s *Store, tx Tx, pk, sk string) (*T, error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return nil, err
	}
	return decoded[T](s, pk, sk, raw)
}

func (s *Store) put(tx Tx, pk, sk string, v any) error {
	raw, n, err := s.c.encode(v, s.MaxValue)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	if s.MaxValue > 0 && n > s.MaxValue {
		return fmt.Errorf("record %s/%s is %d bytes (limit %d): %w", pk, sk, n, s.MaxValue, store.ErrTooLarge)
	}
	return tx.Put(pk, sk, raw)
}

func conflict(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, store.ErrConflict)...)
}

func validID(id string) error {
	if id == "" || strings.HasPrefix(id, "~") {
		return fmt.Errorf("invalid execution id %q: %w", id, engine.ErrInvalidInput)
	}
	return nil
}

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, ops []engine.Op) error {
	return s.b.Update(func(tx Tx) error {
		for _, op := range ops {
			if err := s.apply(tx, op); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) apply(tx Tx, op engine.Op) error {
	switch o := op.(type) {
	case engine.PutExecution:
		if err := validID(o.Exec.ID); err != nil {
			return err
		}
		cur, err := peek[engine.Execution](s, tx, o.Exec.ID, headSK)
		if err != nil {
			return err
		}
		if cur == nil && o.IfVersion != 0 || cur != nil && cur.Version != o.IfVersion {
			return conflict("execution %s changed", o.Exec.ID)
		}
		e := *o.Exec
		e.Version = o.IfVersion + 1
		e.Input = nil // kept in its own record (PutInput)
		if cur == nil {
			if err := s.put(tx, indexPK, indexSK(&e), map[string]string{"id": e.ID}); err != nil {
				return err
			}
		}
		return s.put(tx, e.ID, headSK, &e)
	case engine.AddExecution:
		add := func(cur *engine.Execution) error {
			if cur.State != o.IfState {
				return conflict("execution %s is not %s", o.ID, o.IfState)
			}
			cur.Active += o.Active
			cur.Errors += o.Errors
			cur.Seq += o.Seq
			cur.Spawned += o.Spawned
			cur.Version++
			return nil
		}
		var found bool
		var err error
		if o.ErrorInfo == "" {
			found, err = bump(s, tx, o.ID, headSK, add)
		} else { // the head may grow: a full rewrite checks its size
			var cur *engine.Execution
			if cur, err = get[engine.Execution](s, tx, o.ID, headSK); err == nil && cur != nil {
				found = true
				if err = add(cur); err == nil {
					if cur.ErrorInfo == "" {
						cur.ErrorInfo = o.ErrorInfo
					}
					err = s.put(tx, o.ID, headSK, cur)
				}
			}
		}
		if err == nil && !found {
			return conflict("execution %s is not %s", o.ID, o.IfState)
		}
		return err
	case engine.PutInput:
		// A leaf's shape (a context map) holds the input, decoded the same way.
		return s.put(tx, o.Exec, inputSK, &engine.Leaf{Exec: o.Exec, Ctx: o.Input})
	case engine.PutTask:
		cur, err := peek[engine.Task](s, tx, o.Task.Exec, taskSK(o.Task.Key))
		if err != nil {
			return err
		}
		if cur == nil && o.IfVersion != 0 || cur != nil && cur.Version != o.IfVersion {
			return conflict("task %s of %s changed", o.Task.Key, o.Task.Exec)
		}
		t := *o.Task
		t.Version = o.IfVersion + 1
		if cur != nil && cur.Claimed > t.Claimed {
			t.Claimed = cur.Claimed // claims are written by runners, not by the engine
		}
		return s.put(tx, t.Exec, taskSK(t.Key), &t)
	case engine.AddItems:
		notRunning := func() error { return conflict("with-items task %s of %s is not running", o.Key, o.Exec) }
		found, err := bump(s, tx, o.Exec, taskSK(o.Key), func(cur *engine.Task) error {
			if cur.State != engine.Running {
				return notRunning()
			}
			cur.Done += o.Done
			cur.Failed += o.Failed
			cur.Version++
			return nil
		})
		if err == nil && !found {
			return notRunning()
		}
		return err
	case engine.PutArrival:
		sk := arrivalSK(o.Join, o.From)
		cur, err := tx.Get(o.Exec, sk)
		if err != nil {
			return err
		}
		if cur != nil {
			return conflict("branch %s already arrived at join %s of %s", o.From, o.Join, o.Exec)
		}
		c := o.Ctx
		if c == nil {
			c = map[string]any{}
		}
		// An arrival has a leaf's shape: the task it came from and its context.
		return s.put(tx, o.Exec, sk, &engine.Leaf{Exec: o.Exec, Task: o.From, Ctx: c})
	case engine.CountArrival:
		count := func(cur *engine.Task) error {
			cur.Arrived++
			cur.Version++
			return nil
		}
		found, err := bump(s, tx, o.Exec, taskSK(o.Key), count)
		if err != nil || found {
			return err
		}
		cur := &engine.Task{Exec: o.Exec, Key: o.Key, Name: o.Name, State: engine.Waiting, Pending: "join"}
		_ = count(cur)
		return s.put(tx, o.Exec, taskSK(o.Key), cur)
	case engine.PutSlot:
		sk := slotSK(o.Slot.Task, o.Slot.Index)
		cur, err := peek[engine.Slot](s, tx, o.Slot.Exec, sk)
		if err != nil {
			return err
		}
		if cur == nil && o.IfVersion != 0 || cur != nil && cur.Version != o.IfVersion {
			return conflict("item %d of task %s of %s changed", o.Slot.Index, o.Slot.Task, o.Slot.Exec)
		}
		sl := *o.Slot
		sl.Version = o.IfVersion + 1
		if cur != nil && cur.Claimed > sl.Claimed {
			sl.Claimed = cur.Claimed
		}
		return s.put(tx, sl.Exec, sk, &sl)
	case engine.PutLeaf:
		return s.put(tx, o.Leaf.Exec, leafSK(o.Leaf.Seq, o.Leaf.Task), o.Leaf)
	}
	return fmt.Errorf("unknown op %T", op)
}

// ClaimAttempt implements store.Store.
func (s *Store) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	return s.b.Update(func(tx Tx) error {
		if p.Slot >= 0 {
			ok, err := bump(s, tx, p.Exec, slotSK(p.Task, p.Slot), func(cur *engine.Slot) error {
				if cur.State != engine.Running || cur.Attempt != p.Attempt || cur.Claimed >= p.Attempt {
					return errNotClaimable
				}
				cur.Claimed = p.Attempt
				return nil
			})
			if !ok && err == nil || err == errNotClaimable {
				return conflict("item %d of task %s of %s attempt %d is not claimable", p.Slot, p.Task, p.Exec, p.Attempt)
			}
			return err
		}
		ok, err := bump(s, tx, p.Exec, taskSK(p.Task), func(cur *engine.Task) error {
			if cur.State != engine.Running || cur.Pending != "" || cur.Attempt != p.Attempt || cur.Claimed >= p.Attempt {
				return errNotClaimable
			}
			cur.Claimed = p.Attempt
			return nil
		})
		if !ok && err == nil || err == errNotClaimable {
			return conflict("task %s of %s attempt %d is not claimable", p.Task, p.Exec, p.Attempt)
		}
		return err
	})
}

// errNotClaimable stands for the conflict ClaimAttempt reports, which it
// words only when it happens.
var errNotClaimable = errors.New("not claimable")

func (s *Store) view(fn func(Tx) error) error { return s.b.View(fn) }

// Execution implements engine.Reader.
func (s *Store) Execution(ctx context.Context, id string) (e *engine.Execution, err error) {
	err = s.view(func(tx Tx) error { e, err = get[engine.Execution](s, tx, id, headSK); return err })
	return e, err
}

// ExecutionStatus implements store.StatusReader: over the memory backend it
// copies nothing.
func (s *Store) ExecutionStatus(ctx context.Context, id string) (st store.Status, ok bool, err error) {
	err = s.view(func(tx Tx) error {
		e, err := peek[engine.Execution](s, tx, id, headSK)
		if e != nil {
			st, ok = store.Status{State: e.State, Active: e.Active}, true
		}
		return err
	})
	return st, ok, err
}

// Input implements engine.Reader.
func (s *Store) Input(ctx context.Context, exec string) (map[string]any, error) {
	var l *engine.Leaf
	err := s.view(func(tx Tx) (err error) { l, err = get[engine.Leaf](s, tx, exec, inputSK); return err })
	if err != nil || l == nil {
		return nil, err
	}
	if l.Ctx == nil {
		return map[string]any{}, nil
	}
	return l.Ctx, nil
}

// Task implements engine.Reader.
func (s *Store) Task(ctx context.Context, exec, key string) (t *engine.Task, err error) {
	err = s.view(func(tx Tx) error { t, err = get[engine.Task](s, tx, exec, taskSK(key)); return err })
	return t, err
}

// Slot implements engine.Reader.
func (s *Store) Slot(ctx context.Context, exec, task string, i int) (sl *engine.Slot, err error) {
	err = s.view(func(tx Tx) error { sl, err = get[engine.Slot](s, tx, exec, slotSK(task, i)); return err })
	return sl, err
}

func scanAll[T any](s *Store, pk, prefix string) ([]*T, error) {
	var out []*T
	err := s.view(func(tx Tx) error {
		return tx.Scan(pk, prefix, func(sk string, raw any) error {
			v, err := decoded[T](s, pk, sk, raw)
			if err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	return out, err
}

// Slots implements engine.Reader.
func (s *Store) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	// Task keys of cycles contain '#' (name#hash), so the prefix of task
	// "b" also matches the slots of "b#1a2b"; keep only this task's.
	all, err := scanAll[engine.Slot](s, exec, "S#"+task+"#")
	out := all[:0]
	for _, sl := range all {
		if sl.Task == task {
			out = append(out, sl)
		}
	}
	return out, err
}

// Tasks implements engine.Reader.
func (s *Store) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	ts, err := scanAll[engine.Task](s, exec, "T#")
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Seq < ts[j].Seq })
	return ts, err
}

// Arrivals implements engine.Reader.
func (s *Store) Arrivals(ctx context.Context, exec, join string) (map[string]map[string]any, error) {
	ls, err := scanAll[engine.Leaf](s, exec, "A#"+join+"\x00")
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(ls))
	for _, l := range ls {
		if l.Ctx == nil {
			l.Ctx = map[string]any{}
		}
		out[l.Task] = l.Ctx
	}
	return out, nil
}

// Leaves implements engine.Reader.
func (s *Store) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	return scanAll[engine.Leaf](s, exec, "L#")
}

// PutDefinition implements store.Store.
func (s *Store) PutDefinition(ctx context.Context, d *engine.Definition) error {
	return s.b.Update(func(tx Tx) error {
		cur, err := get[engine.Definition](s, tx, defPK, "N#"+d.Name)
		if err != nil {
			return err
		}
		nd := *d
		if cur != nil {
			nd.Created = cur.Created
		}
		if err := s.put(tx, defPK, "N#"+d.Name, &nd); err != nil {
			return err
		}
		return s.put(tx, defPK, "I#"+d.DefID, &nd)
	})
}

// Definition implements store.Store.
func (s *Store) Definition(ctx context.Context, name string) (d *engine.Definition, err error) {
	err = s.view(func(tx Tx) error { d, err = get[engine.Definition](s, tx, defPK, "N#"+name); return err })
	if err == nil && d == nil {
		err = fmt.Errorf("workflow %q: %w", name, store.ErrNotFound)
	}
	return d, err
}

// DefinitionByID implements store.Store.
func (s *Store) DefinitionByID(ctx context.Context, id string) (d *engine.Definition, err error) {
	err = s.view(func(tx Tx) error { d, err = get[engine.Definition](s, tx, defPK, "I#"+id); return err })
	if err == nil && d == nil {
		err = fmt.Errorf("definition %s: %w", id, store.ErrNotFound)
	}
	return d, err
}

// ListDefinitions implements store.Store.
func (s *Store) ListDefinitions(ctx context.Context) ([]*engine.Definition, error) {
	return scanAll[engine.Definition](s, defPK, "N#")
}

// ListExecutions implements store.Store.
func (s *Store) ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error) {
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	page := &store.ExecutionPage{}
	errStop := errors.New("page full")
	err := s.view(func(tx Tx) error {
		return tx.Scan(indexPK, "", func(sk string, _ any) error {
			if p.Cursor != "" && sk <= p.Cursor {
				return nil
			}
			id := sk[strings.IndexByte(sk, '#')+1:]
			e, err := get[engine.Execution](s, tx, id, headSK)
			if err != nil || e == nil {
				return err
			}
			if p.Workflow != "" && e.Workflow != p.Workflow || p.State != "" && e.State != p.State {
				return nil
			}
			if len(page.Executions) == limit {
				return errStop
			}
			page.Executions = append(page.Executions, e)
			page.Next = sk
			return nil
		})
	})
	if errors.Is(err, errStop) {
		return page, nil
	}
	page.Next = ""
	return page, err
}

// PurgeExecutions implements store.Store. It walks the execution index (a
// local store holds few enough executions for that) and deletes each
// chosen execution's partition and index entry in one transaction.
func (s *Store) PurgeExecutions(ctx context.Context, p store.PurgeParams) (int, error) {
	type victim struct{ id, indexSK string }
	var old []victim
	err := s.view(func(tx Tx) error {
		return tx.Scan(indexPK, "", func(sk string, _ any) error {
			id := sk[strings.IndexByte(sk, '#')+1:]
			e, err := get[engine.Execution](s, tx, id, headSK)
			if err != nil || e == nil {
				return err
			}
			if e.State.Terminal() && e.Updated.Before(p.Before) {
				old = append(old, victim{id, sk})
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("find executions to purge: %w", err)
	}
	n := 0
	for i := len(old) - 1; i >= 0 && (p.Max <= 0 || n < p.Max); i-- { // the index is newest first
		if err := ctx.Err(); err != nil {
			return n, err
		}
		v := old[i]
		err := s.b.Update(func(tx Tx) error {
			// Checked again inside the transaction: a rerun may have woken it.
			e, err := get[engine.Execution](s, tx, v.id, headSK)
			if err != nil || e == nil || !e.State.Terminal() || !e.Updated.Before(p.Before) {
				return err
			}
			var sks []string
			if err := tx.Scan(v.id, "", func(sk string, _ any) error { sks = append(sks, sk); return nil }); err != nil {
				return err
			}
			for _, sk := range sks {
				if err := tx.Delete(v.id, sk); err != nil {
					return err
				}
			}
			n++
			return tx.Delete(indexPK, v.indexSK)
		})
		if err != nil {
			return n, fmt.Errorf("purge execution %s: %w", v.id, err)
		}
	}
	return n, nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.b.Close() }

var _ = time.Now
