// Command lfbench times Lazyflow on one benchmark shape in one of three
// modes and prints one JSON line (bench/run collects them):
//
//	engine  the service host over the in-memory store, driven by a plain
//	        in-process loop instead of queues and worker pools, messages
//	        JSON-encoded as a queue carries them: what the lazy engine, its
//	        conditional commits, the runner's claims and the messages'
//	        encoding cost, and nothing else.
//	bolt    the embedded host (runners, engine workers, in-memory queues) over
//	        the durable bbolt store in a temporary file, as `lazyflow serve` runs.
//	cli     `lazyflow run FILE --json` as a child process (embedded host over
//	        the memory store), timed from spawn to exit.
//	service the deployed stack on the emulator (localstack/deploy.sh): the
//	        shape registered and started over the signed HTTP API, timed from
//	        the start request to the first poll that sees the execution end
//	        (polls every 100 ms). Emulator figures are not AWS figures: each
//	        Lambda invocation is a local process, and the emulator's queues
//	        poll on their own schedule.
//
// Each shape runs in a fresh process, so the peak RSS reported (VmHWM of this
// process, or the child's maxrss in cli mode) belongs to that shape alone.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/gctune"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store"
	"github.com/lazyflow/lazyflow/core/store/boltstore"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
)

// result is the line printed for bench/run; the Python peers print the same.
type result struct {
	System    string    `json:"system"`
	Shape     string    `json:"shape"`
	Tasks     int       `json:"tasks"`
	Walls     []float64 `json:"walls"` // seconds, one per repetition
	PeakRSSKB int64     `json:"peak_rss_kb"`
	OK        bool      `json:"ok"`
	Note      string    `json:"note,omitempty"`
	// TimedOut is the limit, in seconds, a repetition did not finish within
	// (the report prints "did not finish in N s", as for the peers).
	TimedOut float64 `json:"timed_out,omitempty"`
	// Store is what the last repetition asked of its store (engine mode):
	// the numbers the AWS paper model in bench/README.md is built from.
	Store *counts `json:"store,omitempty"`
	// AllocBytes is what the last repetition allocated on the heap (engine
	// mode): unlike wall time on a shared machine, it does not vary from run
	// to run, so it shows what a change to the engine saves.
	AllocBytes uint64 `json:"alloc_bytes,omitempty"`
}

// counts tallies store calls the way a DynamoDB driver would issue them.
type counts struct {
	Gets      int64 `json:"gets"`        // Execution, Task, Slot: one GetItem each
	Queries   int64 `json:"queries"`     // Tasks, Slots, Leaves: one Query (or more pages) each
	Commits   int64 `json:"commits"`     // Commit calls
	Singles   int64 `json:"singles"`     // commits of one plain op: one PutItem/UpdateItem
	Transacts int64 `json:"transacts"`   // commits of several ops or a counter: TransactWriteItems
	Ops       int64 `json:"ops"`         // items written in all commits
	Claims    int64 `json:"claims"`      // ClaimAttempt: one conditional UpdateItem
	TaskMsgs  int64 `json:"task_msgs"`   // messages to runners (SQS SendMessage)
	Results   int64 `json:"result_msgs"` // results and timers to the engine (SQS SendMessage)
}

// countingStore wraps a store and counts what is asked of it.
type countingStore struct {
	store.Store
	c *counts
}

func (s countingStore) Execution(ctx context.Context, id string) (*engine.Execution, error) {
	s.c.Gets++
	return s.Store.Execution(ctx, id)
}

// ExecutionStatus counts as a get: on DynamoDB it would be one.
func (s countingStore) ExecutionStatus(ctx context.Context, id string) (store.Status, bool, error) {
	s.c.Gets++
	return store.ReadStatus(ctx, s.Store, id)
}

func (s countingStore) Task(ctx context.Context, exec, key string) (*engine.Task, error) {
	s.c.Gets++
	return s.Store.Task(ctx, exec, key)
}

func (s countingStore) Slot(ctx context.Context, exec, task string, i int) (*engine.Slot, error) {
	s.c.Gets++
	return s.Store.Slot(ctx, exec, task, i)
}

