package main

import (
	"testing"
	"time"
)

func TestRepeatPolicy(t *testing.T) {
	pol := repeatPolicy{reps: 3, minTime: time.Second, maxReps: 25, budget: 10 * time.Second}
	same := func(n int, w float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = w
		}
		return s
	}
	for _, c := range []struct {
		name  string
		pol   repeatPolicy
		walls []float64
		want  bool
	}{
		{"none yet", pol, nil, true},
		{"fewer than reps", pol, same(2, 0.5), true},
		{"reps done, short: more", pol, same(3, 0.01), true},
		{"reps done, min time reached", pol, same(3, 0.4), false},
		{"max reps reached", pol, same(25, 0.01), false},
		{"no min time: reps only", repeatPolicy{reps: 3, maxReps: 25}, same(3, 0.01), false},
		{"over budget before reps", pol, same(1, 11), false},
		{"no budget", repeatPolicy{reps: 3, maxReps: 25}, same(2, 1e6), true},
	} {
		if got := c.pol.more(c.walls); got != c.want {
			t.Errorf("%s: more(%d walls) = %v, want %v", c.name, len(c.walls), got, c.want)
		}
	}
}

// The in-process loop's queue keeps order across reuse of its slice.
func TestFIFO(t *testing.T) {
	var q fifo[int]
	next, want := 0, 0
	for round := 0; round < 50; round++ {
		for i := 0; i < round%7+1; i++ {
			q.push(next)
			next++
		}
		for i := 0; i < round%5+1 && q.len() > 0; i++ {
			if got := q.pop(); got != want {
				t.Fatalf("round %d: pop = %d, want %d", round, got, want)
			}
			want++
		}
	}
	for q.len() > 0 {
		if got := q.pop(); got != want {
			t.Fatalf("drain: pop = %d, want %d", got, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d values, pushed %d", want, next)
	}
}
