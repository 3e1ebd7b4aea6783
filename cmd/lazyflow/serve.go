package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/functions/local"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", local.DefaultAddr, "`HOST:PORT` to listen on (another port when 8080 is taken)")
	data := fs.String("data", ".lazyflow", "`DIR` for the durable store and the callback key")
	retention := fs.Duration("retention", 0, "delete finished executions last updated longer ago than this, e.g. 720h (0: keep everything)")
	drain := fs.Duration("drain", 25*time.Second, "on SIGTERM or Ctrl-C, how long running actions may finish before they are cut short")
	logLevel := fs.String("log-level", defaultLogLevel(), "`LEVEL` of the JSON log on stderr: debug (also every HTTP request), info (requests that fail or take over 1s), warn or error; default from LAZYFLOW_LOG_LEVEL")
	inline := fs.Int("inline-steps", service.DefaultInlineSteps, "how many std.noop, std.echo and std.fail tasks one step runs in place, with no queue hop (0: none)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 0 {
		return exitUsage, usageError{"serve takes no arguments"}
	}
	if *drain <= 0 {
		return exitUsage, usageError{"--drain must be positive"}
	}
	if *inline < 0 {
		return exitUsage, usageError{"--inline-steps must not be negative"}
	}
	if *retention < 0 {
		return exitUsage, usageError{"--retention must not be negative"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return exitUsage, usageError{fmt.Sprintf("--log-level %q: want debug, info, warn or error", *logLevel)}
	}
	log := jsonLogger(stderr, level)
	ready := func(url string) {
		fmt.Fprintf(stdout, "lazyflow: serving on %s (data in %s); Ctrl-C stops\n", url, *data)
	}
	if err := local.Serve(ctx, local.Options{Addr: *addr, DataDir: *data, Log: log, Retention: *retention, DrainTimeout: *drain,
		InlineSteps: inlineOption(*inline), Ready: ready}); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			// The first thing a second server on one machine meets: say
			// how to pick another port, here and under make run.
			err = fmt.Errorf("%w: another program listens there; pick a free port with --addr (e.g. --addr 127.0.0.1:8081, or make run ADDR=127.0.0.1:8081)", err)
		}
		return exitFailure, err
	}
	return exitOK, nil
}

// inlineOption maps --inline-steps onto local.Options.InlineSteps, whose
// zero means the default.
func inlineOption(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func randomKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// jsonLogger logs JSON lines of level and above to w.
func jsonLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// defaultLogLevel is LAZYFLOW_LOG_LEVEL (as the Lambda functions read it),
// info when it is unset.
func defaultLogLevel() string {
	if s := os.Getenv("LAZYFLOW_LOG_LEVEL"); s != "" {
		return s
	}
	return "info"
}

// envLogLevel is defaultLogLevel's level, info when it names none.
func envLogLevel() slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(defaultLogLevel())); err != nil {
		return slog.LevelInfo
	}
	return level
}
