package graph

import (
	"fmt"
	"html"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SVGOptions tunes the SVG renderer.
type SVGOptions struct {
	// WorkflowLink, when set, makes a sub-workflow task a link to
	// WorkflowLink + the escaped workflow name (e.g. "/ui/workflows/").
	WorkflowLink string
}

// svgStyle is embedded in every drawing so a standalone file looks the same
// as the page that shows it; the page's own style sheet colours task states
// through the state-* classes a script adds to the node groups.
const svgStyle = `
.lf-node rect{fill:#fff;stroke:#5b6b7f;stroke-width:1.4}
.lf-node.lf-command rect{fill:#f1f3f5}
.lf-node.lf-command.lf-fail rect{fill:#fdecea;stroke:#c62828}
.lf-node.lf-command.lf-succeed rect{fill:#e8f5e9;stroke:#2e7d32}
.lf-node.lf-command.lf-pause rect{fill:#fff8e1;stroke:#b28704}
.lf-node text{font:13px sans-serif;fill:#1f2933}
.lf-node .lf-name{font-weight:600}
.lf-node .lf-detail,.lf-node .lf-state{font-size:11px;fill:#52606d}
.lf-node .lf-join{font-size:10px;fill:#6a1b9a;font-weight:600}
.lf-node a .lf-name{fill:#0b5cad;text-decoration:underline}
.lf-edge{fill:none;stroke-width:1.6}
.lf-on-success{stroke:#2e7d32}
.lf-on-error{stroke:#c62828}
.lf-on-complete{stroke:#7b8794;stroke-dasharray:6 4}
.lf-on-skip{stroke:#b28704;stroke-dasharray:2 3}
.lf-requires{stroke:#3f51b5}
.lf-back{stroke-dasharray:3 3}
.lf-edge-label{font:10px sans-serif;fill:#52606d}
`

var edgeColours = map[EdgeKind]string{OnSuccess: "#2e7d32", OnError: "#c62828", OnComplete: "#7b8794", OnSkip: "#b28704", Requires: "#3f51b5"}

var edgeKinds = []EdgeKind{OnSuccess, OnError, OnComplete, OnSkip, Requires}

// SVG writes the laid-out graph as a standalone SVG document. Every task
// node is a <g class="lf-node lf-task" data-task="NAME"> holding an empty
// <text class="lf-state"> a page's script fills with the task's state.
func (g *Graph) SVG(w io.Writer, opt SVGOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="lf-graph" data-workflow="%s" data-type="%s" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="workflow %s">`,
		attr(g.Workflow), attr(g.Type), num(g.Width), num(g.Height), num(g.Width), num(g.Height), attr(g.Workflow))
	b.WriteString("\n<style>" + svgStyle + "</style>\n<defs>")
	for _, k := range edgeKinds {
		fmt.Fprintf(&b, `<marker id="lf-arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="%s"/></marker>`,
			k, edgeColours[k])
	}
	b.WriteString("</defs>\n<g class=\"lf-edges\">\n")
	for _, e := range g.Edges {
		writeEdge(&b, e)
	}
	b.WriteString("</g>\n<g class=\"lf-nodes\">\n")
	for _, n := range g.Nodes {
		writeNode(&b, n, opt)
	}
	b.WriteString("</g>\n</svg>\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

func writeEdge(b *strings.Builder, e *Edge) {
	if len(e.Points) < 2 {
		return
	}
	cls := "lf-edge lf-" + string(e.Kind)
	if e.Back {
		cls += " lf-back"
	}
	var d strings.Builder
	for i, p := range e.Points {
		if i == 0 {
			d.WriteString("M")
		} else {
			d.WriteString(" L")
		}
		d.WriteString(num(p.X) + "," + num(p.Y))
	}
	fmt.Fprintf(b, `<path class="%s" data-from="%s" data-to="%s" data-kind="%s" d="%s" marker-end="url(#lf-arrow-%s)">`,
		cls, attr(e.From), attr(e.To), e.Kind, d.String(), e.Kind)
	title := string(e.Kind)
	if e.Condition != "" {
		title += " when " + e.Condition
	}
	fmt.Fprintf(b, "<title>%s</title></path>\n", html.EscapeString(title))
	if e.Condition != "" {
		// The label sits at the middle of the polyline's first segment.
		p, q := e.Points[0], e.Points[1]
		fmt.Fprintf(b, `<text class="lf-edge-label" x="%s" y="%s">%s</text>`+"\n",
			num((p.X+q.X)/2+4), num((p.Y+q.Y)/2), html.EscapeString(clip(e.Condition, 28)))
	}
}

func writeNode(b *strings.Builder, n *Node, opt SVGOptions) {
	x, y := n.X-n.W/2, n.Y-n.H/2
	if n.Kind == KindCommand {
		fmt.Fprintf(b, `<g class="lf-node lf-command lf-%s" data-command="%s" data-from-task="%s">`, attr(n.Name), attr(n.Name), attr(n.Task))
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="13"/>`, num(x), num(y), num(n.W), num(n.H))
		fmt.Fprintf(b, `<text class="lf-name" x="%s" y="%s" text-anchor="middle">%s</text></g>`+"\n", num(n.X), num(n.Y+4), html.EscapeString(n.Name))
		return
	}
	cls := "lf-node lf-task"
	if n.Workflow != "" || n.WorkflowExpr != "" {
		cls += " lf-subworkflow"
	}
	if n.Join != "" {
		cls += " lf-joins"
	}
	fmt.Fprintf(b, `<g class="%s" id="task-%s" data-task="%s"`, cls, attr(idSafe(n.Name)), attr(n.Name))
	if n.Workflow != "" {
		fmt.Fprintf(b, ` data-workflow="%s"`, attr(n.Workflow))
	}
	b.WriteString(">")
	fmt.Fprintf(b, `<title>%s</title>`, html.EscapeString(n.Name+tooltip(n)))
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="6"/>`, num(x), num(y), num(n.W), num(n.H))
	name := fmt.Sprintf(`<text class="lf-name" x="%s" y="%s">%s</text>`, num(x+10), num(y+18), html.EscapeString(clip(n.Name, fitChars(n.W))))
	if n.Workflow != "" && opt.WorkflowLink != "" {
		name = fmt.Sprintf(`<a href="%s">%s</a>`, attr(opt.WorkflowLink+url.PathEscape(n.Workflow)), name)
	}
	b.WriteString(name)
	detail := n.Caption()
	fmt.Fprintf(b, `<text class="lf-detail" x="%s" y="%s">%s</text>`, num(x+10), num(y+32), html.EscapeString(clip(detail, fitChars(n.W))))
	fmt.Fprintf(b, `<text class="lf-state" x="%s" y="%s"></text>`, num(x+10), num(y+46))
	if n.Join != "" {
		fmt.Fprintf(b, `<text class="lf-join" x="%s" y="%s" text-anchor="end">join: %s</text>`, num(x+n.W-4), num(y-4), html.EscapeString(n.Join))
	}
	b.WriteString("</g>\n")
}

func tooltip(n *Node) string {
	var parts []string
	if d := n.Detail(); d != "" {
		parts = append(parts, d)
	}
	if n.WithItems {
		parts = append(parts, "with-items")
	}
	if n.Retry {
		parts = append(parts, "retry")
	}
	if n.Join != "" {
		parts = append(parts, "join: "+n.Join)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func fitChars(w float64) int { return max(4, int((w-20)/charW)) }

// clip shortens s to n runes, ending in an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// idSafe makes a task name usable in an id attribute and a CSS selector.
func idSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}

func attr(s string) string { return html.EscapeString(s) }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
