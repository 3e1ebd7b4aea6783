package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// An input the workflow does not declare is refused, also when it declares
// none: Mistral 23.0.0 answers "Invalid input [name=wf, ...,
// unexpected=['x']]" for both (checked with core/compat's oracle).
func TestStartRefusesUndeclaredInput(t *testing.T) {
	for name, src := range map[string]string{
		"declares none": "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n",
		"declares a":    "version: '2.0'\nwf:\n  input: [a]\n  tasks:\n    t:\n      action: std.noop\n",
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := dsl.Load("wf.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			e := &engine.Engine{Defs: oneDoc{doc}}
			_, err = e.Start(context.Background(), kvstore.NewMemory(), engine.StartParams{ID: "ex-1", DefID: "plan", Workflow: "wf",
				Input: value.MapOf(map[string]any{"a": 1, "x": 2})})
			if err == nil || !strings.Contains(err.Error(), "unexpected input ") || !strings.Contains(err.Error(), "x") {
				t.Fatalf("start with an undeclared input x: got %v, want it refused naming x", err)
			}
		})
	}
}
