package dsl

import (
	"os"
	"path/filepath"
	"testing"
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
