package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/lazyflow/lazyflow/core/actions"
	"github.com/lazyflow/lazyflow/functions/aws/awsactions"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lazyflow/lazyflow/core/dsl"
	"github.com/lazyflow/lazyflow/core/embedded"
	"github.com/lazyflow/lazyflow/core/engine"
	"github.com/lazyflow/lazyflow/core/service"
	"github.com/lazyflow/lazyflow/core/store/kvstore"
	"github.com/lazyflow/lazyflow/core/value"
	"github.com/lazyflow/lazyflow/core/yaql"
)

// report is the one JSON object `lazyflow run --json` prints.
type report struct {
	ID        string       `json:"id"`
	Workflow  string       `json:"workflow"`
	State     engine.State `json:"state"`
	StateInfo string       `json:"state_info"`
	Output    any          `json:"output"`
	Tasks     []taskReport `json:"tasks"`
}

type taskReport struct {
	Name      string       `json:"name"`
	State     engine.State `json:"state"`
	StateInfo string       `json:"state_info"`
	Published *value.Map   `json:"published"`
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wfName := fs.String("workflow", "", "`NAME` of the workflow to run (default: the file's only or first workflow)")
	inputJSON := fs.String("input", "", "the input as a `JSON` object")
	inputFile := fs.String("input-file", "", "`PATH` of a file holding the input as a JSON or YAML object")
	target := fs.String("task", "", "`TARGET` task (reverse workflows)")
	asJSON := fs.Bool("json", false, "print one JSON object describing the execution")
	timeout := fs.Duration("timeout", 0, "stop waiting after this long and exit 4 (a positive `duration` such as 5m; leave it out for no limit)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if *timeout < 0 || (*timeout == 0 && flagSet(fs, "timeout")) {
		return exitUsage, usageError{fmt.Sprintf("--timeout %s: must be a positive duration (leave it out for no limit)", *timeout)}
	}
	if len(pos) != 1 {
		return exitUsage, usageError{"run needs exactly one workflow file"}
	}
	if *inputJSON != "" && *inputFile != "" {
		return exitUsage, usageError{"--input and --input-file cannot be used together"}
	}
	file := pos[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return exitUsage, err
	}
	doc, err := dsl.LoadWith(file, src, dsl.Options{Actions: actions.New()})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage, nil
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(stderr, "%s: warning: %s\n", w.Pos, w.Msg)
	}
	input, err := readInput(*inputJSON, *inputFile)
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	wf := doc.Main()
	if *wfName != "" {
		if wf, err = doc.Workflow(*wfName); err != nil {
			return exitUsage, usageError{err.Error()}
		}
	}
	if wf == nil {
		return exitUsage, usageError{file + " defines no workflow"}
	}
	if *wfName == "" && len(doc.Order) > 1 {
		fmt.Fprintf(stderr, "lazyflow: running %s, the first of the %d workflows in %s (--workflow picks another)\n", wf.Name, len(doc.Order), file)
	}
	// A signal or the timeout ends the wait, not the report: what is read
	// after it uses rctx, which neither cancels.
	rctx := context.WithoutCancel(ctx)
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, *timeout, errTimedOut)
		defer cancel()
	}

	level := slog.LevelWarn
	if os.Getenv("LAZYFLOW_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	st := kvstore.NewMemory()
	h := embedded.New(embedded.Options{Store: st, Log: log})
	h.CallbackKey = []byte(randomKey())
	h.Run(ctx)
	defer h.Close()
	if _, err := h.Register(ctx, file, src); err != nil {
		return exitUsage, err
	}
	exec, _, err := h.Start(ctx, service.StartRequest{Workflow: wf.Name, Input: input, Target: *target, DefID: engine.DefID(src)})
	if err != nil {
		if errors.Is(err, engine.ErrInvalidInput) {
			return exitUsage, refusedStart(err, wf)
		}
		return exitFailure, err
	}
	// The progress lines and the closing ones share what was printed, so
	// each task's state is printed once, live or at the end.
	done, stopped := make(chan struct{}), make(chan struct{})
	seen := map[string]engine.State{}
	if *asJSON {
		close(stopped)
	} else {
		go func() {
			defer close(stopped)
			progress(ctx, st, exec.ID, stdout, seen, done)
		}()
	}
	// A pause (a pause command, pause-before) is the end of a run: nothing
	// in this process can resume it.
	final, err := h.Wait(ctx, exec.ID, true)
	if err == nil && final.State.Terminal() {
		err = h.Settle(ctx, exec.ID)
	}
	close(done)
	<-stopped
	stoppedEarly := err != nil && ctx.Err() != nil
	if err != nil && !stoppedEarly {
		return exitFailure, fmt.Errorf("execution %s did not finish: %w", exec.ID, err)
	}
	if stoppedEarly {
		// The execution is reported as it stands: the store is this
		// process's memory, so nothing of it outlives the run.
		if final, err = st.Execution(rctx, exec.ID); err != nil || final == nil {
			return exitFailure, fmt.Errorf("execution %s: read its state after %v: %w", exec.ID, context.Cause(ctx), err)
		}
	}
	tasks, err := st.Tasks(rctx, exec.ID)
	if err != nil {
		return exitFailure, err
	}
	if err := printReport(stdout, *asJSON, final, tasks, seen); err != nil {
		return exitFailure, err
	}
	if stoppedEarly {
		fmt.Fprintf(stderr, "lazyflow: execution %s stopped waiting in state %s: %v\n", final.ID, final.State, context.Cause(ctx))
		return exitStopped, nil
	}
	if final.State == engine.Success {
		return exitOK, nil
	}
	return exitWfError, nil
}

