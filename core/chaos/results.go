package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	fmt.Fprintf(&b, "# Chaos soak results\n\nWritten by `make chaos` (TestChaosSoak in core/chaos, TestChaosSoakDynamoDBLocal in\nfunctions/aws/dynamostore) on %s; ran %s.\n",
		time.Now().UTC().Format("2006-01-02"), took.Round(time.Second))
	b.WriteString("Every case runs a generated workflow fault-free and again under a random fault schedule;\n")
	b.WriteString("any lost, doubled or stuck result fails the soak, so a written file has them all at 0.\n\n")
	var drivers []string
	for d := range perDriver {
		drivers = append(drivers, d)
	}
	sort.Strings(drivers)
	b.WriteString("| driver | cases | executions | lost | doubled | stuck | time |\n|---|---|---|---|---|---|---|\n")
	total := map[string]int{}
	for _, d := range drivers {
		c := perDriver[d]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s |\n", d, c.Cases, c.Executions, c.Lost, c.Doubled, c.Stuck, c.Elapsed.Round(time.Second))
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

// SavePart writes one driver's soak counts to dir, for the soak that
// writes the results file (LoadParts): a driver core/ may not import soaks
// in its own package, and its row still belongs in the one table.
func SavePart(dir, driver string, c *Counts) error {
	c.mu.Lock()
	b, err := json.MarshalIndent(c, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("chaos counts of %s: %w", driver, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chaos parts directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, driver+partExt), b, 0o644); err != nil {
		return fmt.Errorf("save chaos counts of %s: %w", driver, err)
	}
	return nil
}

const partExt = ".json"

// LoadParts adds the counts SavePart left in dir to perDriver and returns
// the time their cases took. A missing dir adds nothing; a driver already
// in perDriver, or a part that does not decode, is an error: a row must
// not be replaced or dropped silently.
func LoadParts(dir string, perDriver map[string]*Counts) (time.Duration, error) {
	if dir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("chaos parts: %w", err)
	}
	var took time.Duration
	for _, e := range entries {
		driver, ok := strings.CutSuffix(e.Name(), partExt)
		if !ok || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if _, dup := perDriver[driver]; dup {
			return 0, fmt.Errorf("chaos parts: %s: driver %q was soaked twice", path, driver)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("chaos parts: %w", err)
		}
		c := &Counts{}
		if err := json.Unmarshal(b, c); err != nil {
			return 0, fmt.Errorf("chaos parts: %s: %w", path, err)
		}
		perDriver[driver] = c
		took += c.Elapsed
	}
	return took, nil
}