func (s countingStore) Slots(ctx context.Context, exec, task string) ([]*engine.Slot, error) {
	s.c.Queries++
	return s.Store.Slots(ctx, exec, task)
}

func (s countingStore) Tasks(ctx context.Context, exec string) ([]*engine.Task, error) {
	s.c.Queries++
	return s.Store.Tasks(ctx, exec)
}

func (s countingStore) TasksAfter(ctx context.Context, exec, after string, limit int) ([]*engine.Task, error) {
	s.c.Queries++
	return s.Store.TasksAfter(ctx, exec, after, limit)
}

func (s countingStore) Arrivals(ctx context.Context, exec, key string) (map[string]*value.Map, error) {
	s.c.Queries++
	return s.Store.Arrivals(ctx, exec, key)
}

func (s countingStore) Leaves(ctx context.Context, exec string) ([]*engine.Leaf, error) {
	s.c.Queries++
	return s.Store.Leaves(ctx, exec)
}

func (s countingStore) Commit(ctx context.Context, ops []engine.Op) error {
	s.c.Commits++
	s.c.Ops += int64(len(ops))
	if _, counter := ops[0].(engine.AddExecution); len(ops) == 1 && !counter {
		s.c.Singles++
	} else {
		s.c.Transacts++
	}
	return s.Store.Commit(ctx, ops)
}

func (s countingStore) ClaimAttempt(ctx context.Context, p store.ClaimParams) error {
	s.c.Claims++
	return s.Store.ClaimAttempt(ctx, p)
}

func main() {
	mode := flag.String("mode", "engine", "engine, bolt, cli or service")
	outputs := flag.String("outputs", ".cache/localstack/outputs.json", "stack outputs written by localstack/deploy.sh (service mode)")
	file := flag.String("shape", "", "workflow YAML file")
	tasks := flag.Int("tasks", 0, "units of work in the shape (tasks, or items), for the per-task figure")
	input := flag.String("input", "{}", "workflow input as JSON")
	reps := flag.Int("reps", 3, "repetitions")
	bin := flag.String("lazyflow", "build/lazyflow", "lazyflow binary (cli mode)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up on one repetition after this long")
	budget := flag.Duration("budget", 0, "no further repetitions once the repetitions so far took this long (0: all of -reps)")
	minTime := flag.Duration("min-time", 0, "after -reps, go on repeating while the repetitions took less than this in all")
	maxReps := flag.Int("max-reps", 25, "no more repetitions than this because of -min-time")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the repetitions to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	// The engine and bolt modes host the engine in this process: collect
	// garbage as Lazyflow's own binaries do (cmd/lazyflow, the functions).
	gctune.Apply(nil, "")
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lfbench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "lfbench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}

	name := strings.TrimSuffix(filepath.Base(*file), filepath.Ext(*file))
	res := result{System: "lazyflow-" + *mode, Shape: name, Tasks: *tasks}
	pol := repeatPolicy{reps: *reps, minTime: *minTime, maxReps: *maxReps, budget: *budget}
	var err error
	if *mode == "service" {
		err = runService(*outputs, *file, *input, pol, *timeout, &res)
	} else {
		err = run(*mode, *file, *input, *bin, pol, *timeout, &res)
	}
	if err != nil {
		res.OK, res.Note = false, err.Error()
	} else {
		res.OK = true
	}
	if *mode != "cli" && *mode != "service" {
		res.PeakRSSKB = vmHWM()
	}
	if *memprofile != "" {
		if f, err := os.Create(*memprofile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lfbench:", err)
		pprof.StopCPUProfile() // os.Exit skips the deferred stop
		os.Exit(1)
	}
}

func run(mode, file, inputJSON, bin string, pol repeatPolicy, timeout time.Duration, res *result) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(inputJSON), &input); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	doc, err := dsl.Load(file, src)
	if err != nil {
		return err
	}
	wf := doc.Main().Name
	for i := 0; pol.more(res.Walls); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var wall time.Duration
		switch mode {
		case "engine":
			// Counted from after registration, so the figures are the execution's own.
			res.Store = &counts{}
			wall, res.AllocBytes, err = runEngine(ctx, file, src, wf, input, res.Store)
		case "bolt":
			wall, err = runBolt(ctx, file, src, wf, input)
		case "cli":
			var rss int64
			wall, rss, err = runCLI(ctx, bin, file, inputJSON)
			res.PeakRSSKB = max(res.PeakRSSKB, rss)
		default:
			err = fmt.Errorf("unknown mode %q", mode)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("repetition %d: %w", i+1, err)
		}
		res.Walls = append(res.Walls, wall.Seconds())
	}
	return nil
}

