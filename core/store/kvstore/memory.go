package kvstore

import (
	"sort"
	"strings"
	"sync"
)

// NewMemory returns a Store that keeps everything in memory: for tests and
// for `lazyflow run`, where nothing needs to outlive the process.
func NewMemory() *Store { return New(&memBackend{parts: map[string]map[string][]byte{}}) }

type memBackend struct {
	mu    sync.RWMutex
	parts map[string]map[string][]byte
}

type memTx struct {
	m      *memBackend
	writes map[[2]string][]byte // staged until the transaction succeeds
}

func (t *memTx) Get(pk, sk string) ([]byte, error) {
	if v, ok := t.writes[[2]string{pk, sk}]; ok {
		return v, nil
	}
	return t.m.parts[pk][sk], nil
}

func (t *memTx) Put(pk, sk string, v []byte) error {
	if t.writes == nil {
		return errReadOnly
	}
	t.writes[[2]string{pk, sk}] = v
	return nil
}

func (t *memTx) Scan(pk, prefix string, fn func(string, []byte) error) error {
	part := t.m.parts[pk]
	keys := make([]string, 0, len(part))
	for k := range part {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	for k := range t.writes {
		if k[0] == pk && strings.HasPrefix(k[1], prefix) {
			if _, ok := part[k[1]]; !ok {
				keys = append(keys, k[1])
			}
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := t.Get(pk, k)
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (m *memBackend) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memTx{m: m, writes: map[[2]string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for k, v := range tx.writes {
		p := m.parts[k[0]]
		if p == nil {
			p = map[string][]byte{}
			m.parts[k[0]] = p
		}
		p[k[1]] = v
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
