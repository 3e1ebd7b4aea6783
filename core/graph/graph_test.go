package graph

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
)

const direct = `
version: '2.0'
orders:
  tasks:
    fetch:
      action: std.echo output=1
      with-items: x in <% [1, 2] %>
      on-success:
        - check: <% $.ok %>
        - fail: <% not $.ok %>
      on-error: report
    check:
      workflow: sub_flow
      on-complete: [join_here]
    report:
      action: std.noop
      on-success: [join_here, succeed]
    join_here:
      join: all
      action: std.noop
      on-error: [pause]
    again:
      action: std.noop
      on-success: loop_back
    loop_back:
      action: std.noop
      on-success: again
    self:
      action: std.noop
      on-error: self
`

const reverse = `
version: '2.0'
build:
  type: reverse
  tasks:
    compile:
      action: std.noop
    test:
      action: std.noop
      requires: [compile]
    package:
      action: std.noop
      requires: [compile, test]
`

func load(t *testing.T, src, name string) *Graph {
	t.Helper()
	doc, err := dsl.Load("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g, err := FromDocument(doc, name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestBuildDirect(t *testing.T) {
	g := load(t, direct, "")
	want := []string{"fetch", "check", "report", "join_here", "again", "loop_back", "self"}
	for _, n := range want {
		if g.Node(n) == nil {
			t.Errorf("task %s missing", n)
		}
	}
	kinds := map[string]EdgeKind{}
	for _, e := range g.Edges {
		kinds[e.From+">"+e.To] = e.Kind
	}
	for k, v := range map[string]EdgeKind{"fetch>check": OnSuccess, "fetch>report": OnError, "check>join_here": OnComplete,
		"report>join_here": OnSuccess, "again>loop_back": OnSuccess, "loop_back>again": OnSuccess, "self>self": OnError} {
		if kinds[k] != v {
			t.Errorf("edge %s: kind %q, want %q", k, kinds[k], v)
		}
	}
	cmds := map[string]string{}
	for _, n := range g.Nodes {
		if n.Kind == KindCommand {
			cmds[n.Task] += n.Name
		}
	}
	if cmds["fetch"] != "fail" || cmds["report"] != "succeed" || cmds["join_here"] != "pause" {
		t.Errorf("command nodes: %v", cmds)
	}
	if n := g.Node("join_here"); n.Join != "all" {
		t.Errorf("join: %q", n.Join)
	}
	if n := g.Node("check"); n.Workflow != "sub_flow" {
		t.Errorf("sub-workflow: %q", n.Workflow)
	}
	if !g.Node("fetch").WithItems {
		t.Error("with-items not marked")
	}
}

func TestLayoutPlacesEverything(t *testing.T) {
	for _, src := range []string{direct, reverse} {
		g := load(t, src, "")
		for _, n := range g.Nodes {
			if n.W <= 0 || n.X-n.W/2 < 0 || n.X+n.W/2 > g.Width || n.Y+n.H/2 > g.Height {
				t.Errorf("%s: node %s at %v,%v size %vx%v outside %vx%v", g.Workflow, n.ID, n.X, n.Y, n.W, n.H, g.Width, g.Height)
			}
		}
		for _, e := range g.Edges {
			if len(e.Points) < 2 {
				t.Errorf("%s: edge %s>%s not routed", g.Workflow, e.From, e.To)
			}
			if !e.Back && e.From != e.To && g.Node(e.From).Layer >= g.Node(e.To).Layer {
				t.Errorf("%s: forward edge %s>%s does not go down", g.Workflow, e.From, e.To)
			}
		}
		// No two nodes of one layer overlap.
		for _, a := range g.Nodes {
			for _, b := range g.Nodes {
				if a != b && a.Layer == b.Layer && a.X < b.X && a.X+a.W/2 > b.X-b.W/2 {
					t.Errorf("%s: %s and %s overlap", g.Workflow, a.ID, b.ID)
				}
			}
		}
	}
}

func TestCyclesAreMarkedBack(t *testing.T) {
	g := load(t, direct, "")
	back := 0
	for _, e := range g.Edges {
		if e.Back {
			back++
		}
	}
	// again <-> loop_back closes one cycle; self>self is a loop.
	if back != 2 {
		t.Errorf("%d back edges, want 2", back)
	}
}

func TestReverseRequires(t *testing.T) {
	g := load(t, reverse, "build")
	n := 0
	for _, e := range g.Edges {
		if e.Kind != Requires {
			t.Errorf("edge %s>%s kind %s", e.From, e.To, e.Kind)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d requires edges, want 3", n)
	}
	if g.Node("compile").Layer != 0 || g.Node("test").Layer != 1 || g.Node("package").Layer != 2 {
		t.Error("requires edges should layer compile, test, package top to bottom")
	}
}

func render(t *testing.T, g *Graph, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := g.Render(&b, format, SVGOptions{WorkflowLink: "/ui/workflows/"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRenderersNameEveryTaskAndEdge(t *testing.T) {
	g := load(t, direct, "")
	svg := render(t, g, "svg")
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("svg is not well-formed XML: %v", err)
	}
	for _, n := range g.Nodes {
		if n.Kind == KindTask && !strings.Contains(svg, `data-task="`+n.Name+`"`) {
			t.Errorf("svg lacks data-task of %s", n.Name)
		}
	}
	for _, e := range g.Edges {
		if !strings.Contains(svg, `data-from="`+e.From+`" data-to="`+e.To+`" data-kind="`+string(e.Kind)+`"`) {
			t.Errorf("svg lacks edge %s>%s", e.From, e.To)
		}
	}
	if !strings.Contains(svg, `<a href="/ui/workflows/sub_flow">`) {
		t.Error("sub-workflow task is not a link")
	}
	if !strings.Contains(svg, "join: all") {
		t.Error("join not marked")
	}
	mm := render(t, g, "mermaid")
	dot := render(t, g, "dot")
	for _, n := range g.Nodes {
		if !strings.Contains(mm, n.Name) || !strings.Contains(dot, n.Name) {
			t.Errorf("mermaid or dot lacks %s", n.Name)
		}
	}
	if got := strings.Count(mm, "|\""); got != len(g.Edges) {
		t.Errorf("mermaid has %d edges, want %d", got, len(g.Edges))
	}
	if got := strings.Count(dot, " -> "); got != len(g.Edges) {
		t.Errorf("dot has %d edges, want %d", got, len(g.Edges))
	}
}

func TestDeterministic(t *testing.T) {
	for _, f := range Formats {
		first := render(t, load(t, direct, ""), f)
		for i := 0; i < 10; i++ {
			if got := render(t, load(t, direct, ""), f); got != first {
				t.Fatalf("%s output differs between runs", f)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	src := "version: '2.0'\nwf:\n  tasks:\n    \"a<b&c\":\n      action: std.noop\n      on-success:\n        - \"d\\\"e\": <% $.x > 1 %>\n    \"d\\\"e\":\n      action: std.noop\n"
	g := load(t, src, "wf")
	svg := render(t, g, "svg")
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("svg is not well-formed XML: %v\n%s", err, svg)
	}
	if strings.Contains(render(t, g, "mermaid"), `"d"e"`) {
		t.Error("mermaid label not escaped")
	}
}

func TestUnknownWorkflowAndFormat(t *testing.T) {
	doc, err := dsl.Load("t.yaml", []byte(reverse))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromDocument(doc, "nope"); err == nil {
		t.Error("unknown workflow accepted")
	}
	g, _ := FromDocument(doc, "")
	if err := g.Render(new(bytes.Buffer), "png", SVGOptions{}); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestEmpty(t *testing.T) {
	g := &Graph{Workflow: "x", byID: map[string]*Node{}}
	Layout(g)
	var b bytes.Buffer
	if err := g.SVG(&b, SVGOptions{}); err != nil || !strings.Contains(b.String(), "<svg") {
		t.Fatalf("empty graph: %v", err)
	}
}

func TestCrossingsMatchesPairwiseCount(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 200; round++ {
		rows := [][]*vnode{make([]*vnode, 1+rnd.IntN(6)), make([]*vnode, 1+rnd.IntN(6))}
		for l, r := range rows {
			for i := range r {
				r[i] = &vnode{layer: l, order: i}
			}
		}
		for _, v := range rows[0] {
			for _, u := range rows[1] {
				if rnd.IntN(3) == 0 {
					link(v, u)
				}
			}
		}
		want := 0
		type seg struct{ a, b int }
		var segs []seg
		for _, v := range rows[0] {
			for _, u := range v.down {
				segs = append(segs, seg{v.order, u.order})
			}
		}
		for i := range segs {
			for j := i + 1; j < len(segs); j++ {
				if (segs[i].a-segs[j].a)*(segs[i].b-segs[j].b) < 0 {
					want++
				}
			}
		}
		if got := crossings(rows); got != want {
			t.Fatalf("round %d: %d crossings, want %d", round, got, want)
		}
	}
}

func TestLargeGraphLaysOutQuickly(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("version: '2.0'\nbig:\n  tasks:\n")
	const n = 400
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    t%d:\n      action: std.noop\n", i)
		if i < n-1 {
			fmt.Fprintf(&b, "      on-success: [t%d, t%d]\n", i+1, i+1+rnd.IntN(n-1-i))
		}
	}
	start := time.Now()
	g := load(t, b.String(), "big")
	if len(g.Nodes) != n {
		t.Fatalf("%d nodes", len(g.Nodes))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("layout of %d tasks took %v", n, d)
	}
}
