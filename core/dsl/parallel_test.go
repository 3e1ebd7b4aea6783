package dsl

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// loadBoth loads src with tasks read in parallel (on at least 4 procs) and
// sequentially, and returns both outcomes as text.
func loadBoth(t *testing.T, src []byte) (par, seq string) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	show := func() string {
		doc, err := Load("wf.yaml", src)
		if err != nil {
			return err.Error()
		}
		var b strings.Builder
		for _, name := range doc.Order {
			wf := doc.Workflows[name]
			fmt.Fprintf(&b, "%s start=%v\n", name, wf.StartTasks)
			for _, tn := range wf.TaskOrder {
				task := wf.Tasks[tn]
				fmt.Fprintf(&b, "  %s %s in=%v pub=%v next=%d join=%v/%d inbound=%v\n", tn, task.Action,
					task.Input.Source(), task.Publish.Source(), len(task.OnSuccess), task.Join, task.JoinN, wf.Inbound[tn])
			}
		}
		return b.String()
	}
	par = show()
	old := parallelTasksMin
	parallelTasksMin = 1 << 30
	defer func() { parallelTasksMin = old }()
	seq = show()
	return par, seq
}

// TestParallelTasksValid checks that a large valid workflow reads the same
// in parallel as sequentially.
func TestParallelTasksValid(t *testing.T) {
	par, seq := loadBoth(t, bigWorkflow(300))
	if par != seq {
		t.Fatalf("parallel and sequential loads differ:\n%s\n---\n%s", par, seq)
	}
	if !strings.Contains(par, "t299") {
		t.Fatalf("unexpected load:\n%s", par)
	}
}

// TestParallelTasksErrorsInOrder checks that errors found by different
// workers come out as the sequential load reports them: same messages, same
// positions, same order.
func TestParallelTasksErrorsInOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  task-defaults:\n    requires: [x]\n  tasks:\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: std.echo x=<%% $.a + %%>\n", i)
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "      on-success: missing%d\n", i)
		case 1:
			b.WriteString("      bogus: 1\n      publish: {a: '<% ( %>'}\n")
		case 2:
			b.WriteString("      join: all\n      timeout: -1\n")
		case 3:
			b.WriteString("      retry: count=x delay=<% 1 %>\n")
		}
	}
	par, seq := loadBoth(t, []byte(b.String()))
	if par != seq {
		t.Fatalf("parallel and sequential errors differ:\n%s\n---\n%s", par, seq)
	}
	if n := strings.Count(par, "\n"); n < 600 {
		t.Fatalf("expected errors from every task, got %d lines:\n%s", n+1, par)
	}
}

// TestParallelTasksExpansionBudget checks that the alias expansion budget
// runs out at the same place as in a sequential load although no single
// worker exceeds it.
func TestParallelTasksExpansionBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  vars:\n    big: &big [")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "%d, ", i)
	}
	b.WriteString("0]\n  tasks:\n")
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "    t%d:\n      input: {x: *big}\n", i)
	}
	par, seq := loadBoth(t, []byte(b.String()))
	if par != seq {
		t.Fatalf("parallel and sequential loads differ:\n%s\n---\n%s", par, seq)
	}
	if !strings.Contains(par, "too many aliases") {
		t.Fatalf("the budget was not enforced:\n%.500s", par)
	}
}
