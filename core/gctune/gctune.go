// Package gctune sets the Go garbage collector for Lazyflow's processes.
//
// An engine step allocates a few kilobytes that die at once (records read,
// copied, rewritten) against a small live heap, so with Go's default
// (GOGC=100: collect when the heap doubles) a busy engine spends a fifth of
// its CPU collecting. Lazyflow's binaries let the heap grow five times the
// live data before collecting (GOGC=400) and, where the process's memory is
// known (a Lambda function's memory size, a cgroup limit), set a soft memory
// limit below it so the larger target never costs an out-of-memory kill: near
// the limit the collector runs as often as it must.
//
// Settings the user gives in GOGC or GOMEMLIMIT win; Apply changes nothing
// they set.
package gctune

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Percent is the GOGC value Apply sets when the environment has none.
const Percent = 400

// limit is the soft limit for a process that may use mem bytes: 85% of
// it, the rest left for goroutine stacks, the runtime and the kernel memory
// counted against the same limit.
func limit(mem int64) int64 { return mem / 20 * 17 }

// Settings says what Apply set (zero values: left as they were).
type Settings struct {
	Percent int   // GOGC set, 0 if left alone
	Limit   int64 // soft memory limit in bytes, 0 if none was set
	From    string
}

// Apply sets the collector as the package comment says, reading the
// environment through getenv (os.Getenv when nil) and the cgroup limit from
// cgroupFile ("" for the standard path), and reports what it set.
func Apply(getenv func(string) string, cgroupFile string) Settings {
	if getenv == nil {
		getenv = os.Getenv
	}
	if cgroupFile == "" {
		cgroupFile = "/sys/fs/cgroup/memory.max"
	}
	var s Settings
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
		s.Percent = Percent
	}
	if getenv("GOMEMLIMIT") == "" {
		if mem, from := known(getenv, cgroupFile); mem > 0 {
			s.Limit, s.From = limit(mem), from
			debug.SetMemoryLimit(s.Limit)
		}
	}
	return s
}

// known is the memory this process may use, in bytes, and where that comes
// from; 0 when nothing says.
func known(getenv func(string) string, cgroupFile string) (int64, string) {
	if mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64); err == nil && mb > 0 {
		return mb << 20, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	}
	b, err := os.ReadFile(cgroupFile)
	if err != nil {
		return 0, ""
	}
	// "max" (no limit) does not parse and is ignored.
	if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
		return n, cgroupFile
	}
	return 0, ""
}
