package compat

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// The expression tier: every case of corpus/expressions.json evaluated by
// core/expr and, in exproracle.py, by Mistral 23.0.0's own evaluator (yaql
// 3.2.0 and Jinja2 3.1.6 as Mistral configures them). Results compare as
// canonical JSON (Python's json.dumps, so 1 and 1.0 differ); two errors
// agree whatever their wording.
const (
	exprCorpusPath   = "corpus/expressions.json"
	exprBaselinePath = "expr-baseline.txt"
	exprTablePath    = "expressions.md"
	// minExprCases keeps the corpus from shrinking below what the tier promises.
	minExprCases = 2000
)

type exprCase struct {
	ID   string `json:"id"`
	Lang string `json:"lang"`
	Expr string `json:"expr"`
}

type exprOracle struct {
	Value  *string `json:"value"`
	Sorted *string `json:"sorted"`
	Error  string  `json:"error"`
}

// Kinds of difference, worst first: a wrong value passes unnoticed.
const (
	kindWrong    = "silently different value"
	kindOrder    = "dict order only"
	kindAccepts  = "Lazyflow gives a value where Mistral fails"
	kindFails    = "Lazyflow fails where Mistral gives a value"
	kindAgree    = "agree"
	kindNoOracle = "no oracle result"
)

type exprVerdict struct {
	c        exprCase
	kind     string
	py, lazy string
}

// scalarKey is a dict key exproracle.py marks as not a string ("$key:3").
// Mistral stores a result with json.dumps, which writes such a key as its
// JSON text ("3", "null", "false"), and that text is what Lazyflow's string
// keys hold; a key json.dumps refuses (a tuple) keeps its mark.
var scalarKey = regexp.MustCompile(`"\$key:(-?[0-9][^"]*|null|true|false)":`)

// stored is the oracle's JSON text as Mistral stores it.
func stored(s *string) *string {
	if s == nil {
		return nil
	}
	r := scalarKey.ReplaceAllString(*s, `"$1":`)
	return &r
}

// judgeExpr classifies one case from both sides' outcomes.
func judgeExpr(o exprOracle, lazy string, lazyErr error) string {
	o.Value, o.Sorted = stored(o.Value), stored(o.Sorted)
	switch {
	case o.Value == nil && o.Error == "":
		return kindNoOracle
	case o.Error != "" && lazyErr != nil:
		return kindAgree
	case o.Error != "":
		return kindAccepts
	case lazyErr != nil:
		return kindFails
	case *o.Value == lazy:
		return kindAgree
	case o.Sorted != nil && *o.Sorted == lazy:
		return kindOrder
	}
	return kindWrong
}

// evalExpr evaluates one case the way a workflow value is evaluated, as
// canonical JSON.
func evalExpr(c exprCase, ctxJSON []byte) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	data, err := value.FromJSONExact(ctxJSON)
	if err != nil {
		return "", err
	}
	v, err := expr.Compile(c.Expr)
	if err != nil {
		return "", err
	}
	// The context is the root itself, so that its own key order shows.
	r, err := v.Eval(&expr.Context{Root: data, RootSet: true})
	if err != nil {
		return "", err
	}
	return value.JSON(r, -1, false), nil
}

func exprResultsPath() string {
	if p := os.Getenv("LAZYFLOW_EXPR_RESULTS"); p != "" {
		return p
	}
	return "expr-results.json"
}

