package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/value"
)

// testDeleteExecution: a finished execution goes with every record it
// owns; an unfinished one stays unless forced; an unknown one is not found.
func testDeleteExecution(t *testing.T, s store.Store) {
	mk := func(id string, st engine.State) {
		e := newExec(id)
		e.State = st
		commit(t, s, engine.PutExecution{Exec: e}, engine.PutInput{Exec: id, Input: e.Input})
		tk := newTask(id, "t1")
		tk.State = engine.Success
		commit(t, s, engine.PutTask{Task: tk}, engine.PutLeaf{Leaf: &engine.Leaf{Exec: id, Seq: 1, Task: "t1"}})
		commit(t, s, engine.PutSlot{Slot: &engine.Slot{Exec: id, Task: "t1", Index: 0, State: engine.Success, Attempt: 1}})
		commit(t, s, arrive(id, "j", "t1", dict("a", "b"))...)
	}
	gone := func(id string) {
		t.Helper()
		if e, err := s.Execution(ctxBG, id); err != nil || e != nil {
			t.Fatalf("%s after delete: %v, %v", id, e, err)
		}
		if task(t, s, id, "t1") != nil || slot(t, s, id, "t1", 0) != nil || len(arrivals(t, s, id, "j")) != 0 {
			t.Fatalf("%s: records left after delete", id)
		}
		if in, err := s.Input(ctxBG, id); err != nil || in != nil {
			t.Fatalf("%s: input left after delete: %v %v", id, in, err)
		}
		page, err := s.ListExecutions(ctxBG, store.ListParams{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			if e.ID == id {
				t.Fatalf("%s still listed after delete", id)
			}
		}
	}
	mk("ex-done", engine.Success)
	mk("ex-running", engine.Running)
	if err := s.DeleteExecution(ctxBG, "ex-done", false); err != nil {
		t.Fatalf("delete a finished execution: %v", err)
	}
	gone("ex-done")
	if err := s.DeleteExecution(ctxBG, "ex-done", false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete it again: %v, want ErrNotFound", err)
	}
	if err := s.DeleteExecution(ctxBG, "ex-running", false); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete a running execution unforced: %v, want ErrConflict", err)
	}
	if head(t, s, "ex-running") == nil || task(t, s, "ex-running", "t1") == nil {
		t.Fatal("a refused delete removed records")
	}
	if err := s.DeleteExecution(ctxBG, "ex-running", true); err != nil {
		t.Fatalf("forced delete of a running execution: %v", err)
	}
	gone("ex-running")
	if err := s.DeleteExecution(ctxBG, "~nope", true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete an invalid id: %v, want ErrNotFound", err)
	}
}

// testDeleteDefinition: the name goes, the content id stays readable (an
// execution running it goes on).
func testDeleteDefinition(t *testing.T, s store.Store) {
	d := &engine.Definition{Name: "wf", DefID: "d1", Source: "src", Created: t0, Updated: t0}
	if err := s.PutDefinition(ctxBG, d); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDefinition(ctxBG, &engine.Definition{Name: "other", DefID: "d2", Source: "x", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	// DefinitionNames (a not-found's did-you-mean) reads names in order, at
	// most limit of them.
	wantNames := func(limit int, want ...string) {
		t.Helper()
		got, err := s.DefinitionNames(ctxBG, limit)
		if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("DefinitionNames(%d): %q %v, want %q", limit, got, err, want)
		}
	}
	wantNames(10, "other", "wf")
	wantNames(1, "other")
	if err := s.DeleteDefinition(ctxBG, "wf"); err != nil {
		t.Fatalf("DeleteDefinition: %v", err)
	}
	if _, err := s.Definition(ctxBG, "wf"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted definition by name: %v, want ErrNotFound", err)
	}
	if byID, err := s.DefinitionByID(ctxBG, "d1"); err != nil || byID.Source != "src" {
		t.Fatalf("deleted definition by content id: %+v %v (executions running it need it)", byID, err)
	}
	all, err := s.ListDefinitions(ctxBG)
	if err != nil || len(all) != 1 || all[0].Name != "other" {
		t.Fatalf("ListDefinitions after delete: %v %v", all, err)
	}
	wantNames(10, "other")
	if err := s.DeleteDefinition(ctxBG, "wf"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete it again: %v, want ErrNotFound", err)
	}
}

func testEnvironments(t *testing.T, s store.Store) {
	if _, err := s.Environment(ctxBG, "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing environment: %v, want ErrNotFound", err)
	}
	later := t0.Add(time.Hour)
	prod := &store.Environment{Name: "prod", Description: "production", Scope: "private",
		Variables: value.MapFromPairs("url", "https://x", "n", int64(3), "list", []any{"a", true}), Created: t0, Updated: t0}
	if err := s.PutEnvironment(ctxBG, prod, true); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := s.PutEnvironment(ctxBG, &store.Environment{Name: "prod", Created: later, Updated: later}, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("create a duplicate: %v, want ErrConflict", err)
	}
	if err := s.PutEnvironment(ctxBG, &store.Environment{Name: "nope", Created: later, Updated: later}, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update an unknown environment: %v, want ErrNotFound", err)
	}
	got, err := s.Environment(ctxBG, "prod")
	// The variables come back in the order given (env() shows them so).
	if err != nil || got.Description != "production" || !got.Created.Equal(t0) {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if v, want := value.JSON(got.Variables, -1, false), `{"url": "https://x", "n": 3, "list": ["a", true]}`; v != want {
		t.Fatalf("variables read back %s, want %s", v, want)
	}
	upd := &store.Environment{Name: "prod", Description: "new", Scope: "private", Variables: value.MapFromPairs("url", "https://y"), Created: later, Updated: later}
	if err := s.PutEnvironment(ctxBG, upd, false); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err = s.Environment(ctxBG, "prod")
	if err != nil || got.Description != "new" || got.Variables.Value("url") != "https://y" || got.Variables.Has("n") ||
		!got.Created.Equal(t0) || !got.Updated.Equal(later) {
		t.Fatalf("after update: %+v %v (want created kept, variables replaced)", got, err)
	}
	if err := s.PutEnvironment(ctxBG, &store.Environment{Name: "dev", Created: t0, Updated: t0}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEnvironment(ctxBG, &store.Environment{Name: "", Created: t0}, true); !errors.Is(err, engine.ErrInvalidInput) {
		t.Fatalf("create without a name: %v, want ErrInvalidInput", err)
	}
	all, err := s.ListEnvironments(ctxBG)
	if err != nil || len(all) != 2 || all[0].Name != "dev" || all[1].Name != "prod" {
		t.Fatalf("ListEnvironments: %v %v (want dev, prod)", all, err)
	}
	if err := s.DeleteEnvironment(ctxBG, "prod"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteEnvironment(ctxBG, "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete again: %v, want ErrNotFound", err)
	}
	if _, err := s.Environment(ctxBG, "prod"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted environment: %v, want ErrNotFound", err)
	}
	if defs, err := s.ListDefinitions(ctxBG); err != nil || len(defs) != 0 {
		t.Fatalf("environments show up as definitions: %v %v", defs, err)
	}
}
