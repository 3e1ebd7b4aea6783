package chaos_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

func memory() store.Store { return kvstore.NewMemory() }

// bolt returns a maker of fresh bolt stores under t's temporary directory.
func bolt(t *testing.T) func() store.Store {
	dir := t.TempDir()
	n := 0
	return func() store.Store {
		n++
		st, err := boltstore.Open(filepath.Join(dir, fmt.Sprintf("%d.db", n)))
		if err != nil {
			t.Fatalf("open bolt store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

func TestChaosMemory(t *testing.T) {
	var counts chaos.Counts
	rapid.Check(t, func(rt *rapid.T) { chaos.Check(rt, memory, &counts) })
	t.Log(counts.String())
	mustHaveMet(t, &counts)
}

func TestChaosBolt(t *testing.T) {
	var counts chaos.Counts
	newStore := bolt(t)
	rapid.Check(t, func(rt *rapid.T) { chaos.Check(rt, newStore, &counts) })
	t.Log(counts.String())
	mustHaveMet(t, &counts)
}

// mustHaveMet fails a run that did not meet every in-process fault: a
// suite that injects nothing proves nothing.
func mustHaveMet(t *testing.T, c *chaos.Counts) {
	t.Helper()
	for kind := range chaos.Rates() {
		if c.Faults[kind] == 0 {
			t.Errorf("no %q was injected in %d cases", kind, c.Cases)
		}
	}
}
