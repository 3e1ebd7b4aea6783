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
// CHAOS_ITERATIONS cases) on the memory and bolt drivers, then kill -9
// cycles of `lazyflow serve` for a fifth as long again, its counts
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
	// kill -9 cycles of a served process, for a fifth of the soak's time
	// (at least one round of 6 cases and 5 kills).
	var kill chaos.Kill9Counts
	bin := buildLazyflow(t)
	soak, killFrom := time.Since(started), time.Now()
	for round := 0; round == 0 || time.Since(killFrom) < soak/5; round++ {
		kill.Add(serveKill9(t, bin, 6*round, 6, 5))
	}
	t.Logf("kill -9: kills=%d restarts=%d executions=%d lost=0 stuck=0", kill.Kills, kill.Restarts, kill.Executions)
	if path := os.Getenv("CHAOS_RESULTS"); path != "" {
		if err := chaos.WriteResults(path, time.Since(started), counts, kill); err != nil {
			t.Fatal(err)
		}
	}
}
