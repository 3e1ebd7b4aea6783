package chaos

import (
	"fmt"
	"strings"

	"github.com/lazyflow/lazyflow/core/store"
	"pgregory.net/rapid"
)

// Check draws a case and a fault schedule, runs the case fault-free and
// under the faults, each on a fresh store from newStore, and fails t when
// the faulty run lost, doubled or left anything the fault-free one did
// not. counts, when not nil, accumulates what was run and injected.
func Check(t *rapid.T, newStore func() store.Store, counts *Counts) {
	c := DrawCase(t)
	CheckCase(t, c, rapid.Uint64().Draw(t, "seed"), newStore, counts)
}

// CheckCase is Check for a given case and fault seed, for drivers too slow
// for rapid's hundred cases (draw a few with rapid.Custom(DrawCase).Example).
func CheckCase(t TB, c Case, seed uint64, newStore func() store.Store, counts *Counts) {
	t.Helper()
	want := Run(t, Case{Source: c.Source, Target: c.Target, RacingJoin: c.RacingJoin}, newStore(), Quiet())
	faults := NewSchedule(seed, Rates())
	got := Run(t, c, newStore(), faults)
	Compare(t, c.Source, want, got)
	if counts != nil {
		found := faults.Counts()
		if got.Recovered > 0 {
			found[NeededRecover] += got.Recovered
		}
		counts.Add(len(got.Executions), found, faults.Offers())
	}
}

// Compare fails t unless got (a faulty run) matches want (the fault-free
// run): the same executions ending the same way with the same values, and
// each action run as often. A cancelled run may have run less, never more.
func Compare(t TB, source string, want, got Outcome) {
	t.Helper()
	for k, n := range got.Runs {
		if n > want.Runs[k] {
			t.Fatalf("doubled: action %s ran %d times, %d without faults\n%s", k, n, want.Runs[k], source)
		}
	}
	if got.Cancelled {
		return
	}
	for k, n := range want.Runs {
		if got.Runs[k] != n {
			t.Fatalf("lost: action %s ran %d times, %d without faults\n%s", k, got.Runs[k], n, source)
		}
	}
	if w, g := strings.Join(want.Executions, "\n"), strings.Join(got.Executions, "\n"); w != g {
		t.Fatalf("lost: the faulty run ended differently\nwithout faults:\n%s\nwith faults:\n%s\nworkflow:\n%s", w, g, source)
	}
}

// Describe is a case's outcome in one line, for failure messages.
func (o Outcome) Describe() string {
	return fmt.Sprintf("%d executions, %d action keys", len(o.Executions), len(o.Runs))
}
