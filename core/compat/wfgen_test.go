package compat

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The workflow generator of TestWorkflowDraws: random Mistral v2 workflows
// whose outcome does not depend on timing, so that Mistral and Lazyflow must
// agree on every task's states, published values and the output.
//
// A direct workflow is a chain of stages. A stage is one task of any kind
// (it may fail, fail or succeed the workflow by command, end the chain by a
// false condition), or a fork into 2-3 branches of "safe" tasks (a failure
// is always handled, no command) that meet in a join. While branches run,
// nothing may end the execution: which of the other branches' tasks had
// started would then be timing. A join of all is deterministic; a join of
// one or 2 is not (its context is whichever branches arrived first), so a
// workflow with one compares only its tasks' states (wfDrawCase.statesOnly),
// as core/chaos's RacingJoin. Every published name is unique to the task
// and clause that publishes it, so merging branch contexts never picks
// between two values.
//
// A reverse workflow is a DAG of requires; only its target may fail.

// wfVar is a name in the data context and the kind of value it holds:
// int, list (of ints), str or dict.
type wfVar struct{ name, kind string }

type wfDrawCase struct {
	c          cCase
	statesOnly bool
}

type wfGen struct {
	rng  *rand.Rand
	body strings.Builder // the tasks' YAML
	n    int             // tasks made, for unique names
	// usesSub: a task calls the sub-workflow, whose definition is added.
	usesSub bool
	racing  bool
	// noFork: task-defaults route errors to a handler, which would run
	// beside the next stage; such a workflow stays a single chain.
	noFork bool
}

func (g *wfGen) intn(n int) int           { return g.rng.IntN(n) }
func (g *wfGen) chance(pct int) bool      { return g.rng.IntN(100) < pct }
func (g *wfGen) pick(ss ...string) string { return ss[g.rng.IntN(len(ss))] }

func (g *wfGen) name(prefix string) string {
	g.n++
	return fmt.Sprintf("%s%d", prefix, g.n)
}

// pickVar returns a variable of kind from avail, or "" when there is none.
func (g *wfGen) pickVar(avail []wfVar, kind string) string {
	var c []string
	for _, v := range avail {
		if v.kind == kind {
			c = append(c, v.name)
		}
	}
	if len(c) == 0 {
		return ""
	}
	return c[g.intn(len(c))]
}

// value is a YAML flow value of kind, a literal or an expression over avail.
func (g *wfGen) value(kind string, avail []wfVar) string {
	k := g.intn(5)
	i, l, s := g.pickVar(avail, "int"), g.pickVar(avail, "list"), g.pickVar(avail, "str")
	switch kind {
	case "int":
		switch {
		case k == 1 && i != "":
			return fmt.Sprintf(`"<%% $.%s + %d %%>"`, i, k)
		case k == 2 && i != "":
			return fmt.Sprintf(`"{{ _.%s * %d }}"`, i, 1+g.intn(3))
		case k == 3 && l != "":
			return fmt.Sprintf(`"<%% len($.%s) %%>"`, l)
		case k == 4 && l != "":
			return fmt.Sprintf(`"<%% $.%s.sum() %%>"`, l)
		}
		return fmt.Sprint(g.intn(5))
	case "list":
		switch {
		case k == 1 && l != "":
			return fmt.Sprintf(`"<%% $.%s + [%d] %%>"`, l, g.intn(5))
		case k == 2 && i != "":
			return fmt.Sprintf(`"<%% [$.%s, %d] %%>"`, i, g.intn(5))
		case k == 3 && l != "":
			return fmt.Sprintf(`"<%% $.%s.select($ * 2) %%>"`, l)
		case k == 4 && l != "":
			return fmt.Sprintf(`"{{ _.%s + [%d] }}"`, l, g.intn(5))
		}
		return fmt.Sprintf("[%d, %d]", g.intn(5), g.intn(5))
	case "str":
		switch {
		case k == 1 && s != "":
			return fmt.Sprintf(`"<%% $.%s + '-%d' %%>"`, s, g.intn(5))
		case k == 2 && s != "" && i != "":
			return fmt.Sprintf(`"{{ _.%s ~ '-' ~ _.%s }}"`, s, i)
		case k == 3 && i != "":
			return fmt.Sprintf(`"<%% str($.%s) %%>"`, i)
		}
		return g.pick("ab", "'x y'", `"<% 'lit' %>"`)
	}
	return fmt.Sprintf("{a: %s, b: %s}", g.value("int", avail), g.value("str", avail))
}

