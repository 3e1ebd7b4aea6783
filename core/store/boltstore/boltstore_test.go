package boltstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "lazyflow.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopen: what was committed before Close is there after Open, and the
// conditions still hold against it.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lazyflow.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	e := &engine.Execution{ID: "ex-1", Workflow: "wf", DefID: "d", State: engine.Running, Active: 1, Created: now, Updated: now}
	tk := &engine.Task{Exec: "ex-1", Key: "t1", Name: "t1", State: engine.Running, Attempt: 1, Result: int64(42)}
	if err := s.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}, engine.PutTask{Task: tk}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDefinition(ctx, &engine.Definition{Name: "wf", DefID: "d", Source: "src", Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimAttempt(ctx, store.ClaimParams{Exec: "ex-1", Task: "t1", Slot: -1, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = boltstore.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	h, err := s.Execution(ctx, "ex-1")
	if err != nil || h == nil || h.Version != 1 || h.Active != 1 || !h.Created.Equal(now) {
		t.Fatalf("head after reopen: %+v %v", h, err)
	}
	got, err := s.Task(ctx, "ex-1", "t1")
	if err != nil || got == nil || got.Result != int64(42) || got.Claimed != 1 {
		t.Fatalf("task after reopen: %+v %v", got, err)
	}
	if d, err := s.Definition(ctx, "wf"); err != nil || d.Source != "src" {
		t.Fatalf("definition after reopen: %+v %v", d, err)
	}
	if err := s.ClaimAttempt(ctx, store.ClaimParams{Exec: "ex-1", Task: "t1", Slot: -1, Attempt: 1}); err == nil {
		t.Fatal("a claim made before the restart was granted again")
	}
	if err := s.Commit(ctx, []engine.Op{engine.PutExecution{Exec: e}}); err == nil {
		t.Fatal("creating an execution that exists in the file succeeded")
	}
	p, err := s.ListExecutions(ctx, store.ListParams{})
	if err != nil || len(p.Executions) != 1 {
		t.Fatalf("list after reopen: %+v %v", p, err)
	}
}
