package chaos

import (
	"fmt"
	"strings"

	"pgregory.net/rapid"
)

// Case is one generated test case: a workflow file holding a direct
// workflow "wf" (which may call "sub"), a reverse workflow "rev", and how
// to start them.
type Case struct {
	Source string
	// Target is the reverse workflow's target task; "" starts no reverse execution.
	Target string
	// Cancel allows the fault schedule to cancel the direct execution.
	Cancel bool
	// RacingJoin is set when the direct workflow meets in a join of one or
	// 2: its output is the context of whichever branches arrived first,
	// as in Mistral, so only the tasks' outcomes are compared.
	RacingJoin bool
}

// joins are the join kinds drawn for the direct workflow's meeting task.
var joins = []string{"all", "one", "2"}

// DrawCase draws a case. The direct workflow fans out from start into
// branches, each a chain of tasks of random kinds (a plain action,
// with-items with a concurrency, a flaky action with retries, a delegate
// completed by callback, a sub-workflow), meeting in a join of kind all,
// one or 2. The reverse workflow is a random DAG of requires.
func DrawCase(t *rapid.T) Case { return drawCase(t, false) }

// DrawStdCase draws a case whose actions are all built in (std.echo,
// std.sleep), for a host whose registry the test cannot extend: a
// `lazyflow serve` process. It has no flaky or delegate tasks.
func DrawStdCase(t *rapid.T) Case { return drawCase(t, true) }

// echo is the action line of a task echoing v, counted under key k.
func echo(std bool, k, v string) string {
	if std {
		return "std.echo output=" + v
	}
	return fmt.Sprintf("chaos.echo k=%s v=%s", k, v)
}

func drawCase(t *rapid.T, std bool) Case {
	var b strings.Builder
	b.WriteString("version: '2.0'\nwf:\n  input:\n    - flag\n  tasks:\n")
	b.WriteString("    start:\n      action: " + echo(std, "start", "0") + "\n      publish:\n        start: <% task().result %>\n      on-success:\n")
	branches := rapid.IntRange(1, 3).Draw(t, "branches")
	join := ""
	if branches > 1 {
		join = rapid.SampledFrom(joins).Draw(t, "join")
	}
	var body strings.Builder
	for i := 0; i < branches; i++ {
		fmt.Fprintf(&b, "        - b%d_0\n", i)
		n := rapid.IntRange(1, 3).Draw(t, fmt.Sprintf("len%d", i))
		for j := 0; j < n; j++ {
			name := fmt.Sprintf("b%d_%d", i, j)
			next := ""
			switch {
			case j+1 < n:
				next = fmt.Sprintf("b%d_%d", i, j+1)
			case join != "":
				next = "join"
			}
			// Only a join of all may meet a branch that can fail: which
			// branches a join of one or 2 counts would otherwise depend
			// on delivery order, which is the point of the test.
			body.WriteString(drawTask(t, std, name, next, join == "" || join == "all"))
		}
	}
	b.WriteString(body.String())
	if join != "" {
		fmt.Fprintf(&b, "    join:\n      join: %s\n      action: %s\n      publish:\n        joined: <%% task().result %%>\n", join, echo(std, "join", "1"))
	}
	b.WriteString("sub:\n  input:\n    - x\n  tasks:\n    s1:\n      action: " + echo(std, "s1", "<% $.x %>") + "\n      publish:\n        y: <% task().result %>\n")
	src := b.String() + drawReverse(t, std)
	if std {
		// A killed host fails the attempts it had claimed (they may have
		// run); built-in actions are safe to run again, and say so.
		src = strings.ReplaceAll(src, "      action: ", "      safe-rerun: true\n      action: ")
	}
	c := Case{Source: src, Cancel: rapid.IntRange(0, 3).Draw(t, "cancel") == 0,
		RacingJoin: join == "one" || join == "2"}
	if rapid.Bool().Draw(t, "reverse") {
		c.Target = "target"
	}
	return c
}

// drawTask writes one task of the direct workflow going to next on success.
func drawTask(t *rapid.T, std bool, name, next string, mayFail bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    %s:\n", name)
	on := "on-success"
	kinds := []int{0, 1, 2, 3, 4}
	if std {
		kinds = []int{0, 1, 4, 5}
	}
	switch rapid.SampledFrom(kinds).Draw(t, "kind_"+name) {
	case 0:
		fmt.Fprintf(&b, "      action: %s\n", echo(std, name, name))
	case 1:
		items := rapid.IntRange(0, 4).Draw(t, "items_"+name)
		conc := rapid.IntRange(0, 3).Draw(t, "conc_"+name)
		fmt.Fprintf(&b, "      with-items: x in <%% range(%d) %%>\n      concurrency: %d\n      action: %s\n", items, conc, echo(std, name, "<% $.x %>"))
	case 2:
		retries := rapid.IntRange(0, 2).Draw(t, "retries_"+name)
		fails := rapid.IntRange(0, retries).Draw(t, "fails_"+name)
		if mayFail {
			fails = rapid.IntRange(0, retries+1).Draw(t, "fails_"+name)
		}
		fmt.Fprintf(&b, "      action: chaos.flaky k=%s v=%s fails=%d\n", name, name, fails)
		if retries > 0 {
			fmt.Fprintf(&b, "      retry:\n        count: %d\n        delay: 0\n", retries)
		}
		if mayFail && next != "" {
			// A failure is handled: the chain goes on either way.
			on = "on-complete"
		}
	case 3:
		fmt.Fprintf(&b, "      action: chaos.delegate k=%s v=%s\n", name, name)
	case 4:
		fmt.Fprintf(&b, "      workflow: sub x=%s\n", name)
	case 5:
		// Slow enough that a kill lands while actions run.
		b.WriteString("      action: std.sleep seconds=0.2\n")
	}
	fmt.Fprintf(&b, "      publish:\n        %s: <%% task().result %%>\n", name)
	if next != "" {
		fmt.Fprintf(&b, "      %s: %s\n", on, next)
	}
	return b.String()
}

// drawReverse draws the reverse workflow: tasks r0..rN-1, each requiring a
// random subset of the earlier ones, and target requiring some of them.
func drawReverse(t *rapid.T, std bool) string {
	var b strings.Builder
	b.WriteString("rev:\n  type: reverse\n  tasks:\n")
	n := rapid.IntRange(1, 4).Draw(t, "rev_tasks")
	for i := 0; i <= n; i++ {
		name := fmt.Sprintf("r%d", i)
		if i == n {
			name = "target"
		}
		fmt.Fprintf(&b, "    %s:\n      action: %s\n      publish:\n        %s: <%% task().result %%>\n", name, echo(std, name, name), name)
		var req []string
		for j := 0; j < i; j++ {
			if rapid.Bool().Draw(t, fmt.Sprintf("req_%s_%d", name, j)) {
				req = append(req, fmt.Sprintf("r%d", j))
			}
		}
		if len(req) > 0 {
			fmt.Fprintf(&b, "      requires: [%s]\n", strings.Join(req, ", "))
		}
	}
	return b.String()
}
