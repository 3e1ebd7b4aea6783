package graph

import (
	"fmt"
	"io"
	"strings"
)

// Mermaid writes the graph as a Mermaid flowchart: solid arrows for
// on-success and requires, red for on-error, dotted for on-complete.
func (g *Graph) Mermaid(w io.Writer) error {
	var b strings.Builder
	ids := g.shortIDs()
	b.WriteString("flowchart TD\n")
	for _, n := range g.Nodes {
		label := mermaidText(n.Name)
		if d := n.Detail(); d != "" {
			label += "<br/><small>" + mermaidText(d) + "</small>"
		}
		if n.Join != "" {
			label += "<br/><i>join: " + mermaidText(n.Join) + "</i>"
		}
		if n.Kind == KindCommand {
			fmt.Fprintf(&b, "  %s([\"%s\"]):::%s\n", ids[n.ID], label, n.Name)
		} else {
			fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[n.ID], label)
		}
	}
	var styles []string
	for i, e := range g.Edges {
		arrow := "-->"
		if e.Kind == OnComplete || e.Kind == OnSkip {
			arrow = "-.->"
		}
		label := string(e.Kind)
		if e.Condition != "" {
			label += ": " + e.Condition
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", ids[e.From], arrow, mermaidText(label), ids[e.To])
		styles = append(styles, fmt.Sprintf("  linkStyle %d stroke:%s\n", i, edgeColours[e.Kind]))
	}
	for _, s := range styles {
		b.WriteString(s)
	}
	for _, n := range g.Nodes {
		if n.Kind == KindTask && n.Workflow != "" {
			fmt.Fprintf(&b, "  click %s \"/ui/workflows/%s\"\n", ids[n.ID], mermaidText(n.Workflow))
		}
	}
	b.WriteString("  classDef fail fill:#fdecea,stroke:#c62828\n")
	b.WriteString("  classDef succeed fill:#e8f5e9,stroke:#2e7d32\n")
	b.WriteString("  classDef pause fill:#fff8e1,stroke:#b28704\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write mermaid: %w", err)
	}
	return nil
}

// Dot writes the graph in Graphviz's dot language.
func (g *Graph) Dot(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(g.Workflow))
	b.WriteString("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n")
	for _, n := range g.Nodes {
		if n.Kind == KindCommand {
			fmt.Fprintf(&b, "  %s [label=%s, shape=oval, fontsize=10];\n", dotQuote(n.ID), dotQuote(n.Name))
			continue
		}
		label := n.Name
		if d := n.Detail(); d != "" {
			label += "\n" + d
		}
		if n.Join != "" {
			label += "\njoin: " + n.Join
		}
		extra := ""
		if n.Workflow != "" {
			extra = ", URL=" + dotQuote("/ui/workflows/"+n.Workflow)
		}
		fmt.Fprintf(&b, "  %s [label=%s%s];\n", dotQuote(n.ID), dotQuote(label), extra)
	}
	for _, e := range g.Edges {
		style := "solid"
		switch e.Kind {
		case OnComplete:
			style = "dashed"
		case OnSkip:
			style = "dotted"
		}
		label := string(e.Kind)
		if e.Condition != "" {
			label += "\n" + e.Condition
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s, color=%s, style=%s];\n",
			dotQuote(e.From), dotQuote(e.To), dotQuote(label), dotQuote(edgeColours[e.Kind]), style)
	}
	b.WriteString("}\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write dot: %w", err)
	}
	return nil
}

// shortIDs names nodes n0, n1, ... in node order: Mermaid ids cannot hold
// every character a task name may.
func (g *Graph) shortIDs() map[string]string {
	ids := make(map[string]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[n.ID] = fmt.Sprintf("n%d", i)
	}
	return ids
}

// mermaidText escapes what would end a quoted Mermaid label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "\n", " ")
	return r.Replace(s)
}

func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Formats Render writes.
var Formats = []string{"svg", "mermaid", "dot"}

// Render writes g in format: "svg", "mermaid" or "dot".
func (g *Graph) Render(w io.Writer, format string, opt SVGOptions) error {
	switch format {
	case "svg":
		return g.SVG(w, opt)
	case "mermaid":
		return g.Mermaid(w)
	case "dot":
		return g.Dot(w)
	}
	return fmt.Errorf("unknown graph format %q (use %s)", format, strings.Join(Formats, ", "))
}
