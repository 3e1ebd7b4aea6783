package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lazyflow/lazyflow/core/expr"
	"github.com/lazyflow/lazyflow/core/value"
)

// cmdEval evaluates one Mistral string value (a <% %> or {{ }} expression, or
// text with inline ones) against a context, the way a workflow would: it is
// how users try an expression before they put it in a definition.
func cmdEval(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ctxJSON := fs.String("context", "", "the context ($ in YAQL, _ in Jinja) as `JSON` (default {})")
	ctxFile := fs.String("context-file", "", "`FILE` holding the context as JSON or YAML")
	asJSON := fs.Bool("json", false, "print the result as exactly one JSON document")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usageError{"eval needs exactly one expression (quote it for the shell)"}
	}
	if *ctxJSON != "" && *ctxFile != "" {
		return exitUsage, usageError{"--context and --context-file cannot be used together"}
	}
	root, err := readContext(*ctxJSON, *ctxFile)
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	v, err := expr.Compile(pos[0])
	if err != nil {
		return exitUsage, err
	}
	// $ / _ is the context as given, so its key order shows.
	ctx := &expr.Context{Root: root, RootSet: true}
	if m, ok := value.AsGoMap(root); ok {
		ctx.Data = m
	}
	r, err := v.Eval(ctx)
	if err != nil {
		var ce *expr.CompileError
		if errors.As(err, &ce) {
			return exitUsage, err
		}
		return exitFailure, err
	}
	fmt.Fprintln(stdout, formatResult(r, *asJSON))
	if !strings.Contains(pos[0], "<%") && !strings.Contains(pos[0], "{{") && !strings.Contains(pos[0], "{%") {
		// Plain text is a valid value and prints as it is, but eval is
		// called to evaluate: the delimiters were most likely forgotten.
		fmt.Fprintf(stderr, "lazyflow: note: %q holds no <%% %%> or {{ }}, so it is plain text; to evaluate it, write '<%% %s %%>' (YAQL) or '{{ … }}' (Jinja)\n", pos[0], pos[0])
	}
	return exitOK, nil
}

// formatResult is a string as it is (what a task would receive) and any
// other value as JSON; with asJSON, every value is one JSON document.
func formatResult(r any, asJSON bool) string {
	if s, ok := r.(string); ok && !asJSON {
		return s
	}
	if asJSON {
		return value.JSON(r, -1, false)
	}
	return value.JSON(r, 2, false)
}

// readContext reads the evaluation context as run reads its input (a file
// may be YAML), but any value may be the context; an empty object when none
// is given.
func readContext(inline, file string) (any, error) {
	v, err := readDoc("--context", inline, file)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	return v, nil
}
