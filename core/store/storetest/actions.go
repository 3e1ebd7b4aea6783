package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/store"
)

// testActions: user actions are stored by name, replaced keeping their
// creation time, listed by name, and deleted (then absent from Action and
// ListActions, and registrable again as new).
func testActions(t *testing.T, s store.Store) {
	if _, err := s.Action(ctxBG, "pack.resize"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing action: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAction(ctxBG, "pack.resize"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete of a missing action: %v, want ErrNotFound", err)
	}
	a := &store.ActionDef{Name: "pack.resize", Kind: "lambda", Target: "resize-fn", Required: []string{"image"},
		Optional: []string{"width"}, Description: "resizes", Created: t0, Updated: t0}
	if err := s.PutAction(ctxBG, a); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	b := &store.ActionDef{Name: "pack.resize", Kind: "http", Target: "https://example.com/resize", Required: []string{"image", "height"},
		Created: later, Updated: later}
	if err := s.PutAction(ctxBG, b); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAction(ctxBG, &store.ActionDef{Name: "other.a", Kind: "http", Target: "http://x", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	cur, err := s.Action(ctxBG, "pack.resize")
	if err != nil || cur.Kind != "http" || cur.Target != b.Target || !slices.Equal(cur.Required, b.Required) ||
		cur.Optional != nil || !cur.Created.Equal(t0) || !cur.Updated.Equal(later) {
		t.Fatalf("replaced action: %+v %v (want the second put, created kept from the first)", cur, err)
	}
	all, err := s.ListActions(ctxBG)
	if err != nil || len(all) != 2 || all[0].Name != "other.a" || all[1].Name != "pack.resize" {
		t.Fatalf("ListActions: %+v %v, want other.a and pack.resize by name", all, err)
	}
	if err := s.DeleteAction(ctxBG, "pack.resize"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Action(ctxBG, "pack.resize"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted action: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAction(ctxBG, "pack.resize"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if all, err := s.ListActions(ctxBG); err != nil || len(all) != 1 || all[0].Name != "other.a" {
		t.Fatalf("ListActions after delete: %+v %v", all, err)
	}
	again := &store.ActionDef{Name: "pack.resize", Kind: "lambda", Target: "fn2", Created: later, Updated: later}
	if err := s.PutAction(ctxBG, again); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Action(ctxBG, "pack.resize"); err != nil || cur.Target != "fn2" || !cur.Created.Equal(later) {
		t.Fatalf("action registered again after a delete: %+v %v (want a new record)", cur, err)
	}
}
