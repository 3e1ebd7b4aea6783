package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
)

// A cancel of an execution with many live tasks commits its head alone and
// ends the tasks by pages of at most EndTasksPage records, each sending the
// next; at the end no task is live and no work is counted.
func TestCancelEndsTasksInPages(t *testing.T) {
	const n = 3*engine.EndTasksPage + 7
	var src strings.Builder
	src.WriteString("version: '2.0'\nwf:\n  tasks:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&src, "    t%03d:\n      action: std.noop\n", i)
	}
	h := newPlanHost(t, src.String())
	for p := h.start("wf", nil); ; {
		var next *engine.Command
		for _, c := range p.Commands {
			if c.Kind == engine.StartTimer && c.Timer == engine.TimerStartPage {
				next = &c
			}
		}
		if next == nil {
			break
		}
		p = h.fire(*next)
	}
	if hd := h.head(); hd.Active != n {
		t.Fatalf("before cancel: active %d, want %d", hd.Active, n)
	}
	p := h.do("cancel", func() (*engine.Plan, error) { return h.e.Cancel(h.ctx, h.st, planExec) })
	if len(p.Ops) != 1 {
		t.Fatalf("cancel writes %d records, want the head alone", len(p.Ops))
	}
	if hd := h.head(); hd.State != engine.Cancelled {
		t.Fatalf("head after cancel: %s", hd.State)
	}
	pages := 0
	read := &countingReader{Reader: h.st}
	for page := only(t, p.Commands, engine.StartTimer); ; pages++ {
		p = h.do("page", func() (*engine.Plan, error) {
			return h.e.Fire(h.ctx, read, engine.Timer{Exec: page.Exec, Task: page.Task, Slot: page.Slot, Kind: page.Timer})
		})
		if len(p.Ops) > engine.EndTasksPage+1 {
			t.Fatalf("page %d writes %d records (limit %d)", pages, len(p.Ops), engine.EndTasksPage+1)
		}
		var next []engine.Command
		for _, c := range p.Commands {
			if c.Kind == engine.StartTimer {
				next = append(next, c)
			}
		}
		if len(next) == 0 {
			break
		}
		page = only(t, next, engine.StartTimer)
		if pages > n {
			t.Fatalf("pages do not end")
		}
	}
	if pages != 3 {
		t.Errorf("%d follow-up pages, want 3", pages)
	}
	// Each page reads its own part, not every task again: a cancel of
	// 10,000 tasks would otherwise read 10,000 records per page.
	if read.tasks > n+2*(pages+1) {
		t.Errorf("the pages read %d task records in all, for %d tasks", read.tasks, n)
	}
	tasks, err := h.st.Tasks(h.ctx, planExec)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range tasks {
		if rec.State != engine.Cancelled {
			t.Fatalf("task %s: %s after the pages", rec.Key, rec.State)
		}
	}
	if hd := h.head(); hd.Active != 0 {
		t.Fatalf("active %d after the pages", hd.Active)
	}
	// A page sent again (a sweep, a redelivery) writes nothing.
	if p := h.fire(engine.EndTasksCommands(&engine.Execution{ID: planExec, State: engine.Cancelled, Active: 1})[0]); len(p.Ops) != 0 {
		t.Fatalf("page sent again writes %d records", len(p.Ops))
	}
}

// countingReader counts the task records read through it in bulk.
type countingReader struct {
	engine.Reader
	tasks int
}

func (r *countingReader) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	ts, err := r.Reader.Tasks(ctx, exec)
	r.tasks += len(ts)
	return ts, err
}

func (r *countingReader) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	ts, err := r.Reader.TasksAfter(ctx, exec, after, limit)
	r.tasks += len(ts)
	return ts, err
}
