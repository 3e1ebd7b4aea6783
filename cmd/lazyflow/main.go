// Command lazyflow runs, checks and serves Mistral v2 workflows.
//
//	lazyflow run FILE [--workflow NAME] [--input JSON | --input-file PATH] [--task TARGET] [--json] [--timeout 5m]
//	lazyflow validate [--strict] FILE...
//	lazyflow serve [--addr 127.0.0.1:8080] [--data DIR] [--retention 720h] [--drain 25s] [--inline-steps 32] [--log-level info]
//	lazyflow graph FILE [--workflow NAME] [--format svg|mermaid|dot]
//	lazyflow ui --api URL [--addr 127.0.0.1:8081] [--profile P] [--region R]
//	lazyflow eval EXPR [--context JSON | --context-file F] [--json]
//
// Exit status: 0 success, 3 the workflow ended in ERROR or CANCELLED (or
// PAUSED: nothing in a run can resume it), 4 a run stopped waiting before
// the end (SIGINT, SIGTERM or --timeout; the execution is reported as it
// stands), 2 invalid definition or usage, 1 anything else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lazyflow/lazyflow/core/gctune"
)

const usage = `usage:
  lazyflow run FILE [--workflow NAME] [--input JSON | --input-file PATH] [--task TARGET] [--json] [--timeout 5m]
  lazyflow validate [--strict] FILE...
  lazyflow serve [--addr 127.0.0.1:8080] [--data DIR] [--retention 720h] [--drain 25s] [--inline-steps 32] [--log-level info]
  lazyflow graph FILE [--workflow NAME] [--format svg|mermaid|dot]
  lazyflow ui --api URL [--addr 127.0.0.1:8081] [--profile P] [--region R]
  lazyflow eval EXPR [--context JSON | --context-file F] [--json]
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitWfError = 3
	exitStopped = 4
)

func main() {
	gctune.Apply(nil, "")
	ctx, stop := signalContext()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext ends on SIGINT or SIGTERM, naming the signal as its cause.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		if sig, ok := <-ch; ok {
			cancel(fmt.Errorf("received %v", sig))
		}
	}()
	return ctx, func() { signal.Stop(ch); close(ch); cancel(nil) }
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "run":
		code, err = cmdRun(ctx, args[1:], stdout, stderr)
	case "validate":
		code, err = cmdValidate(args[1:], stdout, stderr)
	case "serve":
		code, err = cmdServe(ctx, args[1:], stdout, stderr)
	case "graph":
		code, err = cmdGraph(args[1:], stdout, stderr)
	case "ui":
		code, err = cmdUI(ctx, args[1:], stdout, stderr)
	case "eval":
		code, err = cmdEval(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		if len(args) > 1 && args[1] != "help" && !strings.HasPrefix(args[1], "-") {
			// help CMD is CMD --help, as in go and git.
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	var help helpError
	if errors.As(err, &help) {
		printHelp(stdout, args[0], help.fs)
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "lazyflow:", err)
		var ue usageError
		if errors.As(err, &ue) {
			// One command's line says more than all six; --help has the rest.
			u := commandUsage(args[0])
			fmt.Fprint(stderr, u)
			if u != usage {
				fmt.Fprintf(stderr, "(lazyflow %s --help lists its options)\n", args[0])
			}
			return exitUsage
		}
		if code == 0 {
			code = exitFailure
		}
	}
	return code
}
