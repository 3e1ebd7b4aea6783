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

// The likely intended name of an unexpected input is one the start lacks:
// naming an input that was given beside it would send the user to fix what
// is right.
func TestStartUnexpectedInputSuggestsOnlyInputsNotGiven(t *testing.T) {
	doc, err := dsl.Load("wf.yaml", []byte("version: '2.0'\nwf:\n  input: [name, x, y: 0]\n  tasks:\n    t:\n      action: std.noop\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &engine.Engine{Defs: oneDoc{doc}}
	start := func(in map[string]any) error {
		_, err := e.Start(context.Background(), kvstore.NewMemory(), engine.StartParams{ID: "ex-1", DefID: "plan", Workflow: "wf",
			Input: value.MapOf(in)})
		return err
	}
	err = start(map[string]any{"name": "a", "x": 1, "y": 2, "z": 3})
	if err == nil || !strings.Contains(err.Error(), "unexpected input z") || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("z beside the given x and y: got %v, want it unexpected with no suggestion", err)
	}
	err = start(map[string]any{"nme": "a", "x": 1})
	if err == nil || !strings.Contains(err.Error(), "unexpected input nme (did you mean name?)") {
		t.Errorf("nme for the missing name: got %v, want the suggestion name", err)
	}
}
