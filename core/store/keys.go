package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lazyflow/lazyflow/core/engine"
)

// The key scheme every driver uses. A record has a partition key (an
// execution id, or DefPK for definitions) and a sort key:
//
//	<exec>  H                     the execution head (without its input)
//	<exec>  I                     the execution's input, written once
//	<exec>  T#<task key>          a task execution
//	<exec>  S#<task key>#<index>  a with-items slot (index zero-padded to 8)
//	<exec>  L#<seq>#<task key>    a branch end (leaf; seq zero-padded to 12)
//	<exec>  A#<join>\x00<from>    one branch's arrival at a join, with its context
//	~def    N#<name>              the current definition of a workflow
//	~def    I#<def id>            a definition by content id
//	~env    E#<name>              an environment (environments.go)
//
// Zero padding keeps string order and numeric order the same, so a prefix
// scan returns slots by index and leaves by sequence. How a driver indexes
// executions for listing is its own (an index partition, secondary
// indexes); those keys never share a partition with an execution's.
const (
	// DefPK is the partition of workflow definitions. Execution ids never
	// start with "~" (ValidID), so it cannot collide with one.
	DefPK = "~def"
	// HeadSK is the execution head's sort key.
	HeadSK = "H"
	// InputSK is the execution input's sort key.
	InputSK = "I"
	// TaskPrefix starts every task record's sort key.
	TaskPrefix = "T#"
	// LeafPrefix starts every branch end's sort key.
	LeafPrefix = "L#"
	// DefNamePrefix starts the sort key of every definition by name.
	DefNamePrefix = "N#"
)

// EnvPK is the partition of environments; like DefPK it starts with "~",
// which no execution id does.
const EnvPK = "~env"

// EnvPrefix starts every environment's sort key.
const EnvPrefix = "E#"

// EnvSK is the sort key of environment name.
func EnvSK(name string) string { return EnvPrefix + name }

// TaskSK is the sort key of task key.
func TaskSK(key string) string { return TaskPrefix + key }

// SlotPrefix starts the sort keys of task's slots. Task keys of cycles
// contain '#' (name#hash), so the prefix of task "b" also matches the slots
// of "b#1a2b": a reader keeps only the slots whose Task is task.
func SlotPrefix(task string) string { return "S#" + task + "#" }

// SlotSK is the sort key of slot i of task.
// It costs one allocation: a with-items step reads and writes slots by key.
func SlotSK(task string, i int) string {
	var buf [64]byte
	b := append(append(append(buf[:0], "S#"...), task...), '#')
	var num [20]byte
	d := strconv.AppendInt(num[:0], int64(i), 10)
	for k := len(d); k < 8; k++ {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// LeafSK is the sort key of the branch end of task at seq.
func LeafSK(seq int64, task string) string { return LeafPrefix + padded(seq, 12) + "#" + task }

// ArrivalPrefix starts the sort keys of join's arrivals; "\x00" ends the
// join key so join "b" never sees the arrivals of a join "b#…".
func ArrivalPrefix(join string) string { return "A#" + join + "\x00" }

// ArrivalSK is the sort key of branch from's arrival at join.
func ArrivalSK(join, from string) string { return ArrivalPrefix(join) + from }

// DefNameSK is the sort key of the current definition of workflow name.
func DefNameSK(name string) string { return DefNamePrefix + name }

// DefIDSK is the sort key of the definition with content id id.
func DefIDSK(id string) string { return "I#" + id }

// ValidID refuses an execution id no driver can keep: empty, or starting
// with "~", which the key scheme keeps for its own partitions.
func ValidID(id string) error {
	if id == "" || strings.HasPrefix(id, "~") {
		return fmt.Errorf("invalid execution id %q: %w", id, engine.ErrInvalidInput)
	}
	return nil
}

// padded formats n (>= 0) zero-padded to width digits, as %0*d does
// (fmt.Sprintf was a measurable part of every with-items step).
func padded(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}