// printReport prints the run's end: one JSON object (asJSON), or the task
// states not yet printed and the execution's state and output.
func printReport(stdout io.Writer, asJSON bool, final *engine.Execution, tasks []*engine.Task, seen map[string]engine.State) error {
	rep := report{ID: final.ID, Workflow: final.Workflow, State: final.State, StateInfo: final.StateInfo, Output: final.Output}
	for _, t := range visible(tasks) {
		pub := t.Published
		if pub == nil {
			pub = value.NewMap(0)
		}
		rep.Tasks = append(rep.Tasks, taskReport{Name: t.Name, State: t.State, StateInfo: t.StateInfo, Published: pub})
	}
	if rep.Tasks == nil {
		rep.Tasks = []taskReport{}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false) // expressions hold < and >
		return enc.Encode(rep)
	}
	printProgress(stdout, tasks, seen)
	fmt.Fprintf(stdout, "execution %s: %s", final.ID, final.State)
	if final.StateInfo != "" {
		fmt.Fprintf(stdout, " (%s)", final.StateInfo)
	}
	fmt.Fprintln(stdout)
	if final.State == engine.Paused {
		fmt.Fprintln(stdout, "the execution paused, and nothing in `lazyflow run` can resume it: run it under `lazyflow serve` and resume it through the API")
	}
	if final.Output != nil {
		fmt.Fprintf(stdout, "output: %s\n", value.JSON(final.Output, 2, false))
	}
	return nil
}

// errTimedOut is why a run stopped waiting when --timeout expired.
var errTimedOut = errors.New("--timeout expired")

