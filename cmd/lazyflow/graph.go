package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/graph"
)

// cmdGraph renders a workflow of FILE offline, the same drawing the web UI
// shows: lazyflow graph FILE [--workflow W] [--format svg|mermaid|dot].
func cmdGraph(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wf := fs.String("workflow", "", "`NAME` of the workflow to draw (default: the first in the file)")
	format := fs.String("format", "svg", "`FORMAT`: svg, mermaid or dot")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usageError{"graph needs exactly one file"}
	}
	switch *format {
	case "svg", "mermaid", "dot":
	default:
		return exitUsage, usageError{fmt.Sprintf("--format %q: use svg, mermaid or dot", *format)}
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return exitUsage, fmt.Errorf("read workflow file: %w", err)
	}
	doc, err := dsl.Load(pos[0], src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage, fmt.Errorf("%s is not a valid definition", pos[0])
	}
	g, err := graph.FromDocument(doc, *wf)
	if err != nil {
		return exitUsage, fmt.Errorf("graph of %s: %w", pos[0], err)
	}
	w := bufio.NewWriter(stdout)
	if err := g.Render(w, *format, graph.SVGOptions{}); err != nil {
		return exitFailure, err
	}
	if err := w.Flush(); err != nil {
		return exitFailure, fmt.Errorf("write graph: %w", err)
	}
	return exitOK, nil
}
