// Package kvstore implements store.Store over any ordered, transactional
// key-value backend. The in-memory driver (NewMemory) and the durable
// embedded driver (boltstore) are this package over two backends, so the
// conditional-write rules live in one place.
//
// Records are kept under the key scheme of package store (keys.go), plus
// one partition of this package's own, the execution index:
//
//	~exec   <inverted time>#<id>  index of executions, newest first
package kvstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
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

// driver is the store.Driver over a Backend.
type driver struct {
	b Backend
	c codec
	// maxValue is the largest encoded record accepted (default 4 MiB).
	maxValue int
	// log receives what a caller is not told: an execution left out of a
	// list because its head cannot be read.
	log *slog.Logger
}

// Store is the store.Store over a Backend: the portable layer over this
// package's driver.
type Store struct {
	*store.Portable
	d *driver
}

func open(b Backend, c codec) *Store {
	d := &driver{b: b, c: c, maxValue: 4 << 20, log: slog.Default()}
	return &Store{Portable: store.Open(d), d: d}
}

// New wraps a backend that keeps records as JSON bytes.
func New(b Backend) *Store { return open(b, jsonCodec{}) }

// SetMaxValue sets the largest encoded record the store accepts (default
// 4 MiB; 0: no limit).
func (s *Store) SetMaxValue(n int) { s.d.maxValue = n }

// SetLog sets where the store logs what it cannot report to a caller
// (default slog.Default()).
func (s *Store) SetLog(l *slog.Logger) { s.d.log = l }

var (
	_ store.Store        = (*Store)(nil)
	_ store.StatusReader = (*Store)(nil)
	_ store.Driver       = (*driver)(nil)
)

// The execution index is this package's own: one partition whose sort keys
// order executions newest first.
const indexPK = "~exec"

func indexSK(e *engine.Execution) string {
	return fmt.Sprintf("%019d#%s", math.MaxInt64-e.Created.UnixNano(), e.ID)
}

// peek returns the record at pk/sk for reading only: the caller must not
// change it or keep it past the transaction. Over the memory backend that is
// the store's own copy, so a check of a version or a state copies nothing.
func peek[T any](s *driver, tx Tx, pk, sk string) (*T, error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return nil, err
	}
	if r, ok := raw.(*T); ok {
		return r, nil
	}
	return decoded[T](s, pk, sk, raw)
}

// stamp is what a conditional write of a task or slot checks and keeps of
// the stored record: its version and its claim.
type stamp struct {
	Version int64 `json:"version"`
	Claimed int   `json:"claimed"`
}

// peekStamp reads the stamp of the task or slot record at pk/sk (ok false:
// absent). Over the durable backends it decodes those two fields only:
// the check runs inside the file's group transaction, where the calls of
// every step run one after another.
func peekStamp(tx Tx, pk, sk string) (st stamp, ok bool, err error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return stamp{}, false, err
	}
	switch r := raw.(type) {
	case *engine.Task:
		return stamp{r.Version, r.Claimed}, true, nil
	case *engine.Slot:
		return stamp{r.Version, r.Claimed}, true, nil
	case []byte:
		if err := json.Unmarshal(r, &st); err != nil {
			return stamp{}, false, fmt.Errorf("decode %s/%s: %w: %w", pk, sk, store.ErrCorrupt, err)
		}
		return st, true, nil
	}
	return stamp{}, false, fmt.Errorf("decode %s/%s: the backend holds a %T", pk, sk, raw)
}

