package engine

// AttemptCommands returns the commands that attempt of task t (sl nil) or
// of its item sl decided, as the records still hold them: a host re-sends
// them when their message may have been lost, or reads the action an
// attempt runs. The item's own outbox comes first; the task's is searched
// too, since a step that wrote both may have left the attempt's commands on
// either. Commands for other tasks, items or attempts that the same step
// decided are left out.
func AttemptCommands(t *Task, sl *Slot, attempt int) []Command {
	slot, outbox := -1, t.Outbox
	if sl != nil {
		slot = sl.Index
		outbox = append(append([]Command(nil), sl.Outbox...), t.Outbox...)
	}
	var out []Command
	for _, c := range outbox {
		if c.Task == t.Key && c.Slot == slot && c.Attempt == attempt {
			out = append(out, c)
		}
	}
	return out
}

// AttemptAction returns the run-action command of an attempt (see
// AttemptCommands), if its records hold one: an attempt running a
// sub-workflow, or whose records a later step rewrote, has none.
func AttemptAction(t *Task, sl *Slot, attempt int) (Command, bool) {
	for _, c := range AttemptCommands(t, sl, attempt) {
		if c.Kind == RunAction {
			return c, true
		}
	}
	return Command{}, false
}