// TestExpressionDifferential fails when a case expr-baseline.txt lists as
// agreeing differs; with -update it rewrites the baseline and expressions.md.
func TestExpressionDifferential(t *testing.T) {
	var cp struct {
		Context any        `json:"context"`
		Cases   []exprCase `json:"cases"`
	}
	readJSON(t, exprCorpusPath, &cp)
	if len(cp.Cases) < minExprCases {
		t.Fatalf("the corpus has %d cases, fewer than %d", len(cp.Cases), minExprCases)
	}
	ctxJSON := corpusContext(t)
	var oracle map[string]exprOracle
	readJSON(t, exprResultsPath(), &oracle)
	baseline := readIDs(t, exprBaselinePath)
	var vs []exprVerdict
	var regressions []string
	for _, c := range cp.Cases {
		o := oracle[c.ID]
		lazy, lerr := evalExpr(c, ctxJSON)
		v := exprVerdict{c: c, kind: judgeExpr(o, lazy, lerr), py: o.Error, lazy: lazy}
		if o.Value != nil {
			v.py = *o.Value
		}
		if lerr != nil {
			v.lazy = "error: " + lerr.Error()
		}
		vs = append(vs, v)
		if baseline[c.ID] && v.kind != kindAgree {
			regressions = append(regressions, fmt.Sprintf("%s %s: %s: Mistral %s, Lazyflow %s", c.ID, c.Expr, v.kind, v.py, v.lazy))
		}
	}
	if *update {
		writeExprTable(t, vs)
		writeExprBaseline(t, vs)
	}
	for _, r := range regressions {
		t.Error(r)
	}
}

// contextJSON is the raw "context" member of the corpus: decoding it with
// value.FromJSONExact keeps integers exact.
func contextJSON(corpus []byte) ([]byte, error) {
	v, err := value.FromJSONExact(corpus)
	if err != nil {
		return nil, err
	}
	m, ok := v.(*value.Map)
	if !ok {
		return nil, errors.New("the corpus is not a JSON object")
	}
	return []byte(value.JSON(m.Value("context"), -1, false)), nil
}

func readIDs(t *testing.T, path string) map[string]bool {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	return out
}