// bump rewrites the record at pk/sk with fn's changes to its fixed-size
// fields (counters, states, versions); fn must not change a map, a slice or
// a string's length in a way that matters to MaxValue. It reports whether
// the record exists; fn runs only if it does. Over the memory backend the
// new version is a shallow copy sharing its maps with the old one: stored
// records are never changed in place (every write replaces the value and
// every read copies it), so the two can share what neither changes.
func bump[T any](s *driver, tx Tx, pk, sk string, fn func(*T) error) (bool, error) {
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

func decoded[T any](s *driver, pk, sk string, raw any) (*T, error) {
	v := new(T)
	if err := s.c.decode(raw, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w: %w", pk, sk, store.ErrCorrupt, err)
	}
	return v, nil
}

func get[T any](s *driver, tx Tx, pk, sk string) (*T, error) {
	raw, err := tx.Get(pk, sk)
	if err != nil || raw == nil {
		return nil, err
	}
	return decoded[T](s, pk, sk, raw)
}

// read returns a copy of the record at pk/sk in a read of its own. Over the
// memory backend it passes no function to View: a step reads its records
// one by one, and each function's closure and captured results would be
// allocations of their own.
func read[T any](s *driver, pk, sk string) (*T, error) {
	if m, ok := s.b.(*memBackend); ok {
		raw := m.getOne(pk, sk)
		if raw == nil {
			return nil, nil
		}
		return decoded[T](s, pk, sk, raw)
	}
	var v *T
	err := s.view(func(tx Tx) (err error) { v, err = get[T](s, tx, pk, sk); return err })
	return v, err
}

func (s *driver) put(tx Tx, pk, sk string, v any) error {
	raw, n, err := s.c.encode(v, s.maxValue)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", pk, sk, err)
	}
	if s.maxValue > 0 && n > s.maxValue {
		return fmt.Errorf("record %s/%s is %d bytes (limit %d): %w", pk, sk, n, s.maxValue, store.ErrTooLarge)
	}
	return tx.Put(pk, sk, raw)
}

func conflict(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, store.ErrConflict)...)
}

// Commit implements store.Driver.
func (s *driver) Commit(ctx context.Context, ops []engine.Op) error {
	return s.b.Update(s.applyAll(ops))
}

// applyAll is the transaction that applies ops in turn.
func (s *driver) applyAll(ops []engine.Op) func(Tx) error {
	return func(tx Tx) error {
		for _, op := range ops {
			if err := s.apply(tx, op); err != nil {
				return err
			}
		}
		return nil
	}
}

func (s *driver) apply(tx Tx, op engine.Op) error {
	switch o := op.(type) {
	case engine.PutExecution:
		return s.putExecution(tx, o)
	case engine.AddExecution:
		return s.addExecution(tx, o)
	case engine.SetState:
		return s.setState(tx, o)
	case engine.PutInput:
		return s.put(tx, o.Exec, store.InputSK, o.Record())
	case engine.PutTask:
		return s.putTask(tx, o)
	case engine.AddItems:
		return s.addItems(tx, o)
	case engine.PutArrival:
		return s.putArrival(tx, o)
	case engine.CountArrival:
		return s.countArrival(tx, o)
	case engine.PutSlot:
		return s.putSlot(tx, o)
	case engine.PutLeaf:
		return s.put(tx, o.Leaf.Exec, store.LeafSK(o.Leaf.Seq, o.Leaf.Task), o.Leaf)
	}
	return fmt.Errorf("unknown op %T", op)
}