// cond is a condition over avail in YAQL or Jinja, and its negation.
func (g *wfGen) cond(avail []wfVar) (string, string) {
	i, l := g.pickVar(avail, "int"), g.pickVar(avail, "list")
	var e string
	switch k := g.intn(6); {
	case k == 0 && i != "":
		e = fmt.Sprintf("$.%s > %d", i, g.intn(4))
	case k == 1 && i != "":
		e = fmt.Sprintf("$.%s = %d", i, g.intn(4))
	case k == 2 && l != "":
		e = fmt.Sprintf("len($.%s) >= %d", l, g.intn(4))
	case k == 3 && i != "":
		e = fmt.Sprintf("_.%s < %d", i, g.intn(4))
		return `"{{ ` + e + ` }}"`, `"{{ not (` + e + `) }}"`
	case k == 4:
		e = g.pick("true", "false")
	default:
		e = fmt.Sprintf("$.s = '%s'", g.pick("ab", "cd"))
	}
	return `"<% ` + e + ` %>"`, `"<% not (` + e + `) %>"`
}

// task is one drawn task before its transitions are written.
type wfTask struct {
	name  string
	lines []string // under the task, indented six spaces
	// fails: the task can end ERROR.
	fails bool
	// succeeds: the task can end SUCCESS.
	succeeds bool
	// ok is what a success adds to the context, bad what a failure adds.
	ok, bad []wfVar
}

func (t *wfTask) add(format string, a ...any) {
	t.lines = append(t.lines, "      "+fmt.Sprintf(format, a...))
}

// action draws what the task runs and returns the kind of its result ("" for
// none worth reading). safe forbids an outcome that is not always a success
// or a handled failure's.
func (g *wfGen) action(t *wfTask, avail []wfVar) string {
	switch g.intn(8) {
	case 0:
		t.add("action: std.noop")
		return ""
	case 1, 2:
		kind := g.pick("int", "list", "str", "dict")
		if v := g.value(kind, avail); strings.HasPrefix(v, `"<%`) && g.chance(40) {
			// An inline parameter, as Mistral's parser reads it.
			t.add("action: std.echo output=%s", strings.Trim(v, `"`))
		} else {
			t.add("action: std.echo")
			t.add("input:")
			t.add("  output: %s", g.value(kind, avail))
		}
		return kind
	case 3:
		t.add("action: std.fail")
		t.fails, t.succeeds = true, false
		if g.chance(50) {
			t.add("retry:")
			t.add("  count: %d", 1+g.intn(2))
			t.add("  delay: 0")
			if g.chance(40) {
				c, _ := g.cond(avail)
				t.add("  break-on: %s", c)
			}
		}
		return ""
	case 4:
		l := g.pickVar(avail, "list")
		over := fmt.Sprintf("[%d, %d, %d]", g.intn(4), g.intn(4), g.intn(4))
		if l != "" && g.chance(70) {
			over = "<% $." + l + " %>"
		}
		t.add("with-items: x in %s", over)
		if g.chance(50) {
			t.add("concurrency: %d", 1+g.intn(3))
		}
		if g.chance(30) {
			g.usesSub = true
			failAt := g.intn(5)
			t.add("workflow: sub")
			t.add("input:")
			t.add("  x: <%% $.x %%>")
			t.add("  fail: <%% $.x > %d %%>", failAt)
			t.fails = true
			return "list"
		}
		t.add("action: std.echo")
		t.add("input:")
		t.add("  output: %s", g.pick(`"<% $.x %>"`, `"<% $.x * 2 %>"`, `"{{ _.x + 1 }}"`))
		return "list"
	case 5:
		g.usesSub = true
		t.add("workflow: sub")
		t.add("input:")
		t.add("  x: %s", g.value("int", avail))
		if g.chance(30) {
			c, _ := g.cond(avail)
			t.add("  fail: %s", c)
			t.fails = true
		}
		return "dict"
	case 6:
		// continue-on repeats a success while its condition holds.
		t.add("action: std.echo output=%d", g.intn(5))
		t.add("retry:")
		t.add("  count: %d", 1+g.intn(3))
		t.add("  delay: 0")
		c, _ := g.cond(avail)
		t.add("  continue-on: %s", c)
		return "int"
	}
	t.add("action: std.echo output=%s", g.pick("1", "'ab'", "<% $.n %>", "'x y'", "[1, 2]", "1", "'ab'", "<% $.n %>", "ab"))
	return ""
}

