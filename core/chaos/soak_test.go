package chaos_test

import (
	"os"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/store"
)

// TestChaosSoak is `make chaos`: the suite's cases for CHAOS_DURATION (or
// CHAOS_ITERATIONS cases) on the memory and bolt drivers, its counts
// written to CHAOS_RESULTS. `make test` runs the short suite instead.
func TestChaosSoak(t *testing.T) {
	dur, err := time.ParseDuration(os.Getenv("CHAOS_DURATION"))
	iters := envInt(t, "CHAOS_ITERATIONS")
	if err != nil && iters == 0 {
		t.Skip("the soak runs under make chaos (CHAOS_DURATION or CHAOS_ITERATIONS)")
	}
	started := time.Now()
	gen := rapid.Custom(chaos.DrawCase)
	drivers := map[string]func() store.Store{"memory": memory, "bolt": bolt(t)}
	counts := map[string]*chaos.Counts{"memory": {}, "bolt": {}}
	seed := uint64(started.UnixNano())
	for i := 0; ; i++ {
		if iters > 0 && i >= iters || iters == 0 && time.Since(started) > dur {
			break
		}
		for name, newStore := range drivers {
			chaos.CheckCase(t, gen.Example(int(seed)+i), seed+uint64(i), newStore, counts[name])
		}
	}
	for name, c := range counts {
		t.Logf("%s: %s", name, c.String())
	}
	if path := os.Getenv("CHAOS_RESULTS"); path != "" {
		if err := chaos.WriteResults(path, time.Since(started), counts); err != nil {
			t.Fatal(err)
		}
	}
}
