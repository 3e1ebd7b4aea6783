package dsl

import (
	"strings"
	"testing"
)

// A literal duration too large to be one is an error at its line, not an
// overflow at run time.
func TestOutOfRangeDurationsRefused(t *testing.T) {
	src := `version: '2.0'
d:
  tasks:
    t:
      action: std.noop
      wait-before: 1e300
      wait-after: 2
      timeout: 99999999999
      retry:
        count: 1
        delay: 1e20
`
	_, err := Load("d.yaml", []byte(src))
	if err == nil {
		t.Fatal("loaded; want out-of-range errors")
	}
	for _, want := range []string{
		"d.yaml:6:20: wait-before of 1e300 seconds is out of range",
		"d.yaml:8:16: timeout of 99999999999 seconds is out of range",
		"d.yaml:11:16: retry delay of 1e20 seconds is out of range",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors %q; want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "wait-after") {
		t.Errorf("a two-second wait-after refused: %v", err)
	}
}
