package service_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// Unregister removes what registering the same source stored, and leaves a name that another
// source has taken since: a deployment that drops or changes a file must not delete a
// workflow registered by hand or by another file under the same name.
func TestUnregisterRemovesOnlyItsOwnDefinitions(t *testing.T) {
	h := embedded.New(embedded.Options{Store: kvstore.NewMemory()})
	defer h.Close()
	ctx := context.Background()
	v1 := []byte("version: '2.0'\nname: shop\nworkflows:\n  order:\n    tasks:\n      t:\n        action: std.noop\n  refund:\n    tasks:\n      t:\n        action: std.noop\n")
	if _, err := h.Register(ctx, "shop.yaml", v1); err != nil {
		t.Fatal(err)
	}
	// Someone registers "refund" on its own: the workbook's short name no longer holds v1.
	other := []byte("version: '2.0'\nrefund:\n  tasks:\n    t:\n      action: std.echo output=1\n")
	if _, err := h.Register(ctx, "refund.yaml", other); err != nil {
		t.Fatal(err)
	}
	removed, err := h.Unregister(ctx, "shop.yaml", v1)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if want := []string{"order", "shop.order", "shop.refund"}; !slices.Equal(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	for _, n := range []string{"order", "shop.order", "shop.refund"} {
		if _, err := h.Store.Definition(ctx, n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after Unregister: %v, want not found", n, err)
		}
	}
	if d, err := h.Store.Definition(ctx, "refund"); err != nil || d.Source != string(other) {
		t.Errorf("refund registered on its own was touched: %v %v", d, err)
	}
	// A second Unregister finds nothing left of v1 and succeeds.
	if removed, err := h.Unregister(ctx, "shop.yaml", v1); err != nil || len(removed) != 0 {
		t.Errorf("second Unregister: %v %v", removed, err)
	}
}
