package dsl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lazyflow/lazyflow/core/value"
)

// TestMistralExamples loads every example kept from Mistral's documentation
// and test resources; each must load and validate without errors.
func TestMistralExamples(t *testing.T) {
	for _, dir := range []string{"testdata/mistral-doc", "testdata/mistral-resources", "testdata/valid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Load(f, src)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			if doc.Main() == nil && len(doc.Actions) == 0 {
				t.Errorf("%s: no workflow or action loaded", f)
			}
		}
	}
}

// Mistral 23.0.0 loads an inline parameter with a space after '='
// (test_dataflow test_empty_with_items: `std.echo output= "Task 1"`); the
// value is read as written.
func TestInlineParamSpaceAfterEquals(t *testing.T) {
	doc, err := Load("w.yaml", []byte("version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo output= \"Task 1\" n=  2\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := doc.Workflows["wf"].Tasks["t1"].Input.Eval(nil)
	m, _ := v.(*value.Map)
	if err != nil || m.Value("output") != "Task 1" || m.Value("n") != int64(2) {
		t.Fatalf("input %#v, %v", v, err)
	}
}
