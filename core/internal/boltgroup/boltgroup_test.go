package boltgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Concurrent calls share transactions; a call that fails (or panics) has
// none of its writes kept and fails no other call; after runs only for
// calls whose writes are durable.
func TestGroupsAndFailures(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := For(db)
	defer Forget(db)
	if For(db) != w {
		t.Fatal("two writers for one file: they would not share groups")
	}
	if err := w.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }, nil); err != nil {
		t.Fatal(err)
	}
	const n = 200
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		after = map[int]bool{}
		errs  = make([]error, n)
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.Update(func(tx *bolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put([]byte(fmt.Sprint(i)), []byte("x")); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errors.New("refused")
				case 7:
					panic("bad call")
				}
				return nil
			}, func() { mu.Lock(); after[i] = true; mu.Unlock() })
		}()
	}
	wg.Wait()
	_ = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := 0; i < n; i++ {
			bad := i%10 == 3 || i%10 == 7
			if got := b.Get([]byte(fmt.Sprint(i))) != nil; got == bad {
				t.Errorf("call %d: written %v, failed %v", i, got, bad)
			}
			if (errs[i] != nil) != bad || after[i] == bad {
				t.Errorf("call %d: error %v, after ran %v", i, errs[i], after[i])
			}
		}
		return nil
	})
	groups, calls := w.Stats()
	if calls != n-n/5+1 {
		t.Errorf("%d calls committed, want %d", calls, n-n/5+1)
	}
	t.Logf("%d calls in %d transactions", calls, groups)
}
