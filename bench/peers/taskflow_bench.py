"""Time OpenStack TaskFlow on the benchmark shapes, built as TaskFlow flows.

TaskFlow has no YAML: each shape of bench/peers/shapes.py is built as the
equivalent flow of tasks that do nothing, so the engine's own cost is what
is measured. TaskFlow keeps its state in memory by default (no database),
so it is a lower bound for an engine-only cost.

  chain   a linear flow of N no-op tasks
  fanout  an unordered flow of N tasks, then one task that requires all their
          results (TaskFlow's map-reduce pattern)
  items   TaskFlow has no with-items: N tasks, each given its item by
          injection, in an unordered flow, then the reducer. The parallel
          engine's thread pool has 100 workers (the concurrency of the YAML).
  retry   a linear flow of N subflows, each a Times(3) retry controller
          around one task that fails on its first two attempts.

Engines: "serial" (TaskFlow's default, lowest overhead) and "parallel" (a
thread pool of 16 workers, Lazyflow's default runner count, or 100 for
items). Compile/prepare/validate happen before the clock starts; run() is
timed, as tools/speed_test.py in TaskFlow's repository does.

Usage: python taskflow_bench.py --shape chain_100 --engine serial --reps 3
"""

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time

import futurist
from taskflow import engines, retry, task
from taskflow.patterns import linear_flow as lf
from taskflow.patterns import unordered_flow as uf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reps as repeat  # noqa: E402
import shapes  # noqa: E402


class Noop(task.Task):
    def execute(self):
        return None


class Item(task.Task):
    def execute(self, item):
        return None


class Join(task.Task):
    def execute(self, **results):
        return len(results)


FLAKY = {}
FLAKY_LOCK = threading.Lock()


class Flaky(task.Task):
    def execute(self):
        with FLAKY_LOCK:
            n = FLAKY.get(self.name, 0) + 1
            FLAKY[self.name] = n
        if n <= 2:
            raise RuntimeError("%s: planned failure %d of 2" % (self.name, n))
        return self.name


def build(name):
    kind, n = shapes.SHAPES[name]
    if kind == "chain":
        return lf.Flow(name).add(*[Noop("t%d" % i) for i in range(n)])
    if kind == "fanout":
        branches = uf.Flow("branches").add(*[Noop("b%d" % i, provides="r%d" % i) for i in range(n)])
        return lf.Flow(name).add(branches, Join("join", provides="count", requires=["r%d" % i for i in range(n)]))
    if kind == "items":
        items = uf.Flow("items").add(*[Item("i%d" % i, inject={"item": i}, provides="r%d" % i) for i in range(n)])
        return lf.Flow(name).add(items, Join("join", provides="count", requires=["r%d" % i for i in range(n)]))
    if kind == "retry":
        return lf.Flow(name).add(*[
            lf.Flow("s%d" % i, retry=retry.Times(attempts=shapes.RETRY_COUNT + 1, name="r%d" % i)).add(Flaky("t%d" % i))
            for i in range(n)])
    raise ValueError(name)


def watchdog(out, timeout, what):
    """TaskFlow's run() cannot be interrupted: after timeout, report the
    shape as not finished (with the repetitions that did) and exit."""
    def fire():
        out.update(ok=False, timed_out=timeout, phase="setup" if "setup" in what else "run", note="%s did not finish in %.0f s" % (what, timeout),
                   peak_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        print(json.dumps(out), flush=True)
        os._exit(2)
    t = threading.Timer(timeout, fire)
    t.daemon = True
    t.start()
    return t


def check(eng, kind, n):
    """A run that skipped work would look fast: check what it did."""
    if eng.storage.get_flow_state() != "SUCCESS":
        raise AssertionError("flow ended %s" % eng.storage.get_flow_state())
    if kind in ("fanout", "items") and eng.storage.fetch("count") != n:
        raise AssertionError("join saw %s results, want %d" % (eng.storage.fetch("count"), n))
    if kind in ("chain", "retry"):
        last = eng.storage.get_atom_state("t%d" % (n - 1))
        if last != "SUCCESS":
            raise AssertionError("last task ended %s" % last)
    if kind == "retry" and sum(FLAKY.values()) != 3 * n:
        raise AssertionError("flaky calls %d, want %d" % (sum(FLAKY.values()), 3 * n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--engine", choices=["serial", "parallel"], default="serial")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds one repetition (or its compile/prepare) may take before the shape is reported as not finished")
    p.add_argument("--budget", type=float, default=600.0,
                   help="stop repeating once the repetitions so far took this long (at least one runs)")
    repeat.add_args(p)
    a = p.parse_args()
    kind, n = shapes.SHAPES[a.shape]
    out = {"system": "taskflow-" + a.engine, "shape": a.shape, "tasks": shapes.units(a.shape),
           "walls": [], "peak_rss_kb": 0, "ok": False}
    pool = None
    try:
        if a.engine == "parallel":
            pool = futurist.ThreadPoolExecutor(max_workers=100 if kind == "items" else 16)
        while repeat.more(out["walls"], a.reps, a.min_time, a.max_reps, a.budget):
            FLAKY.clear()
            guard = watchdog(out, a.timeout, "building and compiling the flow (untimed setup) of repetition %d" % (len(out["walls"]) + 1))
            flow = build(a.shape)
            if pool is not None:
                eng = engines.load(flow, engine="parallel", executor=pool)
            else:
                eng = engines.load(flow)
            eng.compile()
            eng.prepare()
            eng.validate()
            guard.cancel()
            guard = watchdog(out, a.timeout, "repetition %d" % (len(out["walls"]) + 1))
            gc.collect()  # start each repetition from a collected heap, as the Go harness does
            t0 = time.perf_counter()
            eng.run()
            out["walls"].append(time.perf_counter() - t0)
            guard.cancel()
            check(eng, kind, n)
        out["ok"] = True
    except Exception as e:  # reported, not raised: bench/run prints the note
        out["note"] = ("%s: %s" % (type(e).__name__, e))[:300]
    finally:
        if pool is not None:
            pool.shutdown()
    out["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
