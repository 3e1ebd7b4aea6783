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
	return &Store{b: &memBackend{parts: map[string]*partition{}}, c: copyCodec{}, MaxValue: 4 << 20}
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
	writes map[[2]string]any // staged until the transaction succeeds; deleted: nil
}

func (t *memTx) Get(pk, sk string) (any, error) {
	if v, ok := t.writes[[2]string{pk, sk}]; ok {
		return v, nil // nil for a staged delete
	}
	if p := t.m.parts[pk]; p != nil {
		if v, ok := p.vals[sk]; ok {
			return v, nil
		}
	}
	return nil, nil
}

func (t *memTx) Put(pk, sk string, v any) error {
	if t.writes == nil {
		return errReadOnly
	}
	t.writes[[2]string{pk, sk}] = v
	return nil
}

func (t *memTx) Delete(pk, sk string) error {
	if t.writes == nil {
		return errReadOnly
	}
	t.writes[[2]string{pk, sk}] = nil
	return nil
}

func (t *memTx) Scan(pk, prefix string, fn func(string, any) error) error {
	part := t.m.parts[pk]
	keys := part.withPrefix(prefix)
	var staged []string
	for k := range t.writes {
		if k[0] != pk || !strings.HasPrefix(k[1], prefix) {
			continue
		}
		if part == nil {
			staged = append(staged, k[1])
		} else if _, ok := part.vals[k[1]]; !ok {
			staged = append(staged, k[1])
		}
	}
	if len(staged) > 0 {
		keys = append(append([]string(nil), keys...), staged...)
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
	tx := &memTx{m: m, writes: map[[2]string]any{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, v := range tx.writes {
		p := m.parts[k[0]]
		if v == nil {
			if p != nil {
				p.del(k[1])
				if len(p.vals) == 0 {
					delete(m.parts, k[0])
				}
			}
			continue
		}
		if p == nil {
			p = &partition{vals: map[string]any{}}
			m.parts[k[0]] = p
		}
		p.put(k[1], v)
	}
	return nil
}

func (m *memBackend) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTx{m: m})
}

func (m *memBackend) Close() error { return nil }

var errReadOnly = errorString("write in a read-only transaction")

type errorString string

func (e errorString) Error() string { return string(e) }
