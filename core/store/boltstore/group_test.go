package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/store/kvstore"
)

// Concurrent transactions are committed in groups, and a call that fails or
// panics inside a group leaves no write behind and takes no other call down.
func TestGroupCommit(t *testing.T) {
	db, err := OpenDB(filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := New(db, false); err != nil { // creates the bucket
		t.Fatal(err)
	}
	b := newBackend(db, false)
	counter := func(tx kvstore.Tx) int {
		v, err := tx.Get("p", "counter")
		if err != nil || v == nil {
			return 0
		}
		n, _ := strconv.Atoi(string(v.([]byte)))
		return n
	}
	const n = 64
	var first atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Update(func(tx kvstore.Tx) error {
				if first.CompareAndSwap(false, true) {
					time.Sleep(20 * time.Millisecond) // hold the first group so the others queue up
				}
				if err := tx.Put("p", "counter", []byte(strconv.Itoa(counter(tx)+1))); err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					_ = tx.Put("p", fmt.Sprintf("x%02d", i), []byte("failed"))
					return errors.New("planned failure")
				case 3:
					_ = tx.Put("p", fmt.Sprintf("x%02d", i), []byte("panicked"))
					panic("planned panic")
				}
				return tx.Put("p", fmt.Sprintf("y%02d", i), []byte("ok"))
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%2 == 1) != (err != nil) {
			t.Errorf("call %d: err %v", i, err)
		}
	}
	var got, ys, xs int
	if err := b.View(func(tx kvstore.Tx) error {
		got = counter(tx)
		return tx.Scan("p", "", func(sk string, _ any) error {
			switch sk[0] {
			case 'y':
				ys++
			case 'x':
				xs++
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if got != n/2 || ys != n/2 || xs != 0 {
		t.Fatalf("counter %d, %d successful writes, %d writes of failed calls; want %d, %d, 0", got, ys, xs, n/2, n/2)
	}
	groups, _ := b.w.Stats()
	if groups >= n {
		t.Fatalf("%d calls took %d bbolt transactions: nothing was grouped", n, groups)
	}
	t.Logf("%d calls in %d transactions", n, groups)
}

// Inside a read-write transaction a call reads its own staged writes, in
// order among the committed ones.
func TestOverlayReadsOwnWrites(t *testing.T) {
	db, err := OpenDB(filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := New(db, false); err != nil {
		t.Fatal(err)
	}
	b := newBackend(db, false)
	if err := b.Update(func(tx kvstore.Tx) error {
		_ = tx.Put("p", "a", []byte("1"))
		return tx.Put("p", "c", []byte("3"))
	}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := b.Update(func(tx kvstore.Tx) error {
		_ = tx.Put("p", "b", []byte("2"))
		_ = tx.Put("p", "c", []byte("4"))
		_ = tx.Put("q", "z", []byte("other partition"))
		if v, _ := tx.Get("p", "b"); string(v.([]byte)) != "2" {
			return fmt.Errorf("get of a staged write: %q", v)
		}
		return tx.Scan("p", "", func(sk string, v any) error {
			seen = append(seen, sk+"="+string(v.([]byte)))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[a=1 b=2 c=4]" {
		t.Fatalf("scan saw %v", seen)
	}
}
