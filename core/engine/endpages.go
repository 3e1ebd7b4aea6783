package engine

import (
	"fmt"
	"sort"
)

// EndTasksPage bounds the tasks one step of a cancel ends, so each step is a
// commit of at most EndTasksPage+1 records (DynamoDB takes 100 in one
// transaction) however many tasks the execution has.
const EndTasksPage = 64

// EndTasksCommands starts ending the live tasks of a cancelled execution,
// page by page (none when it has no live work). Cancel sends it, and a
// host re-sends it when the message may have been lost: a page that finds
// its tasks ended already writes nothing.
func EndTasksCommands(h *Execution) []Command {
	if h.State != Cancelled || h.Active <= 0 {
		return nil
	}
	return []Command{{Kind: StartTimer, Exec: h.ID, Slot: -1, Timer: TimerEndTasks}}
}

// fireEndTasks ends the next page of live tasks of a cancelled execution,
// those whose keys follow tm.Task (the last key the page before ended),
// and cancels their sub-workflows; a full page asks for the next one.
// Completions no longer write tasks of a cancelled execution (see
// lateResult), so these writes do not race with them.
func (b *builder) fireEndTasks(tm Timer) (*Plan, error) {
	if b.head.State != Cancelled {
		return &Plan{}, nil
	}
	tasks, err := b.r.Tasks(b.ctx, b.head.ID)
	if err != nil {
		return nil, fmt.Errorf("end live tasks of cancelled execution %s: %w", b.head.ID, err)
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].Key < tasks[j].Key })
	var ended []string
	more := false
	for _, t := range tasks {
		if tm.Task != "" && t.Key <= tm.Task || t.State.Terminal() || t.State == Waiting && !t.Fired {
			continue
		}
		if len(ended) == EndTasksPage {
			more = true
			break
		}
		if d := b.wf.Tasks[t.Name]; d != nil && d.Workflow != "" {
			kids, err := b.childrenOf(t)
			if err != nil {
				return nil, err
			}
			for _, id := range kids {
				b.cmds = append(b.cmds, Command{Kind: CancelWorkflow, Exec: id, Slot: -1})
			}
		}
		b.endTask(t)
		b.putTask(t)
		ended = append(ended, t.Key)
	}
	if more {
		b.cmds = append(b.cmds, Command{Kind: StartTimer, Exec: b.head.ID, Task: ended[len(ended)-1], Slot: -1, Timer: TimerEndTasks})
	} else if live := b.head.Active + b.add.Active; live > 0 {
		// What is left counted is no task's (arrivals at joins that will
		// not fire): the execution has no live work any more, and a
		// sweep that re-sends the pages of counted work stops here.
		b.add.Active -= live
	}
	return b.plan(), nil
}
