package chaos

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/lazyflow/lazyflow/core/store"
)

// SoakConfig is how long a soak runs and from which seed. The soak is
// `make chaos`: TestChaosSoak here (memory, bolt) and a soak test in each
// package with a driver core/ may not import (functions/aws/dynamostore),
// all configured by the same environment.
type SoakConfig struct {
	Duration   time.Duration // run cases until this much time has passed
	Iterations int           // or this many cases per driver, when > 0
	Seed       uint64        // case i is drawn from Seed+i and faulted by it
}

// SoakFromEnv reads CHAOS_DURATION, CHAOS_ITERATIONS and CHAOS_SEED (the
// seed defaults to the clock). ok is false when neither a duration nor a
// number of iterations is set: the soak is not asked for.
func SoakFromEnv() (cfg SoakConfig, ok bool, err error) {
	if v := os.Getenv("CHAOS_DURATION"); v != "" {
		if cfg.Duration, err = time.ParseDuration(v); err != nil {
			return cfg, false, fmt.Errorf("CHAOS_DURATION=%q: %w", v, err)
		}
	}
	if v := os.Getenv("CHAOS_ITERATIONS"); v != "" {
		if cfg.Iterations, err = strconv.Atoi(v); err != nil || cfg.Iterations < 0 {
			return cfg, false, fmt.Errorf("CHAOS_ITERATIONS=%q: not a count of cases", v)
		}
	}
	cfg.Seed = uint64(time.Now().UnixNano())
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		if cfg.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return cfg, false, fmt.Errorf("CHAOS_SEED=%q: not an unsigned integer", v)
		}
	}
	return cfg, cfg.Duration > 0 || cfg.Iterations > 0, nil
}

// SoakOrSkip is a soak test's start: its configuration from the
// environment, the test skipped when no soak is asked for, and the seed
// logged so that a whole soak can be replayed.
func SoakOrSkip(t testing.TB) SoakConfig {
	t.Helper()
	cfg, ok, err := SoakFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("the soak runs under make chaos (CHAOS_DURATION or CHAOS_ITERATIONS)")
	}
	t.Logf("soak seed %d", cfg.Seed)
	return cfg
}

// Soak runs generated cases on every driver of drivers (a maker of fresh
// stores each) until cfg's duration or iterations are used up, each case
// on every driver in turn, and returns each driver's counts with the time
// its cases took. A failure names the case's seed, so that CHAOS_SEED=that
// CHAOS_ITERATIONS=1 replays exactly that case.
func Soak(t TB, cfg SoakConfig, drivers map[string]func() store.Store) map[string]*Counts {
	t.Helper()
	names := make([]string, 0, len(drivers))
	counts := make(map[string]*Counts, len(drivers))
	for name := range drivers {
		names = append(names, name)
		counts[name] = &Counts{}
	}
	sort.Strings(names)
	gen := rapid.Custom(DrawCase)
	started := time.Now()
	for i := uint64(0); ; i++ {
		if cfg.Iterations > 0 && i >= uint64(cfg.Iterations) || cfg.Iterations == 0 && time.Since(started) > cfg.Duration {
			break
		}
		seed := cfg.Seed + i
		c := gen.Example(int(seed))
		for _, name := range names {
			from := time.Now()
			CheckCase(seeded{t, name, seed}, c, seed, drivers[name], counts[name])
			counts[name].addTime(time.Since(from))
		}
	}
	return counts
}

// seeded names the driver and the seed of the case in a failure.
type seeded struct {
	TB
	driver string
	seed   uint64
}

func (s seeded) Fatalf(format string, args ...any) {
	s.TB.Helper()
	s.TB.Fatalf("%s, case seed %d (replay: CHAOS_SEED=%d CHAOS_ITERATIONS=1): %s",
		s.driver, s.seed, s.seed, fmt.Sprintf(format, args...))
}
