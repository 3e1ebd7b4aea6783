package chaos

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// WriteResults writes a soak's counts as Markdown to path.
func WriteResults(path string, took time.Duration, perDriver map[string]*Counts) error {
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
