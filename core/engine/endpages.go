package engine

import (
	"fmt"
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

// endTasksRead is how many task records a page of a cancel reads at a
// time: a page and one more, which tells whether another page is due
// when every task read is live; more are read while some have ended.
const endTasksRead = EndTasksPage + 1

// fireEndTasks ends the next page of live tasks of a cancelled execution,
// those whose keys follow tm.Task (the last key the page before ended),
// and cancels their sub-workflows; a full page asks for the next one.
// It reads the task records from tm.Task on, not all of them, so ending
// n tasks reads each record about once rather than once per page.
// Completions no longer write tasks of a cancelled execution (see
// lateResult), so these writes do not race with them.
func (b *builder) fireEndTasks(tm Timer) (*Plan, error) {
	if b.head.State != Cancelled {
		return &Plan{}, nil
	}
	var ended []string
	more := false
	for after, done := tm.Task, false; !done && !more; {
		tasks, err := b.r.TasksAfter(b.ctx, b.head.ID, after, endTasksRead)
		if err != nil {
			return nil, fmt.Errorf("end live tasks of cancelled execution %s: %w", b.head.ID, err)
		}
		done = len(tasks) < endTasksRead
		if len(tasks) > 0 {
			after = tasks[len(tasks)-1].Key
		}
		if more, err = b.endPage(tasks, &ended); err != nil {
			return nil, err
		}
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

// endPage ends the live tasks among tasks (in key order) until ended holds
// a page of them, and reports whether a live task is left over for the
// next page.
func (b *builder) endPage(tasks []*Task, ended *[]string) (bool, error) {
	for _, t := range tasks {
		if t.State.Terminal() || t.State == Waiting && !t.Fired {
			continue
		}
		if len(*ended) == EndTasksPage {
			return true, nil
		}
		if d := b.wf.Tasks[t.Name]; d != nil && d.Workflow != "" {
			kids, err := b.childrenOf(t)
			if err != nil {
				return false, err
			}
			for _, id := range kids {
				b.cmds = append(b.cmds, Command{Kind: CancelWorkflow, Exec: id, Slot: -1})
			}
		}
		b.endTask(t)
		b.putTask(t)
		*ended = append(*ended, t.Key)
	}
	return false, nil
}
