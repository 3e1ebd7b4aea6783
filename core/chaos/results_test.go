package chaos_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/chaos"
)

// TestResultsMergeParts: a driver soaked in another package (DynamoDB
// Local, which core/ may not import) is a row of the one results table,
// with its faults in the totals and its time in the run's.
func TestResultsMergeParts(t *testing.T) {
	dir := t.TempDir()
	ddb := &chaos.Counts{}
	ddb.Add(3, map[string]int{chaos.FaultConflict: 4}, nil)
	ddb.Add(2, map[string]int{chaos.FaultConflict: 1, chaos.FaultThrottle: 2}, nil)
	ddb.Elapsed = 90 * time.Second
	if err := chaos.SavePart(filepath.Join(dir, "parts"), "dynamodb-local", ddb); err != nil {
		t.Fatal(err)
	}
	mem := &chaos.Counts{}
	mem.Add(7, map[string]int{chaos.FaultConflict: 10}, nil)
	mem.Elapsed = 30 * time.Second
	counts := map[string]*chaos.Counts{"memory": mem}
	took, err := chaos.LoadParts(filepath.Join(dir, "parts"), counts)
	if err != nil {
		t.Fatal(err)
	}
	if took != 90*time.Second {
		t.Fatalf("parts took %s, want the part's 1m30s", took)
	}
	path := filepath.Join(dir, "results.md")
	if err := chaos.WriteResults(path, time.Minute+took, counts, chaos.Kill9Counts{Kills: 1, Restarts: 1, Executions: 2}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ran 2m30s.",
		"| dynamodb-local | 2 | 5 | 0 | 0 | 0 | 1m30s |\n| memory | 1 | 7 | 0 | 0 | 0 | 30s |\n",
		"| store conflict | 15 |",
		"| store throttled | 2 |",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results file lacks %q:\n%s", want, b)
		}
	}
}

// TestLoadPartsRefusesTwiceSoaked: a part for a driver the writing soak
// also ran (a stale or misnamed part) fails instead of replacing its row.
func TestLoadPartsRefusesTwiceSoaked(t *testing.T) {
	dir := t.TempDir()
	if err := chaos.SavePart(dir, "memory", &chaos.Counts{}); err != nil {
		t.Fatal(err)
	}
	_, err := chaos.LoadParts(dir, map[string]*chaos.Counts{"memory": {}})
	if err == nil || !strings.Contains(err.Error(), `driver "memory" was soaked twice`) {
		t.Fatalf("LoadParts of a part for memory beside memory's own counts: %v, want an error naming the driver", err)
	}
	if took, err := chaos.LoadParts(filepath.Join(dir, "none"), map[string]*chaos.Counts{}); err != nil || took != 0 {
		t.Fatalf("LoadParts of a missing directory: %s, %v; want nothing added", took, err)
	}
}

// TestSoakFromEnvNamesBadSetting: a mistyped soak setting is refused with
// the variable named, not run as a default-length soak.
func TestSoakFromEnvNamesBadSetting(t *testing.T) {
	for name, v := range map[string]string{"CHAOS_DURATION": "ten", "CHAOS_ITERATIONS": "-1", "CHAOS_SEED": "x"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, v)
			if _, _, err := chaos.SoakFromEnv(); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("%s=%s: %v, want an error naming %s", name, v, err, name)
			}
		})
	}
	t.Setenv("CHAOS_ITERATIONS", "2")
	t.Setenv("CHAOS_SEED", "42")
	cfg, ok, err := chaos.SoakFromEnv()
	if err != nil || !ok || cfg.Iterations != 2 || cfg.Seed != 42 {
		t.Fatalf("CHAOS_ITERATIONS=2 CHAOS_SEED=42: %+v, %v, %v", cfg, ok, err)
	}
}
