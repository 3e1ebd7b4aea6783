package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

var update = flag.Bool("update", false, "rewrite the tables (mistral.md, expressions.md) and baselines of the tests run")

// caseTimeout bounds one Lazyflow run (the oracle's own bound is 60 s): a
// run that ends in it is a difference, so it is generous for a loaded machine.
const caseTimeout = 60 * time.Second

type corpus struct {
	Mistral string  `json:"mistral"`
	Cases   []cCase `json:"cases"`
}

type cCase struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Defs   []struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	} `json:"defs"`
	Workflow      string         `json:"workflow"`
	Input         map[string]any `json:"input"`
	Params        map[string]any `json:"params"`
	NotComparable string         `json:"not_comparable,omitempty"`
	// CompareOrder: the key order of the output and of the published values
	// is compared too (Lazyflow's own cases, see extract.py).
	CompareOrder bool `json:"compare_order,omitempty"`
}

// result is the contract of `lazyflow run --json`, on both sides.
type result struct {
	State     string       `json:"state"`
	StateInfo string       `json:"state_info"`
	Output    any          `json:"output"`
	Tasks     []taskResult `json:"tasks"`
	// Order is keyOrder's text, for a case that compares order.
	Order string `json:"order,omitempty"`
}

type taskResult struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	StateInfo string `json:"state_info"`
	Published any    `json:"published"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// readCorpus reads the cases keeping JSON's integers integers: Mistral's
// tests pass Python ints, and a workflow that formats one must see 1, not
// 1.0.
func readCorpus(t *testing.T) corpus {
	t.Helper()
	b, err := os.ReadFile("corpus/cases.json")
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var cp corpus
	if err := dec.Decode(&cp); err != nil {
		t.Fatalf("parse corpus: %v", err)
	}
	for i := range cp.Cases {
		c := &cp.Cases[i]
		c.Input, _ = value.AsGoMap(value.Normalize(c.Input))
		c.Params, _ = value.AsGoMap(value.Normalize(c.Params))
	}
	return cp
}

// plain round-trips v through JSON so both sides compare as JSON values.
func plain(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unencodable: %v", err)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// runLazyflow runs one case as `lazyflow run --json` does: embedded host,
// memory store, the host's std actions.
func runLazyflow(ctx context.Context, c cCase) result {
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	st := kvstore.NewMemory()
	h := embedded.New(embedded.Options{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h.CallbackKey = []byte("compat-differential-tier-key")
	h.Run(ctx)
	defer h.Close()
	for i, d := range c.Defs {
		file := fmt.Sprintf("%s.%d.yaml", c.Name, i)
		if _, err := dsl.LoadWith(file, []byte(d.Text), dsl.Options{Actions: actions.New()}); err != nil {
			return result{State: "INVALID", StateInfo: err.Error()}
		}
		if _, err := h.Register(ctx, file, []byte(d.Text)); err != nil {
			return result{State: "INVALID", StateInfo: err.Error()}
		}
	}
	req := service.StartRequest{Workflow: c.Workflow, Input: value.MapOf(c.Input)}
	if env, ok := value.AsMap(c.Params["env"]); ok {
		req.Env = env
	}
	if tn, ok := c.Params["task_name"].(string); ok {
		req.Target = tn
	}
	ex, _, err := h.Start(ctx, req)
	if err != nil {
		return result{State: "REFUSED", StateInfo: err.Error()}
	}
	final, err := h.Wait(ctx, ex.ID, true)
	if err == nil && final.State.Terminal() {
		err = h.Settle(ctx, ex.ID)
	}
	if err != nil {
		return result{State: "TIMEOUT", StateInfo: err.Error()}
	}
	tasks, err := st.Tasks(ctx, ex.ID)
	if err != nil {
		return result{State: "HARNESS_ERROR", StateInfo: err.Error()}
	}
	res := result{State: string(final.State), StateInfo: final.StateInfo, Output: plain(final.Output), Tasks: []taskResult{}}
	var ordered []taskResult
	for _, tk := range tasks {
		if tk.State == engine.Waiting && tk.Seq == 0 {
			continue // a join record that never fired is bookkeeping, as in `lazyflow run`
		}
		pub := any(map[string]any{})
		if tk.Published != nil {
			pub = plain(tk.Published)
		}
		res.Tasks = append(res.Tasks, taskResult{Name: tk.Name, State: string(tk.State), StateInfo: tk.StateInfo, Published: pub})
		ordered = append(ordered, taskResult{Name: tk.Name, Published: tk.Published})
	}
	if c.CompareOrder {
		res.Order = keyOrder(final.Output, ordered)
	}
	return res
}

// keyOrder is the output, then each task's published values (sorted
// lines), as JSON text with the dicts in their own order: oracle.py's
// key_order, which Mistral's side of the file keeps as text.
func keyOrder(output any, tasks []taskResult) string {
	lines := make([]string, 0, len(tasks))
	for _, t := range tasks {
		pub := t.Published
		if pub == (*value.Map)(nil) {
			pub = value.NewMap(0)
		}
		lines = append(lines, fmt.Sprintf("task %s: %s", t.Name, value.JSON(pub, -1, true)))
	}
	sort.Strings(lines)
	return strings.Join(append([]string{"output: " + value.JSON(output, -1, true)}, lines...), "\n")
}

// taskSummary is one task name's executions: states and published values,
// each sorted, so the order executions were created in does not matter.
type taskSummary struct {
	states    []string
	published []string
}

func summarize(ts []taskResult) map[string]*taskSummary {
	out := map[string]*taskSummary{}
	for _, t := range ts {
		s := out[t.Name]
		if s == nil {
			s = &taskSummary{}
			out[t.Name] = s
		}
		s.states = append(s.states, t.State)
		b, _ := json.Marshal(masked(t.Published))
		s.published = append(s.published, string(b))
	}
	for _, s := range out {
		sort.Strings(s.states)
		sort.Strings(s.published)
	}
	return out
}

// userStateInfo reports whether the case's definitions write a state_info
// themselves (a fail command's msg): only then is it compared, as Mistral's
// own messages are not part of the contract.
func userStateInfo(c cCase) bool {
	for _, d := range c.Defs {
		if strings.Contains(d.Text, "msg") {
			return true
		}
	}
	return false
}

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// compare lists the differences between Mistral's result m and Lazyflow's l,
// most telling first; none means the case agrees.
func compare(c cCase, m, l result) []string {
	var d []string
	if m.State != l.State {
		d = append(d, fmt.Sprintf("state: Mistral %s, Lazyflow %s", m.State, l.State))
		if l.State == "INVALID" || l.State == "REFUSED" || m.State == "INVALID" || m.State == "REFUSED" {
			d = append(d, fmt.Sprintf("Mistral: %q; Lazyflow: %q", firstLine(m.StateInfo), firstLine(l.StateInfo)))
		}
	}
	if m.State == "INVALID" || m.State == "REFUSED" {
		return d
	}
	ms, ls := summarize(m.Tasks), summarize(l.Tasks)
	for _, name := range sortedKeys(ms, ls) {
		a, b := ms[name], ls[name]
		switch {
		case a == nil:
			d = append(d, fmt.Sprintf("task %s: only Lazyflow runs it (%v)", name, b.states))
		case b == nil:
			d = append(d, fmt.Sprintf("task %s: only Mistral runs it (%v)", name, a.states))
		case !reflect.DeepEqual(a.states, b.states):
			d = append(d, fmt.Sprintf("task %s: states Mistral %v, Lazyflow %v", name, a.states, b.states))
		case !reflect.DeepEqual(a.published, b.published):
			d = append(d, fmt.Sprintf("task %s: published Mistral %s, Lazyflow %s", name, clip(a.published), clip(b.published)))
		}
	}
	// A paused execution has no output yet: Mistral shows {}, Lazyflow null.
	if m.State == l.State && m.State != "PAUSED" && !reflect.DeepEqual(userOutput(m), userOutput(l)) {
		d = append(d, fmt.Sprintf("output: Mistral %s, Lazyflow %s", short(m.Output), short(l.Output)))
	}
	if c.CompareOrder && m.State == l.State && m.Order != l.Order {
		d = append(d, fmt.Sprintf("key order: Mistral %q, Lazyflow %q", m.Order, l.Order))
	}
	if m.State == l.State && m.State == "ERROR" && userStateInfo(c) && m.StateInfo != l.StateInfo {
		d = append(d, fmt.Sprintf("state_info: Mistral %q, Lazyflow %q", firstLine(m.StateInfo), firstLine(l.StateInfo)))
	}
	return d
}

// userOutput is the output without the engine's own error message: an
// execution that ends ERROR gets its state_info as output "result" on both
// sides, and only user-written messages are part of the contract.
func userOutput(r result) any {
	out := plain(r.Output)
	if m, ok := value.AsGoMap(out); ok && r.State == "ERROR" {
		if s, ok := m["result"].(string); ok && s == r.StateInfo {
			delete(m, "result")
		}
	}
	return masked(out)
}

// Values that differ at every run on either side: Mistral's UUIDs,
// Lazyflow's execution and task ids, creation and update timestamps.
var (
	volatileID   = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\bex-[0-9a-f]{24}(/[\w.\-\[\]#]+)?`)
	volatileTime = regexp.MustCompile(`\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?`)
)

