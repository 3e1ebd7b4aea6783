package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
)

// Corrupt is the conformance case for records a driver cannot decode; a
// driver whose records can be damaged (bytes on disk, items in a table)
// runs it with plant, which overwrites the record at pk/sk with bytes that
// are not a record, and logs, what the store has logged. A read of such a
// record is store.ErrCorrupt naming it; a corrupt head is left out of
// every list, which still pages through the others, and is logged at
// ERROR naming it, so Sweep recovers the other RUNNING executions and the
// purge deletes the other finished ones.
func Corrupt(t *testing.T, st store.Store, plant func(pk, sk string), logs fmt.Stringer) {
	ctx := context.Background()
	long := time.Now().UTC().Add(-time.Hour)
	for i, id := range []string{"e1", "e2", "e3", "e4"} {
		at := long.Add(time.Duration(i) * time.Second)
		e := &engine.Execution{ID: id, Workflow: "wf", DefID: "d", State: engine.Running, Root: id, Active: 1, Created: at, Updated: at}
		run := engine.Command{Kind: engine.RunAction, Exec: id, Task: "t", Slot: -1, Attempt: 1}
		tk := &engine.Task{Exec: id, Key: "t", Name: "t", State: engine.Running, Attempt: 1, Started: at, Outbox: []engine.Command{run}}
		commit(t, st, engine.PutExecution{Exec: e}, engine.PutTask{Task: tk})
	}
	plant("e3", store.HeadSK)
	plant("e4", store.TaskSK("t"))

	if _, err := st.Execution(ctx, "e3"); !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "e3") {
		t.Fatalf("read of a corrupt head: %v, want ErrCorrupt naming e3", err)
	}
	if _, err := st.Task(ctx, "e4", "t"); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "e4") {
		t.Fatalf("read of a corrupt task: %v, want ErrCorrupt naming e4", err)
	}

	for _, p := range []store.ListParams{{State: engine.Running}, {Workflow: "wf"}, {}} {
		var ids []string
		for cursor := ""; ; {
			p.Limit, p.Cursor = 1, cursor
			page, err := st.ListExecutions(ctx, p)
			if err != nil {
				t.Fatalf("list %+v with a corrupt head: %v", p, err)
			}
			for _, e := range page.Executions {
				ids = append(ids, e.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if got := strings.Join(ids, ","); got != "e4,e2,e1" {
			t.Errorf("list %+v: %s, want e4,e2,e1", p, got)
		}
	}
	first, _, _ := strings.Cut(logs.String(), "\n")
	if !strings.Contains(first, "ERROR") || !strings.Contains(first, "e3") {
		t.Fatalf("log %q, want an ERROR naming execution e3", logs.String())
	}

	svc, tasks, _ := NewService(st)
	n, err := svc.Sweep(ctx, time.Minute, 100)
	if err != nil || n != 3 {
		t.Fatalf("sweep with a corrupt head: %d executions, %v; want the 3 readable ones", n, err)
	}
	for _, id := range []string{"e1", "e2"} {
		if len(tasks.Runs(id)) != 1 {
			t.Errorf("sweep did not re-send the unclaimed action of %s", id)
		}
	}

	for _, id := range []string{"old1", "old2"} {
		e := &engine.Execution{ID: id, Workflow: "old", DefID: "d", State: engine.Success, Root: id, Created: long, Updated: long}
		commit(t, st, engine.PutExecution{Exec: e})
	}
	plant("old1", store.HeadSK)
	if n, err := st.PurgeExecutions(ctx, store.PurgeParams{Before: time.Now()}); err != nil || n != 1 {
		t.Fatalf("purge with a corrupt finished head: %d deleted, %v; want 1", n, err)
	}
	if _, err := st.Execution(ctx, "old1"); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("the corrupt head after the purge: %v, want it kept", err)
	}
}