// draw makes a task: its action, keep-result and publishes.
func (g *wfGen) task(name string, avail []wfVar) *wfTask {
	t := &wfTask{name: name, succeeds: true}
	res := g.action(t, avail)
	if !t.succeeds {
		res = ""
	}
	if g.chance(10) {
		t.add("keep-result: false")
	}
	if t.succeeds && g.chance(75) {
		t.add("publish:")
		for i := 0; i < 1+g.intn(2); i++ {
			kind, v := g.pick("int", "list", "str"), ""
			if i == 0 && res != "" && g.chance(70) {
				kind, v = res, `"<% task().result %>"`
			} else if g.chance(10) {
				kind, v = "str", g.pick(`"<% task().name %>"`, `"<% task().state %>"`)
			} else {
				v = g.value(kind, avail)
			}
			pn := fmt.Sprintf("%s_p%d", name, i)
			t.add("  %s: %s", pn, v)
			t.ok = append(t.ok, wfVar{pn, kind})
		}
	}
	if t.fails && g.chance(50) {
		t.add("publish-on-error:")
		pn := name + "_e"
		kind := g.pick("int", "str")
		t.add("  %s: %s", pn, g.value(kind, avail))
		t.bad = append(t.bad, wfVar{pn, kind})
	}
	return t
}

// edge writes one on-clause of t: to next (if any), with an optional
// condition, commands and a scoped publish, and returns the context next
// sees. cmd is "" or a command (fail, succeed, fail(msg=…)) that runs when
// the condition does not hold, or alone when there is no next.
func (g *wfGen) edge(t *wfTask, clause string, next []string, avail []wfVar, cmd string) []wfVar {
	after := append([]wfVar(nil), avail...)
	switch clause {
	case "on-success":
		after = append(after, t.ok...)
	case "on-error":
		after = append(after, t.bad...)
	}
	var pub []string
	var clauseVars []wfVar
	if g.chance(30) {
		for _, scope := range []string{"branch", "global"} {
			if g.chance(60) {
				// An on-clause's publish sees the task's inbound context,
				// not what the task itself publishes (Mistral 23.0.0).
				pn := fmt.Sprintf("%s_%s", t.name, scope[:1])
				kind := g.pick("int", "str", "list")
				pub = append(pub, fmt.Sprintf("    %s:", scope), fmt.Sprintf("      %s: %s", pn, g.value(kind, avail)))
				if scope == "branch" {
					// A global is read through global(), not $ or _.
					clauseVars = append(clauseVars, wfVar{pn, kind})
				}
			}
		}
	}
	if len(pub) > 0 {
		// With an on-clause publish, what the task's own publish gave is
		// not in the successors' context (both engines fail reading it).
		after = append(append([]wfVar(nil), avail...), clauseVars...)
	}
	var items []string
	c, notC := "", ""
	if len(next) > 0 && (cmd != "" || g.chance(30)) {
		c, notC = g.cond(avail)
	}
	for _, n := range next {
		if c != "" {
			n += ": " + c
		}
		items = append(items, n)
	}
	switch {
	case cmd != "" && len(next) == 0:
		items = append(items, cmd)
	case cmd != "" && c != "":
		items = append(items, cmd+": "+notC)
	}
	if len(items) == 0 && len(pub) == 0 {
		return after
	}
	if len(pub) == 0 {
		if len(items) == 1 && c == "" && g.chance(50) {
			t.add("%s: %s", clause, items[0])
		} else {
			t.add("%s:", clause)
			for _, it := range items {
				t.add("  - %s", it)
			}
		}
		return after
	}
	t.add("%s:", clause)
	t.add("  publish:")
	t.lines = append(t.lines, prefix(pub, "      ")...)
	if len(items) > 0 {
		t.add("  next:")
		for _, it := range items {
			t.add("    - %s", it)
		}
	}
	return after
}

