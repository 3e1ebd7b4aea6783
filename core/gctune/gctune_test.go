package gctune

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// restore puts the process's collector settings back after a test.
func restore(t *testing.T) {
	pct := debug.SetGCPercent(100)
	debug.SetGCPercent(pct)
	lim := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(pct); debug.SetMemoryLimit(lim) })
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "memory.max")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLambdaMemorySetsLimitAndPercent(t *testing.T) {
	restore(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 62)
	s := Apply(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}), writeFile(t, "max\n"))
	want := int64(456340265) // 85% of 512 MiB
	if s.Percent != Percent || s.Limit != want || s.From != "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" {
		t.Fatalf("settings = %+v, want percent %d limit %d from Lambda", s, Percent, want)
	}
	if got := debug.SetGCPercent(100); got != Percent {
		t.Errorf("GC percent in effect = %d, want %d", got, Percent)
	}
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("memory limit in effect = %d, want %d", got, want)
	}
}

func TestCgroupLimit(t *testing.T) {
	restore(t)
	s := Apply(env(nil), writeFile(t, "1073741824\n"))
	want := int64(912680547) // 85% of 1 GiB
	if s.Limit != want {
		t.Fatalf("limit = %d, want %d (settings %+v)", s.Limit, want, s)
	}
}

func TestNoKnownMemoryLeavesLimit(t *testing.T) {
	restore(t)
	debug.SetMemoryLimit(1 << 40)
	for _, f := range []string{writeFile(t, "max\n"), filepath.Join(t.TempDir(), "absent"), writeFile(t, "junk")} {
		if s := Apply(env(nil), f); s.Limit != 0 || s.Percent != Percent {
			t.Errorf("%s: settings = %+v, want percent only", f, s)
		}
		if got := debug.SetMemoryLimit(-1); got != 1<<40 {
			t.Errorf("%s: memory limit changed to %d", f, got)
		}
	}
}

func TestUserSettingsWin(t *testing.T) {
	restore(t)
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 40)
	s := Apply(env(map[string]string{"GOGC": "150", "GOMEMLIMIT": "1TiB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}), "")
	if s != (Settings{}) {
		t.Fatalf("settings = %+v, want none (the user set both)", s)
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GC percent = %d, want the user's 150", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("memory limit = %d, want the user's", got)
	}
}
