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

// mustHaveMet fails a run that did not meet an in-process fault it gave
// plenty of chances: a suite that injects nothing proves nothing. A fault
// few cases could meet (a delegate's duplicate callback) is required only
// once it had enough opportunities, so the check does not hang on the seed.
func mustHaveMet(t *testing.T, c *chaos.Counts) {
	t.Helper()
	for _, kind := range c.Unmet(chaos.Rates()) {
		t.Errorf("no %q was injected in %d cases though it had %d chances", kind, c.Cases, c.Offers[kind])
	}
}

// TestUnmetNeedsEnoughChances pins the rule mustHaveMet relies on: a fault
// never injected fails the suite once it had many opportunities, and not
// while it had too few to be expected.
func TestUnmetNeedsEnoughChances(t *testing.T) {
	rates := map[string]float64{chaos.FaultCallback: 0.3, chaos.FaultControl: 0.03}
	var c chaos.Counts
	c.Add(1, nil, map[string]int{chaos.FaultCallback: 10, chaos.FaultControl: 10})
	if got := c.Unmet(rates); len(got) != 0 {
		t.Fatalf("10 chances each: unmet %v, want none required", got)
	}
	c.Add(1, nil, map[string]int{chaos.FaultCallback: 100, chaos.FaultControl: 100})
	if got := c.Unmet(rates); len(got) != 1 || got[0] != chaos.FaultCallback {
		t.Fatalf("110 chances each: unmet %v, want only %q (0.7^110 is negligible, 0.97^110 is not)", got, chaos.FaultCallback)
	}
	c.Add(1, map[string]int{chaos.FaultCallback: 1}, map[string]int{chaos.FaultControl: 1000})
	if got := c.Unmet(rates); len(got) != 1 || got[0] != chaos.FaultControl {
		t.Fatalf("callback met, control had 1110 chances: unmet %v, want %q", got, chaos.FaultControl)
	}
}