// repeatPolicy says how many repetitions of a shape run; bench/peers/reps.py
// is the same rule for the peers, so every system gets the same treatment.
type repeatPolicy struct {
	reps    int
	minTime time.Duration // after reps, more while all of them took less than this
	maxReps int           // no more than this because of minTime
	budget  time.Duration // none once the repetitions took longer (0: no budget)
}

// more reports whether to run another repetition after those timed in walls.
// A shape that runs for milliseconds gets enough samples under minTime that
// one slow repetition (the first, on cold caches) cannot move the median.
func (p repeatPolicy) more(walls []float64) bool {
	total := 0.0
	for _, w := range walls {
		total += w
	}
	switch {
	case len(walls) > 0 && p.budget > 0 && total > p.budget.Seconds():
		return false
	case len(walls) < p.reps:
		return true
	default:
		return total < p.minTime.Seconds() && len(walls) < p.maxReps
	}
}

// flaky is the retry shape's action: it fails on the first two attempts for
// a key and succeeds on the third. Mistral's harness registers the same
// action in Python, so both engines run one YAML with `retry: count: 2`.
type flaky struct {
	mu    sync.Mutex
	calls map[string]int
	total int
}

func (f *flaky) run(_ context.Context, in map[string]any) (any, error) {
	key, _ := in["key"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[key]++
	f.total++
	if n := f.calls[key]; n <= 2 {
		return nil, fmt.Errorf("bench.flaky %s: planned failure %d of 2", key, n)
	}
	return key, nil
}

func registry() (*actions.Registry, *flaky) {
	reg := actions.New()
	f := &flaky{calls: map[string]int{}}
	reg.Register("bench.flaky", f.run)
	return reg, f
}

var quiet = slog.New(slog.DiscardHandler)

// loop is the engine mode's transport: two in-process FIFOs instead of
// queues, holding the encoded messages the service sends through its
// Sender interface, so nothing but the service's own work (and the
// encoding every queue needs) is timed. Delayed messages (timers) wait in a
// list until due.
type loop struct {
	tasks   fifo[[]byte]
	results fifo[[]byte]
	delayed []delayed
}

// fifo is a queue that reuses its slice: taking from the front moves an
// index, and the taken half is reclaimed when the slice would grow.
type fifo[T any] struct {
	buf  []T
	head int
}

func (q *fifo[T]) len() int { return len(q.buf) - q.head }

func (q *fifo[T]) push(v T) {
	if len(q.buf) == cap(q.buf) && q.head > 0 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, v)
}