func (s *driver) putExecution(tx Tx, o engine.PutExecution) error {
	cur, err := peek[engine.Execution](s, tx, o.Exec.ID, store.HeadSK)
	if err != nil {
		return err
	}
	if !o.Holds(cur) {
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
	return s.put(tx, e.ID, store.HeadSK, &e)
}

func (s *driver) addExecution(tx Tx, o engine.AddExecution) error {
	add := func(cur *engine.Execution) error {
		if !o.Holds(cur) {
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
		found, err = bump(s, tx, o.ID, store.HeadSK, add)
	} else { // the head may grow: a full rewrite checks its size
		var cur *engine.Execution
		if cur, err = get[engine.Execution](s, tx, o.ID, store.HeadSK); err == nil && cur != nil {
			found = true
			if err = add(cur); err == nil {
				if cur.ErrorInfo == "" {
					cur.ErrorInfo = o.ErrorInfo
				}
				err = s.put(tx, o.ID, store.HeadSK, cur)
			}
		}
	}
	if err == nil && !found {
		return conflict("execution %s is not %s", o.ID, o.IfState)
	}
	return err
}

// setState rewrites the head in place: its other fields stay as stored,
// whatever steps wrote since the control operation read it.
func (s *driver) setState(tx Tx, o engine.SetState) error {
	cur, err := get[engine.Execution](s, tx, o.ID, store.HeadSK)
	if err != nil {
		return err
	}
	if !o.Holds(cur) {
		return conflict("execution %s is not %s", o.ID, o.IfState)
	}
	o.Apply(cur)
	return s.put(tx, o.ID, store.HeadSK, cur)
}

func (s *driver) putTask(tx Tx, o engine.PutTask) error {
	sk := store.TaskSK(o.Task.Key)
	st, ok, err := peekStamp(tx, o.Task.Exec, sk)
	if err != nil {
		return err
	}
	var cur *engine.Task
	if ok {
		cur = &engine.Task{Version: st.Version, Claimed: st.Claimed}
	}
	if !o.Holds(cur) {
		return conflict("task %s of %s changed", o.Task.Key, o.Task.Exec)
	}
	t := *o.Task
	t.Version = o.IfVersion + 1
	t.KeepClaim(cur)
	return s.put(tx, t.Exec, sk, &t)
}

func (s *driver) addItems(tx Tx, o engine.AddItems) error {
	notRunning := func() error { return conflict("with-items task %s of %s is not running", o.Key, o.Exec) }
	found, err := bump(s, tx, o.Exec, store.TaskSK(o.Key), func(cur *engine.Task) error {
		if !o.Holds(cur) {
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
}

func (s *driver) putArrival(tx Tx, o engine.PutArrival) error {
	sk := store.ArrivalSK(o.Join, o.From)
	cur, err := tx.Get(o.Exec, sk)
	if err != nil {
		return err
	}
	if cur != nil {
		return conflict("branch %s already arrived at join %s of %s", o.From, o.Join, o.Exec)
	}
	return s.put(tx, o.Exec, sk, o.Record())
}

func (s *driver) countArrival(tx Tx, o engine.CountArrival) error {
	count := func(cur *engine.Task) error {
		cur.Arrived += o.Count()
		cur.Version++
		return nil
	}
	sk := store.TaskSK(o.Key)
	found, err := bump(s, tx, o.Exec, sk, count)
	if err != nil || found {
		return err
	}
	cur := o.JoinRecord()
	_ = count(cur)
	return s.put(tx, o.Exec, sk, cur)
}

func (s *driver) putSlot(tx Tx, o engine.PutSlot) error {
	sk := store.SlotSK(o.Slot.Task, o.Slot.Index)
	st, ok, err := peekStamp(tx, o.Slot.Exec, sk)
	if err != nil {
		return err
	}
	var cur *engine.Slot
	if ok {
		cur = &engine.Slot{Version: st.Version, Claimed: st.Claimed}
	}
	if !o.Holds(cur) {
		return conflict("item %d of task %s of %s changed", o.Slot.Index, o.Slot.Task, o.Slot.Exec)
	}
	sl := *o.Slot
	sl.Version = o.IfVersion + 1
	sl.KeepClaim(cur)
	return s.put(tx, sl.Exec, sk, &sl)
}

// ClaimAttempt implements store.Driver.
func (s *driver) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	return s.b.Update(func(tx Tx) error {
		if p.Slot >= 0 {
			ok, err := bump(s, tx, p.Exec, store.SlotSK(p.Task, p.Slot), func(cur *engine.Slot) error {
				if !cur.Claimable(p.Attempt) {
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
		ok, err := bump(s, tx, p.Exec, store.TaskSK(p.Task), func(cur *engine.Task) error {
			if !cur.Claimable(p.Attempt) {
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

func (s *driver) view(fn func(Tx) error) error { return s.b.View(fn) }

// Execution implements store.Driver.
func (s *driver) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	return read[engine.Execution](s, id, store.HeadSK)
}

// ExecutionStatus implements store.StatusReader, which Portable forwards:
// over the memory backend it copies nothing.
func (s *driver) ExecutionStatus(ctx context.Context, id string) (st store.Status, ok bool, err error) {
	err = s.view(func(tx Tx) error {
		e, err := peek[engine.Execution](s, tx, id, store.HeadSK)
		if e != nil {
			st, ok = store.Status{State: e.State, Active: e.Active}, true
		}
		return err
	})
	return st, ok, err
}

// Input implements store.Driver.
func (s *driver) Input(ctx context.Context, exec string) (*value.Map, error) {
	r, err := read[engine.InputRecord](s, exec, store.InputSK)
	if err != nil || r == nil {
		return nil, err
	}
	if r.Input == nil {
		return value.NewMap(0), nil
	}
	return r.Input, nil
}

// Task implements store.Driver.
func (s *driver) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	return read[engine.Task](s, exec, store.TaskSK(key))
}

// Slot implements store.Driver.
func (s *driver) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	return read[engine.Slot](s, exec, store.SlotSK(task, i))
}

func scanAll[T any](s *driver, pk, prefix string) ([]*T, error) {
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

// Slots implements store.Driver.
func (s *driver) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	// The prefix also matches the slots of a cycle's "task#…"; keep only this task's.
	all, err := scanAll[engine.Slot](s, exec, store.SlotPrefix(task))
	out := all[:0]
	for _, sl := range all {
		if sl.Task == task {
			out = append(out, sl)
		}
	}
	return out, err
}

// Tasks implements store.Driver.
func (s *driver) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	ts, err := scanAll[engine.Task](s, exec, store.TaskPrefix)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Seq < ts[j].Seq })
	return ts, err
}

// TasksAfter implements store.Driver. The records before after are
// skipped by key, undecoded.
func (s *driver) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	var out []*engine.Task
	from := store.TaskSK(after)
	errFull := errors.New("page full")
	err := s.view(func(tx Tx) error {
		return tx.Scan(exec, store.TaskPrefix, func(sk string, raw any) error {
			if after != "" && sk <= from {
				return nil
			}
			if len(out) == limit {
				return errFull
			}
			t, err := decoded[engine.Task](s, exec, sk, raw)
			if err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	if errors.Is(err, errFull) {
		err = nil
	}
	return out, err
}

// Arrivals implements store.Driver.
func (s *driver) Arrivals(ctx context.Context, exec, join string) (map[string]*value.Map, error) {
	ls, err := scanAll[engine.Leaf](s, exec, store.ArrivalPrefix(join))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*value.Map, len(ls))
	for _, l := range ls {
		if l.Ctx == nil {
			l.Ctx = value.NewMap(0)
		}
		out[l.Task] = l.Ctx
	}
	return out, nil
}

// Leaves implements store.Driver.
func (s *driver) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	return scanAll[engine.Leaf](s, exec, store.LeafPrefix)
}

// PutDefinition implements store.Driver.
func (s *driver) PutDefinition(ctx context.Context, d *engine.Definition) error {
	return s.b.Update(func(tx Tx) error {
		cur, err := get[engine.Definition](s, tx, store.DefPK, store.DefNameSK(d.Name))
		if err != nil {
			return err
		}
		nd := *d
		if cur != nil {
			nd.Created = cur.Created
		}
		if err := s.put(tx, store.DefPK, store.DefNameSK(d.Name), &nd); err != nil {
			return err
		}
		return s.put(tx, store.DefPK, store.DefIDSK(d.DefID), &nd)
	})
}

// Definition implements store.Driver.
func (s *driver) Definition(ctx context.Context, name string) (d *engine.Definition, err error) {
	err = s.view(func(tx Tx) error {
		d, err = get[engine.Definition](s, tx, store.DefPK, store.DefNameSK(name))
		return err
	})
	return d, err
}

// DefinitionByID implements store.Driver.
func (s *driver) DefinitionByID(ctx context.Context, id string) (*engine.Definition, error) {
	return read[engine.Definition](s, store.DefPK, store.DefIDSK(id))
}

// ListDefinitions implements store.Driver.
func (s *driver) ListDefinitions(ctx context.Context) ([]*engine.Definition, error) {
	return scanAll[engine.Definition](s, store.DefPK, store.DefNamePrefix)
}

// DefinitionNames implements store.Driver.
func (s *driver) DefinitionNames(ctx context.Context, limit int) ([]string, error) {
	var names []string
	errStop := errors.New("enough names")
	err := s.view(func(tx Tx) error {
		return tx.Scan(store.DefPK, store.DefNamePrefix, func(sk string, _ any) error {
			names = append(names, strings.TrimPrefix(sk, store.DefNamePrefix))
			if len(names) == limit {
				return errStop
			}
			return nil
		})
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return names, err
}

// ListExecutions implements store.Driver. A head that cannot be decoded
// (store.ErrCorrupt) is left out and logged at ERROR with its execution id
// and key.
func (s *driver) ListExecutions(ctx context.Context, p store.ListParams) (*store.ExecutionPage, error) {
	limit := p.Limit
	page := &store.ExecutionPage{}
	errStop := errors.New("page full")
	err := s.view(func(tx Tx) error {
		return tx.Scan(indexPK, "", func(sk string, _ any) error {
			if p.Cursor != "" && sk <= p.Cursor {
				return nil
			}
			id := sk[strings.IndexByte(sk, '#')+1:]
			e, err := get[engine.Execution](s, tx, id, store.HeadSK)
			if err = s.skipCorrupt(id, err); err != nil || e == nil {
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

// skipCorrupt is nil for the error of a head that cannot be decoded, which
// it logs at ERROR, naming it: one record that needs repair must not hide
// every other execution from the API, from Sweep's recovery or from the
// purge.
func (s *driver) skipCorrupt(id string, err error) error {
	if !errors.Is(err, store.ErrCorrupt) {
		return err
	}
	s.log.Error("store: execution skipped by a list or purge: its head cannot be read and needs repair",
		"execution_id", id, "key", id+"/"+store.HeadSK, "err", err)
	return nil
}

// PurgeCandidates implements store.Driver. It walks the execution index (a
// local store holds few enough executions for that) and yields outside the
// read transaction, as each delete is a write transaction of its own.
func (s *driver) PurgeCandidates(ctx context.Context, before time.Time, yield func(string) (bool, error)) error {
	var old []string
	err := s.view(func(tx Tx) error {
		return tx.Scan(indexPK, "", func(sk string, _ any) error {
			id := sk[strings.IndexByte(sk, '#')+1:]
			e, err := peek[engine.Execution](s, tx, id, store.HeadSK)
			if err = s.skipCorrupt(id, err); err != nil || e == nil {
				return err
			}
			if store.Purgeable(e, before) {
				old = append(old, id)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("find executions to purge: %w", err)
	}
	for i := len(old) - 1; i >= 0; i-- { // the index is newest first
		if more, err := yield(old[i]); err != nil || !more {
			return err
		}
	}
	return nil
}

// DeleteExecutionIf implements store.Driver: the head is checked and the
// execution's partition and index entry deleted in one transaction.
func (s *driver) DeleteExecutionIf(ctx context.Context, id string, cond func(*engine.Execution) bool) (bool, error) {
	deleted := false
	err := s.b.Update(func(tx Tx) error {
		e, err := get[engine.Execution](s, tx, id, store.HeadSK)
		if err != nil || e == nil || !cond(e) {
			return err
		}
		var sks []string
		if err := tx.Scan(id, "", func(sk string, _ any) error { sks = append(sks, sk); return nil }); err != nil {
			return err
		}
		for _, sk := range sks {
			if err := tx.Delete(id, sk); err != nil {
				return err
			}
		}
		deleted = true
		return tx.Delete(indexPK, indexSK(e))
	})
	return deleted && err == nil, err
}

// Close implements store.Driver.
func (s *driver) Close() error { return s.b.Close() }

// PutAction implements store.Driver.
func (s *driver) PutAction(ctx context.Context, a *store.ActionDef) error {
	return s.b.Update(func(tx Tx) error {
		cur, err := get[store.ActionDef](s, tx, store.ActionPK, store.ActionSK(a.Name))
		if err != nil {
			return err
		}
		na := *a
		if cur != nil && !cur.Deleted {
			na.Created = cur.Created
		}
		return s.put(tx, store.ActionPK, store.ActionSK(a.Name), &na)
	})
}

// Action implements store.Driver.
func (s *driver) Action(ctx context.Context, name string) (a *store.ActionDef, err error) {
	err = s.view(func(tx Tx) error {
		a, err = get[store.ActionDef](s, tx, store.ActionPK, store.ActionSK(name))
		return err
	})
	return a, err
}

// ListActions implements store.Driver.
func (s *driver) ListActions(ctx context.Context) ([]*store.ActionDef, error) {
	return scanAll[store.ActionDef](s, store.ActionPK, store.ActionPrefix)
}

// OutboxBackend is a backend whose database also holds queues, so a
// transaction can send messages with its writes (boltstore with boltqueue).
type OutboxBackend interface {
	Backend
	// UpdateSending is Update that also sends msgs if fn succeeds, in the
	// same atomic transaction.
	UpdateSending(fn func(Tx) error, msgs []store.Outgoing) error
	// HasQueue reports whether the database holds queue.
	HasQueue(queue string) bool
}

var _ store.Outbox = (*Store)(nil)

// CanSend implements store.Outbox: only a backend holding the queue can.
func (s *Store) CanSend(queue string) bool {
	ob, ok := s.d.b.(OutboxBackend)
	return ok && ob.HasQueue(queue)
}

// CommitSending implements store.Outbox.
func (s *Store) CommitSending(ctx context.Context, ops []engine.Op, msgs []store.Outgoing) error {
	if len(msgs) == 0 {
		return s.Commit(ctx, ops)
	}
	ob, ok := s.d.b.(OutboxBackend)
	if !ok {
		return fmt.Errorf("commit with messages: this store's backend holds no queues")
	}
	if err := store.CheckOps(ops); err != nil {
		return err
	}
	return ob.UpdateSending(s.d.applyAll(ops), msgs)
}
