package engine_test

import (
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
)

// Two unhandled errors whose branches go on (on-complete) end the workflow
// with the same state_info whichever error arrives first: the smallest task
// key's, as for errors that end their branches.
func TestUnhandledErrorsOrderFree(t *testing.T) {
	const src = `version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-complete: [c]
    b:
      action: std.noop
      on-complete: [c]
    c:
      action: std.noop
`
	infos := map[string]bool{}
	for _, first := range []string{"a", "b"} {
		h := newPlanHost(t, src)
		cmds := map[string]engine.Command{}
		for _, c := range h.start("wf", nil).Commands {
			cmds[c.Task] = c
		}
		order := []string{"a", "b"}
		if first == "b" {
			order = []string{"b", "a"}
		}
		var next []engine.Command
		for _, k := range order {
			next = append(next, h.follow(h.result(cmds[k], false, nil, "boom in "+k))...)
		}
		for _, c := range next {
			if c.Kind == engine.RunAction {
				h.follow(h.result(c, true, nil, ""))
			}
		}
		hd := h.head()
		if hd.State != engine.Error {
			t.Fatalf("%s first: %s", first, hd.State)
		}
		infos[hd.StateInfo] = true
	}
	if len(infos) != 1 {
		t.Fatalf("state_info depends on the order of the errors: %v", infos)
	}
	for info := range infos {
		if !strings.Contains(info, "'a'") {
			t.Fatalf("state_info %q names not the smallest task key", info)
		}
	}
}
