package dynamostore

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/value"
)

// TestItemEncodingKeepsDictOrder: a task's and an execution's dicts come
// back from their DynamoDB item in the order they were written, as Mistral
// keeps them (Python dicts).
func TestItemEncodingKeepsDictOrder(t *testing.T) {
	s := &driver{opt: Options{MaxValue: 1 << 20, OffloadAt: 1 << 16}}
	ctx := context.Background()
	result := value.MapFromPairs("zeta", int64(1), "alpha", []any{value.MapFromPairs("y", 2.5, "x", nil)})
	tk := &engine.Task{Exec: "e1", Key: "t1", Name: "t1", State: engine.Success, Result: result, HasResult: true,
		Ctx:       value.MapFromPairs("zk", int64(0), "in", value.MapFromPairs("b", "1", "a", "2")),
		Published: value.MapFromPairs("second", int64(2), "first", int64(1)),
		Outbox:    []engine.Command{{Kind: engine.RunAction, Exec: "e1", Task: "t1", Slot: -1, Input: value.MapOf(map[string]any{"q": value.MapFromPairs("2", true, "1", false)})}}}
	d, err := s.taskDoc(ctx, tk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.decodeTask(ctx, map[string]types.AttributeValue{"pk": avS("e1"), "sk": avS("T#t1"), "d": d})
	if err != nil {
		t.Fatal(err)
	}
	for what, pair := range map[string][2]any{
		"result":       {got.Result, tk.Result},
		"published":    {got.Published, tk.Published},
		"context":      {got.Ctx, tk.Ctx},
		"action input": {got.Outbox[0].Input.Value("q"), tk.Outbox[0].Input.Value("q")},
	} {
		if g, w := value.JSON(pair[0], -1, false), value.JSON(pair[1], -1, false); g != w {
			t.Errorf("%s came back as %s, want %s", what, g, w)
		}
	}

	e := &engine.Execution{ID: "e1", Workflow: "wf", State: engine.Success,
		Output: value.MapFromPairs("result", "done", "b", int64(1), "a", int64(2)),
		Vars:   value.MapFromPairs("zv", true, "v", value.MapFromPairs("z", int64(0), "y", int64(1))),
		Env:    value.MapFromPairs("z", "1", "a", "2")}
	item, err := s.headItem(ctx, e, 1)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.decodeHead(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	if g := value.JSON(back.Output, -1, false); g != `{"result": "done", "b": 1, "a": 2}` {
		t.Errorf("output came back as %s", g)
	}
	if g := value.JSON(back.Vars, -1, false); g != `{"zv": true, "v": {"z": 0, "y": 1}}` {
		t.Errorf("vars came back as %s", g)
	}
	if g := value.JSON(back.Env, -1, false); g != `{"z": "1", "a": "2"}` {
		t.Errorf("env came back as %s", g)
	}
}
