package kvstore

import (
	"sort"
	"strings"
	"sync"
)

// NewMemory returns a Store that keeps everything in memory: for tests and
// for `lazyflow run`, where nothing needs to outlive the process.
//
// Records are kept as private deep copies rather than JSON (see copyCodec):
// the conditional rules are the same as the durable drivers', without
// paying for an encoding nobody reads.
func NewMemory() *Store {
	return open(&memBackend{parts: map[string]*partition{}}, copyCodec{})
}

type memBackend struct {
	mu    sync.RWMutex
	parts map[string]*partition
}

// partition keeps its sort keys for prefix scans. Writes only note a new
// key; the sorted index absorbs them at the next scan (scans are rare: a
// join firing, an execution ending), so a step costs the same whether the
// partition holds ten records or a hundred thousand.
type partition struct {
	vals map[string]any

	mu      sync.Mutex // guards keys and pending, which scans under the read lock rebuild
	keys    []string   // sorted; may still name deleted keys (skipped, dropped at the next merge)
	pending []string   // keys added since the last merge, unsorted
}

func (p *partition) put(sk string, v any) {
	if _, ok := p.vals[sk]; !ok {
		p.mu.Lock()
		p.pending = append(p.pending, sk)
		p.mu.Unlock()
	}
	p.vals[sk] = v
}

func (p *partition) del(sk string) {
	delete(p.vals, sk) // its key leaves the index at the next merge
}

// withPrefix returns the sorted keys that start with prefix. The slice is
// never written again (a merge builds a new one), so it stays valid for the
// caller while other scans merge.
func (p *partition) withPrefix(prefix string) []string {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) > 0 || len(p.keys) > len(p.vals) {
		sort.Strings(p.pending)
		merged := make([]string, 0, len(p.vals))
		i, j := 0, 0
		for i < len(p.keys) || j < len(p.pending) {
			var k string
			if j == len(p.pending) || i < len(p.keys) && p.keys[i] < p.pending[j] {
				k, i = p.keys[i], i+1
			} else {
				k, j = p.pending[j], j+1
			}
			if _, ok := p.vals[k]; ok && (len(merged) == 0 || merged[len(merged)-1] != k) {
				merged = append(merged, k)
			}
		}
		p.keys, p.pending = merged, nil
	}
	i := sort.SearchStrings(p.keys, prefix)
	j := i
	for j < len(p.keys) && strings.HasPrefix(p.keys[j], prefix) {
		j++
	}
	return p.keys[i:j:j]
}

type memTx struct {
	m      *memBackend
	writes []staged          // until the transaction succeeds; a step writes a handful
	index  map[[2]string]int // of writes, once there are many (a purge)
	buf    [6]staged         // room for a step's writes, allocated with the transaction
}

type staged struct {
	pk, sk string
	v      any // nil: deleted
}

func (t *memTx) staged(pk, sk string) (int, bool) {
	if t.index != nil {
		i, ok := t.index[[2]string{pk, sk}]
		return i, ok
	}
	for i := len(t.writes) - 1; i >= 0; i-- {
		if t.writes[i].pk == pk && t.writes[i].sk == sk {
			return i, true
		}
	}
	return 0, false
}

func (t *memTx) Get(pk, sk string) (any, error) {
	if i, ok := t.staged(pk, sk); ok {
		return t.writes[i].v, nil // nil for a staged delete
	}
	return t.m.get(pk, sk), nil
}

// getOne reads one record outside a transaction. A stored record is never
// changed in place (a write replaces it), so the caller may copy it once
// the lock is released.
func (m *memBackend) getOne(pk, sk string) any {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.get(pk, sk)
}

func (m *memBackend) get(pk, sk string) any {
	if p := m.parts[pk]; p != nil {
		return p.vals[sk]
	}
	return nil
}

func (t *memTx) Put(pk, sk string, v any) error {
	if i, ok := t.staged(pk, sk); ok {
		t.writes[i].v = v
		return nil
	}
	t.stage(staged{pk, sk, v})
	return nil
}

func (t *memTx) stage(w staged) {
	t.writes = append(t.writes, w)
	switch {
	case t.index != nil:
		t.index[[2]string{w.pk, w.sk}] = len(t.writes) - 1
	case len(t.writes) > 32:
		t.index = make(map[[2]string]int, 2*len(t.writes))
		for i, w := range t.writes {
			t.index[[2]string{w.pk, w.sk}] = i
		}
	}
}

func (t *memTx) Delete(pk, sk string) error {
	if i, ok := t.staged(pk, sk); ok {
		t.writes[i].v = nil
		return nil
	}
	t.stage(staged{pk, sk, nil})
	return nil
}

func (t *memTx) Scan(pk, prefix string, fn func(string, any) error) error {
	part := t.m.parts[pk]
	keys := part.withPrefix(prefix)
	var added []string
	for _, w := range t.writes {
		if w.pk != pk || !strings.HasPrefix(w.sk, prefix) {
			continue
		}
		if part == nil {
			added = append(added, w.sk)
		} else if _, ok := part.vals[w.sk]; !ok {
			added = append(added, w.sk)
		}
	}
	if len(added) > 0 {
		keys = append(append([]string(nil), keys...), added...)
		sort.Strings(keys)
	}
	for _, k := range keys {
		v, _ := t.Get(pk, k)
		if v == nil {
			continue // deleted in this transaction
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (m *memBackend) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m}
	tx.writes = tx.buf[:0]
	if err := fn(tx); err != nil {
		return err
	}
	for _, w := range tx.writes {
		p := m.parts[w.pk]
		if w.v == nil {
			if p != nil {
				p.del(w.sk)
				if len(p.vals) == 0 {
					delete(m.parts, w.pk)
				}
			}
			continue
		}
		if p == nil {
			p = &partition{vals: map[string]any{}}
			m.parts[w.pk] = p
		}
		p.put(w.sk, w.v)
	}
	return nil
}

func (m *memBackend) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(memView{m})
}

// memView is a read-only transaction. It is a single pointer, so passing
// it as a Tx allocates nothing: most reads are views, one per record read.
type memView struct{ m *memBackend }

func (v memView) Get(pk, sk string) (any, error) { return v.m.get(pk, sk), nil }
func (v memView) Put(string, string, any) error  { return errReadOnly }
func (v memView) Delete(string, string) error    { return errReadOnly }

func (v memView) Scan(pk, prefix string, fn func(string, any) error) error {
	part := v.m.parts[pk]
	for _, k := range part.withPrefix(prefix) {
		if x, ok := part.vals[k]; ok {
			if err := fn(k, x); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memBackend) Close() error { return nil }

var errReadOnly = errorString("write in a read-only transaction")

type errorString string

func (e errorString) Error() string { return string(e) }
