package dsl

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: no input may panic the loader; every failure is an Errors with
// at least one positioned message.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/mistral-doc", "testdata/mistral-resources", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("version: '2.0'\nwf:\n  tasks:\n    t: {action: 'std.echo x=[1, {a: 2}] y=\"q\"', retry: 'count=3 delay=<% 1 %>'}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, err := Load("fuzz.yaml", src)
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("error is %T with %d entries", err, len(errs))
			}
			return
		}
		if doc == nil {
			t.Fatal("nil document without error")
		}
	})
}