func (q *fifo[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head++
	return v
}

type delayed struct {
	due  time.Time
	body []byte
}

type sender struct {
	l    *loop
	task bool
	c    *counts
}

func (s sender) Send(_ context.Context, body []byte, d time.Duration) error {
	switch {
	case s.task:
		s.c.TaskMsgs++
		s.l.tasks.push(body)
	case d > 0:
		s.c.Results++
		s.l.delayed = append(s.l.delayed, delayed{time.Now().Add(d), body})
	default:
		s.c.Results++
		s.l.results.push(body)
	}
	return nil
}

func runEngine(ctx context.Context, file string, src []byte, wf string, input map[string]any, c *counts) (time.Duration, uint64, error) {
	mem := kvstore.NewMemory()
	st := countingStore{mem, c}
	reg, fl := registry()
	svc := service.New(st, reg, quiet)
	l := &loop{}
	svc.Tasks, svc.Results = sender{l, true, c}, sender{l, false, c}
	var final *engine.Execution
	svc.OnFinished = func(e *engine.Execution) { final = e }
	if _, err := svc.Register(ctx, file, src); err != nil {
		return 0, 0, err
	}
	*c = counts{}
	runtime.GC() // start each repetition from a collected heap (the peers' harnesses do the same)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc0 := ms.TotalAlloc
	t0 := time.Now()
	ex, _, err := svc.Start(ctx, service.StartRequest{Workflow: wf, Input: value.MapOf(input), DefID: engine.DefID(src)})
	if err != nil {
		return 0, 0, err
	}
	for final == nil {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		switch {
		case l.results.len() > 0:
			if err := svc.HandleMessage(ctx, l.results.pop()); err != nil {
				return 0, 0, fmt.Errorf("handle result: %w", err)
			}
		case l.tasks.len() > 0:
			if err := svc.RunTask(ctx, l.tasks.pop()); err != nil {
				return 0, 0, fmt.Errorf("run task: %w", err)
			}
		case len(l.delayed) > 0:
			next := 0
			for i, d := range l.delayed {
				if d.due.Before(l.delayed[next].due) {
					next = i
				}
			}
			time.Sleep(time.Until(l.delayed[next].due))
			l.results.push(l.delayed[next].body)
			l.delayed = append(l.delayed[:next], l.delayed[next+1:]...)
		default:
			return 0, 0, fmt.Errorf("execution %s: nothing left to do but not finished", ex.ID)
		}
	}
	wall := time.Since(t0)
	runtime.ReadMemStats(&ms)
	return wall, ms.TotalAlloc - alloc0, check(ctx, st, final, fl)
}

func runBolt(ctx context.Context, file string, src []byte, wf string, input map[string]any) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "lfbench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	st, err := boltstore.Open(filepath.Join(dir, "lazyflow.db"))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	reg, fl := registry()
	h := embedded.New(embedded.Options{Store: st, Actions: reg, Log: quiet})
	h.Run(ctx)
	defer h.Close()
	if _, err := h.Register(ctx, file, src); err != nil {
		return 0, err
	}
	runtime.GC()
	t0 := time.Now()
	ex, _, err := h.Start(ctx, service.StartRequest{Workflow: wf, Input: value.MapOf(input), DefID: engine.DefID(src)})
	if err != nil {
		return 0, err
	}
	final, err := h.Wait(ctx, ex.ID, false)
	if err != nil {
		return 0, err
	}
	wall := time.Since(t0)
	return wall, check(ctx, st, final, fl)
}

// check fails a repetition that did not do all its work: a benchmark of a
// workflow that errored out early would look fast.
func check(ctx context.Context, st store.Store, final *engine.Execution, fl *flaky) error {
	if final.State != engine.Success {
		return fmt.Errorf("execution ended %s: %s", final.State, final.StateInfo)
	}
	ts, err := st.Tasks(ctx, final.ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.State != engine.Success {
			return fmt.Errorf("task %s ended %s", t.Key, t.State)
		}
		if t.Items > 0 && t.Done != int64(t.Items) {
			return fmt.Errorf("task %s: %d of %d items done", t.Key, t.Done, t.Items)
		}
	}
	for k, n := range fl.calls {
		if n != 3 {
			return fmt.Errorf("bench.flaky %s ran %d times, want 3", k, n)
		}
	}
	return nil
}

type cliReport struct {
	State string            `json:"state"`
	Tasks []json.RawMessage `json:"tasks"`
}

func runCLI(ctx context.Context, bin, file, input string) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, bin, "run", file, "--json", "--input", input)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss // KiB on Linux
		}
	}
	if err != nil {
		return 0, rss, fmt.Errorf("%s run: %w: %s", bin, err, strings.TrimSpace(errb.String()))
	}
	var rep cliReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return 0, rss, fmt.Errorf("decode report: %w", err)
	}
	if rep.State != string(engine.Success) {
		return 0, rss, fmt.Errorf("execution ended %s", rep.State)
	}
	return wall, rss, nil
}

// vmHWM reads this process's peak resident set size in KiB.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
