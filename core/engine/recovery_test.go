package engine_test

import (
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
)

// An attempt's commands are found on its item's record first, then on its
// task's; commands the same step decided for other tasks, items or
// attempts are not the attempt's.
func TestAttemptCommands(t *testing.T) {
	task := &engine.Task{Key: "t", Attempt: 2, Outbox: []engine.Command{
		{Kind: engine.RunAction, Task: "t", Slot: -1, Attempt: 2, Action: "own"},
		{Kind: engine.RunAction, Task: "t", Slot: -1, Attempt: 1, Action: "old"},
		{Kind: engine.RunAction, Task: "next", Slot: -1, Attempt: 1, Action: "next"},
	}}
	if c, ok := engine.AttemptAction(task, nil, 2); !ok || c.Action != "own" {
		t.Fatalf("task attempt 2: %+v %v", c, ok)
	}
	if got := engine.AttemptCommands(task, nil, 3); len(got) != 0 {
		t.Fatalf("attempt 3 has no commands, got %+v", got)
	}
	sl := &engine.Slot{Task: "t", Index: 4, Attempt: 1, Outbox: []engine.Command{
		{Kind: engine.StartWorkflow, Task: "t", Slot: 4, Attempt: 1, ChildID: "child"},
		{Kind: engine.RunAction, Task: "t", Slot: 5, Attempt: 1, Action: "other item"},
	}}
	got := engine.AttemptCommands(task, sl, 1)
	if len(got) != 1 || got[0].ChildID != "child" {
		t.Fatalf("item 4 attempt 1: %+v", got)
	}
	if c, ok := engine.AttemptAction(task, sl, 1); ok {
		t.Fatalf("an item running a sub-workflow has no action, got %+v", c)
	}
}