// flagSet reports whether flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// visible drops join records that never fired and were never resolved:
// they are bookkeeping, not tasks that ran.
func visible(ts []*engine.Task) []*engine.Task {
	out := ts[:0:0]
	for _, t := range ts {
		if t.State == engine.Waiting && t.Seq == 0 {
			continue
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// readInput reads --input or --input-file as readDoc does; the input must
// be an object.
func readInput(inline, file string) (*value.Map, error) {
	v, err := readDoc("--input", inline, file)
	if err != nil || v == nil {
		return value.NewMap(0), err
	}
	m, ok := value.AsMap(v)
	if !ok {
		return nil, fmt.Errorf("input must be an object (a mapping), not %s", value.TypeName(v))
	}
	return m, nil
}

// readDoc reads a value given inline (JSON) or in a file (JSON or YAML, as
// Mistral's client reads a file: JSON first, then YAML with PyYAML's
// booleans); either keeps the order its keys are written in. It is nil
// when nothing, or only blanks, is given. flag is the inline option
// (--input), FLAG-file the file's, as errors name them.
func readDoc(flag, inline, file string) (any, error) {
	raw := []byte(inline)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s-file: %w", flag, err)
		}
		raw = b
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, nil
	}
	v, err := value.FromJSONExact(raw)
	if err != nil && file == "" {
		return nil, fmt.Errorf("%s is not valid JSON: %v", flag, err)
	}
	if err != nil {
		if v, err = yaql.YAMLParse(string(raw)); err != nil {
			return nil, fmt.Errorf("%s is neither JSON nor YAML: %v", file, err)
		}
	}
	return v, nil
}

// progress prints task state changes as they happen.
func progress(ctx context.Context, r engine.Reader, id string, w io.Writer, seen map[string]engine.State, done <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ts, err := r.Tasks(ctx, id)
		if err != nil {
			return
		}
		select {
		case <-done:
			return
		default:
		}
		printProgress(w, ts, seen)
	}
}

func printProgress(w io.Writer, ts []*engine.Task, seen map[string]engine.State) {
	for _, t := range visible(ts) {
		if seen[t.Key] == t.State {
			continue
		}
		seen[t.Key] = t.State
		line := fmt.Sprintf("%-9s %s", t.State, t.Key)
		if t.StateInfo != "" {
			line += ": " + t.StateInfo
		}
		fmt.Fprintln(w, line)
	}
}

func cmdValidate(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// --strict makes every warning an error: what Mistral accepts but
	// looks wrong, such as a call without a required input.
	strictFlag := fs.Bool("strict", false, "warnings are errors too")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	strict := *strictFlag
	if len(files) == 0 {
		return exitUsage, usageError{"validate needs at least one file"}
	}
	code := exitOK
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "lazyflow:", err)
			code = exitUsage
			continue
		}
		// Checking a call to an AWS action needs only its name and inputs,
		// so validate knows them on a machine without AWS.
		doc, err := dsl.LoadWith(file, src, dsl.Options{Actions: awsactions.Catalog()})
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = exitUsage
			continue
		}
		if strict && len(doc.Warnings) > 0 {
			fmt.Fprintln(stderr, doc.Warnings)
			code = exitUsage
			continue
		}
		for _, w := range doc.Warnings {
			fmt.Fprintf(stderr, "%s: warning: %s\n", w.Pos, w.Msg)
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %s)\n", file, count(len(doc.Workflows), "workflow"), count(len(doc.Actions), "action"))
	}
	return code, nil
}

// count is "1 workflow", "2 workflows".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// refusedStart is why the workflow refused to start, with the option of
// this command that gives what was missing or wrong: a newcomer's first run
// of a workflow with a required input has no --input yet.
func refusedStart(err error, wf *dsl.Workflow) error {
	msg := err.Error()
	var ie *engine.InputError
	if errors.As(err, &ie) {
		msg = ie.Msg
	}
	// The engine checks the input before the target: a reverse workflow
	// given neither is refused for its input, which --task does not give.
	switch {
	case ie != nil && ie.Target:
		return fmt.Errorf("%s: name the task to reach with --task (one of %s)", msg, strings.Join(wf.TaskOrder, ", "))
	case len(wf.Input) > 0:
		names := make([]string, len(wf.Input))
		for i, p := range wf.Input {
			names[i] = p.Name
		}
		return fmt.Errorf("%s (workflow %s takes %s, given as --input JSON or --input-file PATH)", msg, wf.Name, strings.Join(names, ", "))
	default:
		return fmt.Errorf("%s (workflow %s takes no input)", msg, wf.Name)
	}
}
