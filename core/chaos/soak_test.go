package chaos_test

import (
	"os"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/chaos"
	"github.com/lazyflow/lazyflow/core/store"
)

// TestChaosSoak is `make chaos`: the suite's cases for CHAOS_DURATION (or
// CHAOS_ITERATIONS cases) on the memory and bolt drivers, then kill -9
// cycles of `lazyflow serve` for a fifth as long again, its counts written
// to CHAOS_RESULTS with the rows other packages' soaks (DynamoDB Local)
// saved in CHAOS_PARTS. `make test` runs the short suite instead.
func TestChaosSoak(t *testing.T) {
	cfg := chaos.SoakOrSkip(t)
	started := time.Now()
	counts := chaos.Soak(t, cfg, map[string]func() store.Store{"memory": memory, "bolt": bolt(t)})
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
		others, err := chaos.LoadParts(os.Getenv("CHAOS_PARTS"), counts)
		if err != nil {
			t.Fatal(err)
		}
		if err := chaos.WriteResults(path, time.Since(started)+others, counts, kill); err != nil {
			t.Fatal(err)
		}
	}
}
