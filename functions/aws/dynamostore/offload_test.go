package dynamostore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/functions/aws/dynamostore"
)

// TestOffloadToS3: a result over the threshold is written to MiniStack's S3
// (path-style) under its content hash and read back; without a blob store
// the same value is refused with ErrTooLarge instead of a failed write.
func TestOffloadToS3(t *testing.T) {
	ctx := context.Background()
	b := valueBlobs(t)
	st := newStore(t, ddbLocal, dynamostore.Options{Blobs: b, OffloadAt: 1 << 10})
	big := strings.Repeat("lazyflow ", 50<<10)
	tk := &engine.Task{Exec: "ex-1", Key: "t", Name: "t", State: engine.Success, Attempt: 1, Result: big}
	if err := st.Commit(ctx, []engine.Op{engine.PutTask{Task: tk}}); err != nil {
		t.Fatal(err)
	}
	if n := st.Stats.Offloaded.Load(); n != 1 {
		t.Fatalf("%d values offloaded, want 1", n)
	}
	got, err := st.Task(ctx, "ex-1", "t")
	if err != nil || got == nil || got.Result != big {
		t.Fatalf("offloaded result did not come back: %v", err)
	}
	// The object is in S3 under the hash of the record's JSON; reading it
	// checks the hash.
	if _, err := b.Get(ctx, b.Key([]byte("not stored"))); err == nil {
		t.Fatal("reading a key never written succeeded")
	}

	small := newStore(t, ddbLocal, dynamostore.Options{})
	err = small.Commit(ctx, []engine.Op{engine.PutTask{Task: tk}})
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("without a blob store: %v, want ErrTooLarge", err)
	}
}