// masked replaces the volatile parts of every string in v with their kind
// (<id>, <time>), so a case compares the shape of ids and timestamps, not
// their values.
func masked(v any) any {
	return value.Transform(v, func(x any) any {
		if s, ok := x.(string); ok {
			return volatileTime.ReplaceAllString(volatileID.ReplaceAllString(s, "<id>"), "<time>")
		}
		return x
	})
}

func clip(ss []string) string {
	s := strings.Join(ss, " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func sortedKeys(a, b map[string]*taskSummary) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]*taskSummary{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// verdict is one case's outcome in the table.
type verdict struct {
	c      cCase
	status string // agree, differ, not comparable
	why    []string
}

func resultsPath() string {
	if p := os.Getenv("LAZYFLOW_MISTRAL_RESULTS"); p != "" {
		return p
	}
	return "mistral-results.json"
}

// TestMistralCase runs the cases named (comma-separated) in
// LAZYFLOW_COMPAT_CASE and logs both sides' results, for working on one
// difference: go test ./core/compat -run TestMistralCase -v.
func TestMistralCase(t *testing.T) {
	names := os.Getenv("LAZYFLOW_COMPAT_CASE")
	if names == "" {
		return
	}
	cp := readCorpus(t)
	var oracle struct {
		Results map[string]result `json:"results"`
	}
	readJSON(t, resultsPath(), &oracle)
	for _, c := range cp.Cases {
		if !strings.Contains(","+names+",", ","+c.Name+",") {
			continue
		}
		l := runLazyflow(context.Background(), c)
		t.Logf("%s\nMistral:  %s\nLazyflow: %s\ndiffers: %q", c.Name, js(oracle.Results[c.Name]), js(l), compare(c, oracle.Results[c.Name], l))
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMistralDifferential runs Lazyflow on every comparable case of the
// corpus and compares it with Mistral's result. A case baseline.txt lists as
// agreeing that differs now fails the test; known differences do not.
func TestMistralDifferential(t *testing.T) {
	cp := readCorpus(t)
	var oracle struct {
		Mistral string            `json:"mistral"`
		Results map[string]result `json:"results"`
	}
	readJSON(t, resultsPath(), &oracle)
	if oracle.Mistral != cp.Mistral {
		t.Fatalf("oracle results are of Mistral %s, the corpus of %s", oracle.Mistral, cp.Mistral)
	}
	verdicts := judge(t, cp.Cases, oracle.Results)
	baseline := readBaseline(t)
	var regressions []string
	for _, v := range verdicts {
		if baseline[v.c.Name] && v.status != "agree" {
			regressions = append(regressions, fmt.Sprintf("%s (%s): %s", v.c.Name, v.c.Source, strings.Join(v.why, "; ")))
		}
	}
	if *update {
		writeTable(t, verdicts)
		writeBaseline(t, verdicts)
	}
	for _, r := range regressions {
		t.Errorf("agreed with Mistral, differs now: %s", r)
	}
	for _, v := range verdicts {
		if deliberate[v.c.Name] != "" && v.status != "differ" {
			t.Errorf("%s is listed as a deliberate difference but is %s now: remove it from deliberate", v.c.Name, v.status)
		}
	}
}

// judge runs the comparable cases, four at a time: the tier's time is
// mostly spent waiting on workflows' own delays, not on the CPU.
func judge(t *testing.T, cases []cCase, oracle map[string]result) []verdict {
	out := make([]verdict, len(cases))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range cases {
		out[i] = verdict{c: c}
		m, ok := oracle[c.Name]
		switch {
		case c.NotComparable != "":
			out[i].status, out[i].why = "not comparable", []string{c.NotComparable}
			continue
		case !ok:
			out[i].status, out[i].why = "not comparable", []string{"no oracle result for this case"}
			continue
		case m.State == "TIMEOUT" || m.State == "ORACLE_ERROR":
			out[i].status, out[i].why = "not comparable", []string{"Mistral: " + firstLine(m.StateInfo)}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, c cCase, m result) {
			defer func() { <-sem; wg.Done() }()
			l := runLazyflow(context.Background(), c)
			if d := compare(c, m, l); len(d) > 0 {
				if why := deliberate[c.Name]; why != "" {
					d = append([]string{"deliberate: " + why}, d...)
				}
				out[i].status, out[i].why = "differ", d
			} else {
				out[i].status = "agree"
			}
		}(i, c, m)
	}
	wg.Wait()
	return out
}

const baselinePath = "baseline.txt"

func readBaseline(t *testing.T) map[string]bool { return readIDs(t, baselinePath) }

func writeBaseline(t *testing.T, vs []verdict) {
	var b strings.Builder
	b.WriteString("# Cases of core/compat/corpus/cases.json where Lazyflow agrees with Mistral 23.0.0.\n")
	b.WriteString("# Generated by `go test ./core/compat -update`; a listed case that differs fails the tier.\n")
	for _, v := range vs {
		if v.status == "agree" {
			b.WriteString(v.c.Name + "\n")
		}
	}
	if err := os.WriteFile(baselinePath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
