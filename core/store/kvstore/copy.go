package kvstore

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// copyCodec is the memory backend's codec. A record is deep-copied on the
// way in and on the way out, so no caller ever shares a map with the store,
// and it comes back exactly as the JSON codec would return it: values in
// their canonical shape (value.Normalize), empty maps and lists of
// `omitempty` fields dropped, times without a monotonic reading. The size
// checked against MaxValue is an estimate of the JSON encoding (the same
// order of magnitude, which is what the limit is for).
type copyCodec struct{}

// recordOverhead stands for a record's fixed-size fields in the estimate.
const recordOverhead = 256

func (copyCodec) encode(v any, max int) (any, int, error) {
	switch r := v.(type) {
	case *engine.Execution:
		c := copyExecution(r)
		return c, recordOverhead + len(c.StateInfo) + len(c.ErrorInfo) + size(c.Input) + size(c.Vars) + size(c.Env) + size(c.Output), nil
	case *engine.Task:
		c := copyTask(r)
		return c, recordOverhead + len(c.StateInfo) + size(c.Ctx) + size(c.Published) + size(c.Result) + commandsSize(c.Outbox), nil
	case *engine.Slot:
		c := copySlot(r)
		return c, recordOverhead + len(c.StateInfo) + size(c.Result) + commandsSize(c.Outbox), nil
	case *engine.InputRecord:
		c := *r
		c.Input = copyOrdered(r.Input)
		return &c, recordOverhead + size(c.Input), nil
	case *engine.Leaf:
		c := *r
		c.Ctx = copyOrdered(r.Ctx)
		return &c, recordOverhead + len(c.Error) + size(c.Ctx), nil
	case *engine.Definition:
		c := *r
		c.Created, c.Updated = r.Created.Round(0), r.Updated.Round(0)
		return &c, recordOverhead + len(c.Source), nil
	case *store.Environment:
		c := *r
		c.Variables = copyOrdered(r.Variables)
		c.Created, c.Updated = r.Created.Round(0), r.Updated.Round(0)
		return &c, recordOverhead + len(c.Name) + len(c.Description) + size(c.Variables), nil
	case *store.ActionDef:
		c := copyAction(r)
		c.Created, c.Updated = r.Created.Round(0), r.Updated.Round(0)
		n := recordOverhead + len(c.Name) + len(c.Kind) + len(c.Target) + len(c.Description)
		for _, p := range append(append([]string(nil), c.Required...), c.Optional...) {
			n += len(p) + 3
		}
		return c, n, nil
	case map[string]string:
		c := make(map[string]string, len(r))
		n := 2
		for k, s := range r {
			c[k] = s
			n += len(k) + len(s) + 6
		}
		return c, n, nil
	}
	return nil, 0, fmt.Errorf("memory store cannot keep a %T", v)
}

func (copyCodec) decode(raw, into any) error {
	switch dst := into.(type) {
	case *engine.Execution:
		if src, ok := raw.(*engine.Execution); ok {
			copyExecutionTo(dst, src)
			return nil
		}
	case *engine.Task:
		if src, ok := raw.(*engine.Task); ok {
			copyTaskTo(dst, src)
			return nil
		}
	case *engine.Slot:
		if src, ok := raw.(*engine.Slot); ok {
			copySlotTo(dst, src)
			return nil
		}
	case *engine.InputRecord:
		if src, ok := raw.(*engine.InputRecord); ok {
			*dst = *src
			dst.Input = copyOrdered(src.Input)
			return nil
		}
	case *engine.Leaf:
		if src, ok := raw.(*engine.Leaf); ok {
			*dst = *src
			dst.Ctx = copyOrdered(src.Ctx)
			return nil
		}
	case *engine.Definition:
		if src, ok := raw.(*engine.Definition); ok {
			*dst = *src
			return nil
		}
	case *store.Environment:
		if src, ok := raw.(*store.Environment); ok {
			*dst = *src
			dst.Variables = copyOrdered(src.Variables)
			return nil
		}
	case *store.ActionDef:
		if src, ok := raw.(*store.ActionDef); ok {
			*dst = *copyAction(src)
			return nil
		}
	}
	return fmt.Errorf("memory store holds a %T where a %T was asked for", raw, into)
}

// copyAction copies the name lists too: the caller may change its slices.
func copyAction(a *store.ActionDef) *store.ActionDef {
	c := *a
	c.Required, c.Optional = slices.Clone(a.Required), slices.Clone(a.Optional)
	return &c
}

func copyExecution(e *engine.Execution) *engine.Execution {
	c := new(engine.Execution)
	copyExecutionTo(c, e)
	return c
}

func copyExecutionTo(c, e *engine.Execution) {
	*c = *e
	c.Input, c.Vars, c.Env = copyOrdered(e.Input), copyOrdered(e.Vars), copyOrdered(e.Env)
	c.Output = value.Normalize(e.Output)
	c.Created, c.Updated = e.Created.Round(0), e.Updated.Round(0)
}

func copyTask(t *engine.Task) *engine.Task {
	c := new(engine.Task)
	copyTaskTo(c, t)
	return c
}

func copyTaskTo(c, t *engine.Task) {
	*c = *t
	c.Ctx = copyOrdered(t.Ctx)
	if t.Published != nil {
		// JSON keeps an empty published ({}), as it omits only a nil one.
		c.Published = value.Normalize(t.Published).(*value.Map)
	}
	c.Result = value.Normalize(t.Result)
	c.Outbox = copyCommands(t.Outbox)
	c.Started, c.Finished = t.Started.Round(0), t.Finished.Round(0)
}

func copySlot(s *engine.Slot) *engine.Slot {
	c := new(engine.Slot)
	copySlotTo(c, s)
	return c
}

func copySlotTo(c, s *engine.Slot) {
	*c = *s
	c.Result = value.Normalize(s.Result)
	c.Outbox = copyCommands(s.Outbox)
}

// copyOrdered copies an `omitempty` dict field: empty becomes nil, as the
// JSON codec reads it back (engine.Decode).
func copyOrdered(m *value.Map) *value.Map {
	if m.Len() == 0 {
		return nil
	}
	return value.Normalize(m).(*value.Map)
}

func copyCommands(cs []engine.Command) []engine.Command {
	if len(cs) == 0 {
		return nil
	}
	out := make([]engine.Command, len(cs))
	for i, c := range cs {
		c.Input = copyOrdered(c.Input)
		if c.Result != nil {
			r := *c.Result
			r.Output = value.Normalize(r.Output)
			c.Result = &r
		}
		out[i] = c
	}
	return out
}

func commandsSize(cs []engine.Command) int {
	n := 0
	for _, c := range cs {
		n += 128 + size(c.Input)
		if c.Result != nil {
			n += 64 + len(c.Result.Error) + size(c.Result.Output)
		}
	}
	return n
}

// size estimates the JSON length of a canonical value.
func size(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case int64, float64:
		return 8
	case *big.Int:
		return x.BitLen()/3 + 2
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += size(e) + 1
		}
		return n
	case *value.Map:
		n := 2
		for k, e := range x.All() {
			n += len(k) + 4 + size(e)
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + size(e)
		}
		return n
	case time.Time:
		return 32
	}
	return 16
}
