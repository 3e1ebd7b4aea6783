package dsl

import (
	"runtime"
	"sync"
)

// parallelTasksMin is the smallest number of tasks read on several cores:
// below it the goroutines cost more than they save. Tests change it to
// compare the parallel and the sequential reading.
var parallelTasksMin = 64

// tasks reads the tasks of a workflow, in the order of ps; out[i] is nil
// where ps[i] is not a valid task. A large workflow's tasks are read on
// several cores, each run of tasks by its own loader. The result, errors
// included, is exactly the sequential one: errors are merged in source
// order, and if the runs together spend more of the alias expansion budget
// than is left (so that where it runs out depends on the order) or one of
// them panics, the tasks are read again sequentially.
func (l *loader) tasks(wf *Workflow, ps []pair, defaults *taskDefaults) []*Task {
	out := make([]*Task, len(ps))
	workers := min(runtime.GOMAXPROCS(0), 8, len(ps)/max(parallelTasksMin/2, 1))
	if len(ps) < parallelTasksMin || workers < 2 {
		for i, p := range ps {
			out[i] = l.task(wf, p.k, p.v, defaults)
		}
		return out
	}
	runs := make([]*loader, workers)
	panicked := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range runs {
		sub := &loader{file: l.file}
		runs[w] = sub
		lo, hi := w*len(ps)/workers, (w+1)*len(ps)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					panicked[w] = true
				}
			}()
			for i := lo; i < hi; i++ {
				out[i] = sub.task(wf, ps[i].k, ps[i].v, defaults)
			}
		}()
	}
	wg.Wait()
	spent := l.expanded
	ok := true
	for w, sub := range runs {
		spent += sub.expanded
		ok = ok && !panicked[w]
	}
	if !ok || spent > maxAliasExpansion {
		for i, p := range ps {
			out[i] = l.task(wf, p.k, p.v, defaults)
		}
		return out
	}
	l.expanded = spent
	for _, sub := range runs {
		l.errs = append(l.errs, sub.errs...)
	}
	return out
}
