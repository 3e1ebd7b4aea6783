package chaos

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Kill9Counts is what the soak's kill -9 cycles did: `lazyflow serve`
// killed with SIGKILL and restarted on its data directory, and the
// executions checked afterwards against their fault-free runs. A lost or
// stuck execution fails the soak, so a written file has them at 0.
type Kill9Counts struct {
	Kills, Restarts, Executions int
}

// Add adds o's counts to c.
func (c *Kill9Counts) Add(o Kill9Counts) {
	c.Kills += o.Kills
	c.Restarts += o.Restarts
	c.Executions += o.Executions
}

// WriteResults writes a soak's counts as Markdown to path.
func WriteResults(path string, took time.Duration, perDriver map[string]*Counts, kill Kill9Counts) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos soak results\n\nWritten by `make chaos` (core/chaos, TestChaosSoak) on %s; ran %s.\n",
		time.Now().UTC().Format("2006-01-02"), took.Round(time.Second))
	b.WriteString("Every case runs a generated workflow fault-free and again under a random fault schedule;\n")
	b.WriteString("any lost, doubled or stuck result fails the soak, so a written file has them all at 0.\n\n")
	var drivers []string
	for d := range perDriver {
		drivers = append(drivers, d)
	}
	sort.Strings(drivers)
	b.WriteString("| driver | cases | executions | lost | doubled | stuck |\n|---|---|---|---|---|---|\n")
	total := map[string]int{}
	for _, d := range drivers {
		c := perDriver[d]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", d, c.Cases, c.Executions, c.Lost, c.Doubled, c.Stuck)
		for k, v := range c.Faults {
			total[k] += v
		}
	}
	b.WriteString("\nkill -9 of `lazyflow serve` (built-in actions, all safe-rerun: an action a kill\n")
	b.WriteString("interrupted runs again by design, so a served run has no doubled count):\n\n")
	b.WriteString("| kills | restarts | executions checked | lost | stuck |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | 0 | 0 |\n", kill.Kills, kill.Restarts, kill.Executions)
	b.WriteString("\n| fault or finding | count |\n|---|---|\n")
	var kinds []string
	for k := range total {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "| %s | %d |\n", k, total[k])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write chaos results: %w", err)
	}
	return nil
}
