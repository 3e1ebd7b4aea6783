package dsl

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameTree reports the first difference between two yaml.Node trees, or "".
func sameTree(a, b *yaml.Node, path string) string {
	if (a == nil) != (b == nil) {
		return path + ": one is nil"
	}
	if a == nil {
		return ""
	}
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment {
		return fmt.Sprintf("%s: %+v != %+v", path, *a, *b)
	}
	if d := sameTree(a.Alias, b.Alias, path+"*"); d != "" {
		return d
	}
	if len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %d children != %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if d := sameTree(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkSplit parses src split into n chunks and whole; the split parse must
// give up or build exactly the whole parse's tree. It reports whether the
// split parse was used.
func checkSplit(t *testing.T, src []byte, n int) bool {
	t.Helper()
	got := parseSplit(src, n)
	if got == nil {
		return false
	}
	var want yaml.Node
	if err := yaml.Unmarshal(src, &want); err != nil {
		t.Fatalf("split parse succeeded where yaml.Unmarshal fails: %v", err)
	}
	if d := sameTree(got, &want, ""); d != "" {
		t.Fatalf("split parse differs: %s", d)
	}
	return true
}

// padded makes src long enough for the split path by adding tasks to the
// first "tasks:" mapping, indented like the given task line.
func padded(head, tail string, indent int) []byte {
	var b strings.Builder
	b.WriteString(head)
	pad := strings.Repeat(" ", indent)
	for i := 0; b.Len() < splitMinBody+1000; i++ {
		fmt.Fprintf(&b, "%spad%d:\n%s  action: std.echo output=\"p %d\"\n%s  publish: {a: '<%% $.x > %d %%>', b: [1, 2]}\n", pad, i, pad, i, pad, i)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

func TestSplitParseBigWorkflow(t *testing.T) {
	src := bigWorkflow(1000)
	for _, n := range []int{2, 3, 4, 8, 100} {
		if !checkSplit(t, src, n) {
			t.Fatalf("n=%d: the benchmark's workflow did not take the split path", n)
		}
	}
}

// TestSplitParseCases covers shapes the split parse must either reproduce
// exactly or refuse.
func TestSplitParseCases(t *testing.T) {
	// wantSplit says whether the split parse must be used; cases that
	// yaml.Unmarshal rejects must never be split (checkSplit fails then).
	// Every case is also cut at every task entry (n = 1<<20), where the
	// cases with values spanning entries must be refused.
	cases := []struct {
		name      string
		src       []byte
		wantSplit bool
		wantErr   bool
	}{
		{"plain", padded("version: '2.0'\nwf:\n  tasks:\n", "", 4), true, false},
		{"suffix after tasks", padded("version: '2.0'\nwf:\n  tasks:\n", "  output:\n    a: 1\nother:\n  tasks:\n    x: {}\n", 4), true, false},
		{"workbook, deeper", padded("version: '2.0'\nname: wb\nworkflows:\n  wf:\n    type: direct\n    tasks:\n", "  wf2:\n    tasks:\n      a: {}\n", 6), true, false},
		{"no trailing newline", []byte(strings.TrimSuffix(string(padded("v: 1\nwf:\n  tasks:\n", "", 4)), "\n")), true, false},
		{"blank lines inside", padded("v: 1\nwf:\n  tasks:\n\n    first: {}\n\n      \n", "\n\n  vars: {}\n", 4), true, false},
		{"block scalars", padded("v: 1\nwf:\n  tasks:\n    lit:\n      description: |\n        line one\n\n        line: three\n      x: >-\n        folded\n        text\n", "", 4), true, false},
		{"comment", padded("v: 1 # c\nwf:\n  tasks:\n", "", 4), false, false},
		{"comment line", padded("v: 1\nwf:\n  tasks:\n    # c\n", "", 4), false, false},
		{"anchor", padded("v: 1\nwf:\n  tasks:\n    a: &x {}\n    b: *x\n", "", 4), false, false},
		{"tab", padded("v: 1\nwf:\n  tasks:\n    a: {x: \t1}\n", "", 4), false, false},
		{"flow tasks", padded("v: 1\nwf: {tasks:\n", "}\n", 4), false, true},
		{"tasks inside block scalar", padded("v: 1\nwf:\n  description: |\n    tasks:\n", "", 6), false, false},
		{"tasks inside quoted scalar", padded("v: 1\nwf:\n  description: \"a\n    tasks:\n", "    \"\n", 6), false, true},
		{"multi-line quoted value across entries", padded("v: 1\nwf:\n  tasks:\n    a: \"x\n    b: y\"\n", "", 4), false, false},
		{"multi-line flow value across entries", padded("v: 1\nwf:\n  tasks:\n    a: [x,\n    b: y]\n", "", 4), false, false},
		{"bad indentation", padded("v: 1\nwf:\n  tasks:\n    a: 1\n   b: 2\n", "", 4), false, true},
		{"sequence under tasks", padded("v: 1\nwf:\n  tasks:\n    - a\n", "", 4), false, true},
		{"broken yaml in a task", padded("v: 1\nwf:\n  tasks:\n    a: [1, 2\n", "", 4), false, true},
		{"second document", padded("v: 1\nwf:\n  tasks:\n", "---\nv: 2\n", 4), false, false},
		{"duplicate tasks", padded("v: 1\nwf:\n  tasks:\n    a: {}\n", "    a: {}\n", 4), true, false},
		{"odd keys", padded("v: 1\nwf:\n  tasks:\n    true: {}\n    12: x\n    a.b-c: 'q'\n    \"quoted\": 1\n    [a, b]: c\n", "", 4), true, false},
		{"explicit key", padded("v: 1\nwf:\n  tasks:\n    ? complex\n    b: 2\n", "", 4), false, false},
		{"long line", padded("v: 1\nwf:\n  tasks:\n    a: "+strings.Repeat("x", splitMaxLine)+"\n", "", 4), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var whole yaml.Node
			err := yaml.Unmarshal(c.src, &whole)
			if (err != nil) != c.wantErr {
				t.Fatalf("whole parse error %v, want error %v", err, c.wantErr)
			}
			for _, n := range []int{2, 5} {
				if got := checkSplit(t, c.src, n); got != c.wantSplit && !strings.Contains(c.name, "across") {
					t.Errorf("n=%d: split used %v, want %v", n, got, c.wantSplit)
				}
			}
			if got := checkSplit(t, c.src, 1<<20); got != c.wantSplit {
				t.Errorf("cut everywhere: split used %v, want %v", got, c.wantSplit)
			}
			// Load gives the same outcome either way.
			_, errSplit := Load("f.yaml", c.src)
			l := &loader{file: "f.yaml"}
			l.load(c.src)
			var errSeq error
			if len(l.errs) > 0 {
				l.errs.sort()
				errSeq = l.errs.dedupe()
			}
			if fmt.Sprint(errSplit) != fmt.Sprint(errSeq) {
				t.Errorf("Load errors differ:\n%v\nvs\n%v", errSplit, errSeq)
			}
		})
	}
}

// TestSplitParseNestedTasksKeys covers a document made of nested "tasks:"
// keys, each of which starts a body holding all those below it: the search
// gives up within its budget, and the result is still exact.
func TestSplitParseNestedTasksKeys(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 4*splitMinBody; i++ {
		fmt.Fprintf(&b, "%stasks:\n", strings.Repeat(" ", i))
	}
	fmt.Fprintf(&b, "%sa: 1\n", strings.Repeat(" ", 1000))
	checkSplit(t, []byte(b.String()), 2)
}

// TestSplitParseSmallFilesUntouched checks that small documents never take
// the split path.
func TestSplitParseSmallFilesUntouched(t *testing.T) {
	if parseSplit(bigWorkflow(20), 8) != nil {
		t.Fatal("a small workflow was split")
	}
}

// FuzzSplitParse: for any document, the split parse either refuses or
// builds exactly yaml.Unmarshal's tree. The size threshold is lifted so that
// small inputs take the split path, cut at every task entry or in two.
func FuzzSplitParse(f *testing.F) {
	old := splitMinBody
	splitMinBody = 0
	f.Cleanup(func() { splitMinBody = old })
	f.Add([]byte(string(bigWorkflow(5))))
	f.Add([]byte("v: 1\nwf:\n  tasks:\n    a: 1\n    b: 2\n"))
	f.Add([]byte("wf:\n  tasks:\n    a: \"x\n    b: y\"\n    c: 1\n"))
	f.Add([]byte("wf:\n  tasks:\n    a: [x,\n    b: y]\n    c: 1\n"))
	f.Add([]byte("wf:\n  d: |\n    tasks:\n      a: 1\n      b: 2\n"))
	f.Add([]byte("wf:\n  tasks:\n    a: |\n      x\n\n    b: >-\n      y\n  after: 1\n"))
	f.Add([]byte("wf: {tasks:\n    a: 1,\n    b: 2}\n"))
	f.Add([]byte("- tasks:\n    a: 1\n    b: 2\n"))
	f.Add([]byte("tasks:\n  a: 'q'' w'\n  b: \"e\\\"\"\n  ? c\n  : d\n  e: !!str 1\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) == 0 || len(src) > 4096 {
			return
		}
		for _, n := range []int{2, 3, 1 << 20} {
			checkSplit(t, src, n)
		}
	})
}
