package compat

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	wfDraws = flag.Int("wf-draws", 20, "workflows TestWorkflowDraws draws and runs on Mistral and Lazyflow")
	wfSeed  = flag.Uint64("wf-seed", 1, "seed of TestWorkflowDraws's generator")
	// Mistral takes ~0.3-1 s a workflow: while working on a difference, keep
	// its results and judge Lazyflow again without running it.
	wfResults = flag.String("wf-results", "", "file of Mistral's results for TestWorkflowDraws: read when it holds every draw, else written after running oracle.py")
)

// TestWorkflowDraws is the workflow tier's generator: -wf-draws workflows
// drawn by wfgen_test.go's generator from a PRNG with a fixed seed
// (-wf-seed), run on Mistral 23.0.0 (oracle.py, over a cases file) and on
// Lazyflow embedded, and judged as the corpus cases are (judge, compare).
// The same commit always runs the same workflows, so it fails only on a
// change. A workflow with a racing join (one, 2) compares its tasks' states
// only. wfExclusions lists the differences known and left; a new one fails
// with its YAML, to pin as a lazyflow.draw.* case of extract.py once fixed.
func TestWorkflowDraws(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Mistral 23.0.0 (core/compat/install.sh)")
	}
	rng := rand.New(rand.NewPCG(*wfSeed, 0x77f))
	draws := make([]wfDrawCase, *wfDraws)
	cases := make([]cCase, len(draws))
	for i := range draws {
		draws[i] = drawWorkflow(rng, fmt.Sprintf("draw.%d.%d", *wfSeed, i))
		cases[i] = draws[i].c
	}
	oracle := drawOracle(t, cases)
	verdicts := judge(t, cases, oracle)
	known := map[string]int{}
	agree, failed, skipped := 0, 0, 0
	for i, v := range verdicts {
		why := engineInfo(v.why)
		if v.status == "differ" && draws[i].statesOnly {
			why = statesOnly(why)
		}
		switch {
		case v.status == "not comparable":
			skipped++
			t.Logf("%s not comparable: %s", v.c.Name, strings.Join(why, "; "))
		case v.status == "agree" || len(why) == 0:
			agree++
		case excludedDraw(v.c, why) != "":
			known[excludedDraw(v.c, why)]++
		default:
			failed++
			t.Errorf("%s (seed %d) differs from Mistral:\n  %s\n  Mistral: %s\n  input %s params %s\n%s", v.c.Name, *wfSeed,
				strings.Join(why, "\n  "), js(oracle[v.c.Name]), js(v.c.Input), js(v.c.Params), v.c.Defs[0].Text)
		}
	}
	for _, why := range slices.Sorted(maps.Keys(known)) {
		t.Logf("%5d known: %s", known[why], why)
	}
	t.Logf("seed %d: %d workflows, %d agree, %d known differences, %d new differences, %d not comparable",
		*wfSeed, len(draws), agree, len(draws)-agree-failed-skipped, failed, skipped)
}

// statesOnly keeps the differences in end state and task states: a racing
// join's context, and so what follows it publishes and outputs, is timing.
func statesOnly(why []string) []string {
	var out []string
	for _, w := range why {
		if !strings.Contains(w, ": published ") && !strings.HasPrefix(w, "output: ") {
			out = append(out, w)
		}
	}
	return out
}

// engineInfo drops a difference of state_info where neither side is a
// fail(msg=…) of the draw's ("stopped at …"): compare counts any
// workflow holding "msg" as writing its own state_info, and the engines'
// own messages are not part of the contract.
func engineInfo(why []string) []string {
	var out []string
	for _, w := range why {
		if !strings.HasPrefix(w, "state_info: ") || strings.Contains(w, `"stopped at`) {
			out = append(out, w)
		}
	}
	return out
}

// wfExclusions are the differences the generator reaches that are known and
// left, each with its reason; a draw is skipped when its YAML and one of its
// differences match. Deleting an entry turns the check back on.
var wfExclusions = []struct {
	yaml, diff string
	why        string
}{
	{yaml: `std\.echo output=ab\b`, diff: `^state: Mistral \w+, Lazyflow INVALID`,
		why: "a std action's required input missing (output=ab, a bare word Mistral's inline pattern does not read) is refused at load; Mistral fails the task when it runs (README: stricter checks)"},
}

func excludedDraw(c cCase, why []string) string {
	for _, x := range wfExclusions {
		if !matches(x.yaml, c.Defs[0].Text) {
			continue
		}
		for _, w := range why {
			if matches(x.diff, w) {
				return x.why
			}
		}
	}
	return ""
}

// drawOracle runs the cases on Mistral (oracle.py over a cases file), or
// reads -wf-results when it holds them all.
func drawOracle(t *testing.T, cases []cCase) map[string]result {
	var res struct {
		Results map[string]result `json:"results"`
	}
	if *wfResults != "" {
		if b, err := os.ReadFile(*wfResults); err == nil && json.Unmarshal(b, &res) == nil && hasAll(res.Results, cases) {
			return res.Results
		}
	}
	py, err := oraclePython()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "cases.json"), filepath.Join(dir, "results.json")
	if *wfResults != "" {
		in = *wfResults + ".cases.json" // kept, to run oracle.py on one (--only)
	}
	b, err := json.MarshalIndent(corpus{Mistral: "23.0.0", Cases: cases}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(py, "oracle.py", in, out, "--scheduler-delay", "0.1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oracle.py over %d drawn workflows: %v\n%s", len(cases), err, lastLines(stderr.String(), 20))
	}
	t.Logf("Mistral ran %d workflows in %s (%.2f s each, with its start)", len(cases),
		time.Since(start).Round(time.Second), time.Since(start).Seconds()/float64(len(cases)))
	readJSON(t, out, &res)
	if *wfResults != "" {
		if err := os.Rename(out, *wfResults); err != nil {
			b, _ := os.ReadFile(out)
			if err := os.WriteFile(*wfResults, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return res.Results
}

func hasAll(res map[string]result, cases []cCase) bool {
	for _, c := range cases {
		if _, ok := res[c.Name]; !ok {
			return false
		}
	}
	return true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// oraclePython installs Mistral 23.0.0 if needed (install.sh) and returns
// its venv's python.
func oraclePython() (string, error) {
	var stderr bytes.Buffer
	install := exec.Command("./install.sh")
	install.Stderr = &stderr
	out, err := install.Output()
	if err != nil {
		return "", fmt.Errorf("core/compat/install.sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// TestWorkflowDrawPrint prints the draws named in LAZYFLOW_DRAW (seed.index,
// comma-separated) for working on one: go test ./core/compat -run
// TestWorkflowDrawPrint -v.
func TestWorkflowDrawPrint(t *testing.T) {
	want := os.Getenv("LAZYFLOW_DRAW")
	if want == "" {
		return
	}
	for _, w := range strings.Split(want, ",") {
		var seed uint64
		var idx int
		if _, err := fmt.Sscanf(w, "%d.%d", &seed, &idx); err != nil {
			t.Fatalf("LAZYFLOW_DRAW %q: want seed.index: %v", w, err)
		}
		rng := rand.New(rand.NewPCG(seed, 0x77f))
		var d wfDrawCase
		for i := 0; i <= idx; i++ {
			d = drawWorkflow(rng, fmt.Sprintf("draw.%d.%d", seed, i))
		}
		t.Logf("%s input %s params %s\n%s", d.c.Name, js(d.c.Input), js(d.c.Params), d.c.Defs[0].Text)
	}
}