func prefix(lines []string, p string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

func (g *wfGen) emit(t *wfTask) {
	fmt.Fprintf(&g.body, "    %s:\n", t.name)
	for _, l := range t.lines {
		g.body.WriteString(l + "\n")
	}
}

// single is a one-task stage going on to next ("" ends the chain): any
// kind, commands allowed. It returns the context next sees.
func (g *wfGen) single(name string, nexts []string, avail []wfVar) []wfVar {
	t := g.task(name, avail)
	cmd := ""
	if g.chance(25) {
		cmd = g.pick("fail", "succeed", fmt.Sprintf("fail(msg='stopped at %s')", name))
	}
	clause := "on-success"
	switch {
	case t.fails && !t.succeeds:
		clause = g.pick("on-error", "on-complete", "on-error", "on-success")
	case t.fails:
		clause = g.pick("on-success", "on-error", "on-complete")
	case g.chance(25):
		clause = "on-complete"
	}
	if g.noFork && clause == "on-complete" {
		// With task-defaults' on-error, a failure would also run the handler.
		clause = "on-success"
	}
	if t.fails && clause == "on-success" && g.chance(50) {
		// The failure is handled by a terminal task: the execution succeeds.
		h := g.name("h")
		t.add("on-error: %s", h)
		g.terminal(h)
	}
	after := g.edge(t, clause, nexts, avail, cmd)
	g.emit(t)
	return after
}

// terminal writes a handler task that ends its branch.
func (g *wfGen) terminal(name string) {
	fmt.Fprintf(&g.body, "    %s:\n      action: std.noop\n      publish:\n        %s_p0: handled\n", name, name)
}

// wfStage is one stage of a direct workflow: a single task, or branches of
// tasks meeting in a join.
type wfStage struct {
	single   string
	branches [][]string
	join     string
}

func (s wfStage) heads() []string {
	if s.single != "" {
		return []string{s.single}
	}
	var h []string
	for _, b := range s.branches {
		h = append(h, b[0])
	}
	return h
}

// fork writes a stage of 2-3 branches of safe tasks meeting in its join,
// which goes on to next, and returns the context next sees.
func (g *wfGen) fork(st wfStage, next []string, avail []wfVar) []wfVar {
	kind := "all"
	if len(next) == 0 && g.chance(20) {
		// A partial join fires while other branches still run: only as the
		// last stage, where nothing after it can end the execution under
		// them (Mistral then ran its successors twice, or not at all).
		kind = g.pick("one", "2")
		g.racing = true
	}
	joined := append([]wfVar(nil), avail...)
	for _, names := range st.branches {
		ctx := avail
		for i, name := range names {
			to := st.join
			if i+1 < len(names) {
				to = names[i+1]
			}
			t := g.task(name, ctx)
			clause := "on-success"
			switch {
			case t.fails && !t.succeeds:
				clause = g.pick("on-complete", "on-error")
			case t.fails:
				clause = "on-complete"
			case g.chance(20):
				clause = "on-complete"
			}
			ctx = g.edge(t, clause, []string{to}, ctx, "")
			g.emit(t)
		}
		joined = append(joined, ctx[len(avail):]...)
	}
	jt := &wfTask{name: st.join, succeeds: true}
	jt.add("join: %s", kind)
	jt.add("action: std.echo")
	jt.add("input:")
	jkind := g.pick("int", "list", "str")
	jt.add("  output: %s", g.value(jkind, joined))
	jt.add("publish:")
	jt.add("  %s_p0: <%% task().result %%>", st.join)
	jt.ok = []wfVar{{st.join + "_p0", jkind}}
	after := g.edge(jt, "on-success", next, joined, "")
	g.emit(jt)
	return after
}

// drawWorkflow draws one case from rng.
func drawWorkflow(rng *rand.Rand, name string) wfDrawCase {
	g := &wfGen{rng: rng}
	if g.chance(20) {
		return g.reverse(name)
	}
	var wf strings.Builder
	wf.WriteString("---\nversion: '2.0'\nwf:\n  input:\n    - n: 2\n    - xs: [1, 2, 3]\n    - s: ab\n")
	avail := []wfVar{{"n", "int"}, {"xs", "list"}, {"s", "str"}}
	if g.chance(30) {
		wf.WriteString("  vars:\n    v: " + g.value("int", avail) + "\n")
		avail = append(avail, wfVar{"v", "int"})
	}
	if g.chance(20) {
		wf.WriteString("  task-defaults:\n")
		if g.chance(50) {
			wf.WriteString("    retry:\n      count: 1\n      delay: 0\n")
		} else {
			wf.WriteString("    on-error:\n      - on_error\n")
			g.noFork = true
			g.terminal("on_error")
		}
	}
	// The stages are named first: a stage's transitions name the next one's heads.
	stages := make([]wfStage, 1+g.intn(4))
	for s := range stages {
		if s == 0 || g.noFork || !g.chance(35) {
			stages[s].single = g.name("t")
			continue
		}
		for b := 0; b < 2+g.intn(2); b++ {
			names := []string{g.name("t")}
			if g.chance(40) {
				names = append(names, g.name("t"))
			}
			stages[s].branches = append(stages[s].branches, names)
		}
		stages[s].join = g.name("j")
	}
	for s, st := range stages {
		var next []string
		if s+1 < len(stages) {
			next = stages[s+1].heads()
		}
		if st.single != "" {
			avail = g.single(st.single, next, avail)
		} else {
			avail = g.fork(st, next, avail)
		}
	}
	wf.WriteString("  tasks:\n" + g.body.String())
	if g.chance(40) {
		wf.WriteString("  output:\n")
		for i := 0; i < 1+g.intn(3); i++ {
			fmt.Fprintf(&wf, "    o%d: %s\n", i, g.value(g.pick("int", "list", "str"), avail))
		}
	}
	if g.usesSub {
		wf.WriteString(subWorkflow)
	}
	c := newDrawCase(name, "wf", wf.String())
	if g.chance(30) {
		c.Input["n"] = int64(g.intn(4))
	}
	return wfDrawCase{c: c, statesOnly: g.racing}
}

func newDrawCase(name, workflow, text string) cCase {
	c := cCase{Name: name, Source: "core/compat/wfgen_test.go", Workflow: workflow,
		Input: map[string]any{}, Params: map[string]any{}}
	c.Defs = append(c.Defs, struct {
		Kind string `json:"kind"`
		Text string `json:"text"`
	}{"workflows", text})
	return c
}

// reverse draws a reverse workflow: tasks requiring earlier ones, started
// for a target; only the target (which runs last) may fail.
func (g *wfGen) reverse(name string) wfDrawCase {
	var wf strings.Builder
	wf.WriteString("---\nversion: '2.0'\nwf:\n  type: reverse\n  input:\n    - n: 2\n    - xs: [1, 2, 3]\n    - s: ab\n  tasks:\n")
	avail := []wfVar{{"n", "int"}, {"xs", "list"}, {"s", "str"}}
	n := 2 + g.intn(4)
	target := fmt.Sprintf("r%d", g.intn(n))
	var all []string
	for i := 0; i < n; i++ {
		rn := fmt.Sprintf("r%d", i)
		var t *wfTask
		for {
			t = g.task(rn, avail)
			if !t.fails || rn == target {
				break
			}
		}
		var req []string
		for _, r := range all {
			if g.chance(50) {
				req = append(req, r)
			}
		}
		if len(req) > 0 {
			t.add("requires: [%s]", strings.Join(req, ", "))
		}
		// A task reads the inputs only: what an earlier task published
		// is in its context only if it requires that task.
		g.emit(t)
		all = append(all, rn)
	}
	wf.WriteString(g.body.String())
	if g.chance(40) {
		fmt.Fprintf(&wf, "  output:\n    o0: %s\n", g.value(g.pick("int", "list", "str"), avail))
	}
	if g.usesSub {
		wf.WriteString(subWorkflow)
	}
	c := newDrawCase(name, "wf", wf.String())
	c.Params["task_name"] = target
	return wfDrawCase{c: c}
}

const subWorkflow = `sub:
  input:
    - x
    - fail: false
  output:
    got: <% $.x %>
    y: <% $.y %>
  tasks:
    s1:
      action: std.echo output=<% $.x %>
      publish:
        y: <% task().result %>
      on-success:
        - s2: <% $.fail %>
    s2:
      action: std.fail
`
