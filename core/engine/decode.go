package engine

import (
	"encoding/json"

	"github.com/lazyflow/lazyflow/core/value"
)

// Decode decodes a record that a store encoded with encoding/json into
// *Execution, *Task, *Slot, *Leaf, *InputRecord or *Definition. The records' user data
// (inputs, contexts, results, outputs) is read by value.FromJSON, through
// the UnmarshalJSON methods below: whole numbers stay int64 (plain
// json.Unmarshal would turn them into float64, and `str(3)` would then print
// "3.0") and dicts keep their order.
func Decode(raw []byte, rec any) error { return json.Unmarshal(raw, rec) }

// userData reads one member holding user data; absent is nil.
func userData(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return value.FromJSON(raw)
}

// orderedFields reads a member holding a set of named values in the order
// they were written. Absent or empty is nil, as an empty Go map field
// (omitted when written) reads back, so every store returns the same.
func orderedFields(raw json.RawMessage) (*value.Map, error) {
	v, err := userData(raw)
	if err != nil || v == nil {
		return nil, err
	}
	if m, ok := value.AsMap(v); ok && m.Len() > 0 {
		return m, nil
	}
	return nil, nil
}

// UnmarshalJSON reads an execution with its data as Decode describes.
func (e *Execution) UnmarshalJSON(b []byte) error {
	type plain Execution
	var aux struct {
		*plain
		Input  json.RawMessage `json:"input,omitempty"`
		Vars   json.RawMessage `json:"vars,omitempty"`
		Env    json.RawMessage `json:"env,omitempty"`
		Output json.RawMessage `json:"output,omitempty"`
	}
	aux.plain = (*plain)(e)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err [4]error
	e.Input, err[0] = orderedFields(aux.Input)
	e.Vars, err[1] = orderedFields(aux.Vars)
	e.Env, err[2] = orderedFields(aux.Env)
	e.Output, err[3] = userData(aux.Output)
	return firstErr(err[:])
}

// UnmarshalJSON reads a task with its data as Decode describes.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	var aux struct {
		*plain
		Ctx    json.RawMessage `json:"ctx,omitempty"`
		Result json.RawMessage `json:"result,omitempty"`
	}
	aux.plain = (*plain)(t)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err [2]error
	t.Ctx, err[0] = orderedFields(aux.Ctx)
	t.Result, err[1] = userData(aux.Result)
	return firstErr(err[:])
}

// UnmarshalJSON reads a with-items slot with its result as Decode describes.
func (s *Slot) UnmarshalJSON(b []byte) error {
	type plain Slot
	var aux struct {
		*plain
		Result json.RawMessage `json:"result,omitempty"`
	}
	aux.plain = (*plain)(s)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	s.Result, err = userData(aux.Result)
	return err
}

// UnmarshalJSON reads a leaf with its context as Decode describes.
func (l *Leaf) UnmarshalJSON(b []byte) error {
	type plain Leaf
	var aux struct {
		*plain
		Ctx json.RawMessage `json:"ctx,omitempty"`
	}
	aux.plain = (*plain)(l)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	l.Ctx, err = orderedFields(aux.Ctx)
	return err
}

// UnmarshalJSON reads a command with its input as Decode describes (in an
// outbox and in a queue message).
func (c *Command) UnmarshalJSON(b []byte) error {
	type plain Command
	var aux struct {
		*plain
		Input json.RawMessage `json:"input,omitempty"`
	}
	aux.plain = (*plain)(c)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	c.Input, err = orderedFields(aux.Input)
	return err
}

// UnmarshalJSON reads an action's result with its output as Decode
// describes.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	var aux struct {
		*plain
		Output json.RawMessage `json:"output,omitempty"`
	}
	aux.plain = (*plain)(r)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	var err error
	r.Output, err = userData(aux.Output)
	return err
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