func writeExprBaseline(t *testing.T, vs []exprVerdict) {
	var b strings.Builder
	b.WriteString("# Cases of core/compat/corpus/expressions.json where core/expr agrees with Mistral 23.0.0.\n")
	b.WriteString("# Generated by `go test ./core/compat -update`; a listed case that differs fails the tier.\n")
	for _, v := range vs {
		if v.kind == kindAgree {
			b.WriteString(v.c.ID + "\n")
		}
	}
	if err := os.WriteFile(exprBaselinePath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exprCauses name the reason of a difference from the expression or either
// side's result; the first that matches is the case's cause.
var exprCauses = []struct {
	re    *regexp.Regexp
	cause string
}{
	{regexp.MustCompile(`\bset\(|toSet\(|isSet\(|characters\(|\] < \[`), "YAQL set type (Lazyflow has none)"},
	{regexp.MustCompile(`toDict\(`), "dict keys that are not strings (Lazyflow's dict keys are strings)"},
	{regexp.MustCompile(`<%.*(\brange\(|sequence\(|cycle\(|repeat\(\))`), "YAQL lazy sequences (Lazyflow builds lists whole)"},
	{regexp.MustCompile(`"\$python"`), "a Python object with no JSON form (datetime, timespan, regex, range…)"},
	{regexp.MustCompile(`(?i)datetime|timespan|\bnow\b|\.(year|month|day|hour)\b`), "YAQL datetime/timespan family"},
	{regexp.MustCompile(`(?i)regex|matches|searchAll|\.search\(`), "YAQL regex API"},
	{regexp.MustCompile(`unknown (function|method)|no function|not a function|is undefined`), "function or method missing in Lazyflow"},
	{regexp.MustCompile(` // | % | mod `), "floor division / modulo semantics"},
	{regexp.MustCompile(`\*\*`), "power (int result, negative exponent)"},
	{regexp.MustCompile(`division by zero|ZeroDivision`), "division by zero"},
	{regexp.MustCompile(`922337203685477580[78]|9007199254740993|\$\.big|_\.big|10 \*\* 20`), "integers beyond int64"},
	{regexp.MustCompile(`(True|true) [-+*/%]|[-+*/%] (True|true)`), "bool used as a number"},
	{regexp.MustCompile(`None|null|\.n\b|_\.n |\$\.n `), "None / null handling"},
	{regexp.MustCompile(`[^\x00-\x7f]`), "strings by code point, Unicode case mapping"},
	{regexp.MustCompile(`yaml_|json_|str\(`), "Mistral functions (yaml/json/str formatting)"},
	{regexp.MustCompile(`\{%`), "Jinja statements"},
	{regexp.MustCompile(`\| *[a-z]`), "Jinja filter"},
	{regexp.MustCompile(` is `), "Jinja test"},
}

func causeOfExpr(v exprVerdict) string {
	if v.kind == kindOrder {
		return "dict order"
	}
	s := v.c.Expr + " " + v.py + " " + v.lazy
	for _, c := range exprCauses {
		if c.re.MatchString(s) {
			return c.cause
		}
	}
	return "other"
}

func writeExprTable(t *testing.T, vs []exprVerdict) {
	type tally struct{ all, differ int }
	byLang := map[string]*tally{}
	kinds := map[string]int{}
	causes := map[string]int{}
	for _, v := range vs {
		if byLang[v.c.Lang] == nil {
			byLang[v.c.Lang] = &tally{}
		}
		byLang[v.c.Lang].all++
		if v.kind != kindAgree {
			byLang[v.c.Lang].differ++
			kinds[v.kind]++
			causes[v.kind+" — "+causeOfExpr(v)]++
		}
	}
	var b strings.Builder
	b.WriteString("# core/expr against yaql 3.2.0 and Jinja2 3.1.6 as Mistral 23.0.0 configures them\n\n")
	b.WriteString("Generated by `go test ./core/compat -update -run TestExpressionDifferential` (`make test-expressions`\n")
	b.WriteString("runs the tier) from `core/compat/corpus/expressions.json` (built by `core/compat/exprcorpus.py`) and the\n")
	b.WriteString("results of `core/compat/exproracle.py` (`mistral.expressions.evaluate`, one process). Results compare\n")
	b.WriteString("as canonical JSON (Python's `json.dumps`: `1` and `1.0` differ); two errors agree.\n\n")
	total, differ := 0, 0
	b.WriteString("| language | cases | differ | rate |\n|---|---|---|---|\n")
	for _, lang := range []string{"yaql", "jinja"} {
		if tl := byLang[lang]; tl != nil {
			total += tl.all
			differ += tl.differ
			fmt.Fprintf(&b, "| %s | %d | %d | %.1f%% |\n", lang, tl.all, tl.differ, pct(tl.differ, tl.all))
		}
	}
	fmt.Fprintf(&b, "| all | %d | %d | %.1f%% |\n\n", total, differ, pct(differ, total))
	b.WriteString("## Kinds of difference\n\n| cases | kind |\n|---|---|\n")
	writeCounts(&b, kinds)
	b.WriteString("\n## Causes\n\n| cases | kind — cause |\n|---|---|\n")
	writeCounts(&b, causes)
	b.WriteString("\n## Every difference\n\n| case | expression | Mistral | Lazyflow | reason |\n|---|---|---|---|---|\n")
	for _, v := range vs {
		if v.kind != kindAgree {
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s — %s |\n", mdCell(v.c.ID), mdCell(v.c.Expr),
				mdCell(clipText(v.py)), mdCell(clipText(v.lazy)), v.kind, causeOfExpr(v))
		}
	}
	if err := os.WriteFile(exprTablePath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d cases differ (%.1f%%)", differ, total, pct(differ, total))
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func writeCounts(b *strings.Builder, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(b, "| %d | %s |\n", m[k], cell(k))
	}
}

func clipText(s string) string {
	if r := []rune(s); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return s
}

// mdCell keeps a value readable in a table cell: pipes escaped, one line.
var mdEscaper = strings.NewReplacer("|", `\|`, "\n", "⏎", "`", "'")

func mdCell(s string) string { return mdEscaper.Replace(s) }
