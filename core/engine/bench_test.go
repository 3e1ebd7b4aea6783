package engine_test

// Benchmarks of one task completion (engine.TaskComplete plus the commit into
// the kvstore memory store, plus the join / with-items check it triggers) on
// a chain, a fan-out with a join, and a with-items task, at several sizes.
// Each benchmark first advances the execution halfway (untimed), so the
// timed completions run against a large history; ns/op that stays flat as
// the size grows shows the work per completion is constant.
//
// Metrics: ns/op and allocs/op (whole step), engine-ns/op (time inside the
// engine only), state-B/task (JSON bytes stored per task or item record).

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/lazyflow/lazyflow/core/engine"
)

type benchCase struct {
	name  string
	src   string
	input func(n int) map[string]any
	sizes []int
}

func BenchmarkTaskComplete(b *testing.B) {
	// Chains and fan-outs of 10,000 tasks take minutes to parse; 100 vs
	// 1,000 shows the trend.
	cases := []benchCase{
		{"chain", "", nil, []int{100, 1000}},
		{"fanout-join", "", nil, []int{100, 1000}},
		{"with-items", itemsSrc, itemsInput, []int{100, 1000, 10000}},
		// The list is built by the expression (bench/shapes/items_*.yaml),
		// not read from the input, so evaluating it costs as much as the list.
		{"with-items-range", rangeSrc, rangeInput, []int{1000, 10000}},
	}
	for _, bc := range cases {
		for _, n := range bc.sizes {
			b.Run(fmt.Sprintf("%s/%d", bc.name, n), func(b *testing.B) {
				benchComplete(b, bc, n)
			})
		}
	}
}

// prepared is an execution advanced to its middle, with the actions whose
// results are still to come.
type prepared struct {
	d       *driver
	pending []engine.Command
}

func prepare(b *testing.B, bc benchCase, n int) *prepared {
	ctx := context.Background()
	src := bc.src
	switch bc.name {
	case "chain":
		src = chainSrc(n)
	case "fanout-join":
		src = fanSrc(n)
	}
	d := newDriver(b, src)
	var input map[string]any
	if bc.input != nil {
		input = bc.input(n)
	}
	runs, err := d.start(ctx, "ex-bench", "wf", input)
	if err != nil {
		b.Fatal(err)
	}
	p := &prepared{d: d, pending: runs}
	for i := 0; i < n/2; i++ {
		if err := p.next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// next completes the oldest pending action.
func (p *prepared) next(ctx context.Context) error {
	if len(p.pending) == 0 {
		return fmt.Errorf("no pending action")
	}
	c := p.pending[0]
	p.pending = p.pending[1:]
	more, err := p.d.complete(ctx, c, c.Input.Value("output"))
	if err != nil {
		return err
	}
	p.pending = append(p.pending, more...)
	return nil
}

func benchComplete(b *testing.B, bc benchCase, n int) {
	ctx := context.Background()
	p := prepare(b, bc, n)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	p.d.engineTime, p.d.readTime = 0, 0
	var engineTotal, readTotal int64
	var cpu time.Duration
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if len(p.pending) == 0 || i > 0 && i%(n/2-1) == 0 {
			// Out of history to complete: start over, untimed.
			b.StopTimer()
			cpu += processCPU() - cpu0
			engineTotal += int64(p.d.engineTime)
			readTotal += int64(p.d.readTime)
			p = prepare(b, bc, n)
			p.d.engineTime, p.d.readTime = 0, 0
			runtime.GC() // the preparation's garbage is not the completions'
			cpu0 = processCPU()
			b.StartTimer()
		}
		if err := p.next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu += processCPU() - cpu0
	engineTotal += int64(p.d.engineTime)
	readTotal += int64(p.d.readTime)
	// CPU time of the process (the garbage collector's included) per
	// completion: on a shared machine, waiting for a core inflates ns/op
	// but not this.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(engineTotal)/float64(b.N), "engine-ns/op")
	// The engine's own work, without the reads it asks of the store
	// (decoding records is the store's cost, and differs per driver).
	b.ReportMetric(float64(engineTotal-readTotal)/float64(b.N), "engine-cpu-ns/op")
	b.ReportMetric(stateBytesPerTask(b, p), "state-B/task")
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func stateBytesPerTask(b *testing.B, p *prepared) float64 {
	ctx := context.Background()
	tasks, err := p.d.st.Tasks(ctx, "ex-bench")
	if err != nil {
		b.Fatal(err)
	}
	var bytes, records int
	for _, t := range tasks {
		raw, _ := json.Marshal(t)
		bytes += len(raw)
		records++
		if t.Items > 0 {
			slots, err := p.d.st.Slots(ctx, "ex-bench", t.Key)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range slots {
				raw, _ := json.Marshal(s)
				bytes += len(raw)
				records++
			}
		}
	}
	if records == 0 {
		return 0
	}
	return float64(bytes) / float64(records)
}
