"""Time OpenStack Mistral's real engine on one benchmark shape.

Mistral runs in-process with its own unit-test setup (EngineTestCase): an
in-memory SQLite database, oslo.messaging's fake transport and the local
executor. `mistral-server --server all` cannot run workflows on the fake
transport since 2025.2 (each component is forked into its own process, and
the fake driver is a per-process queue), so this is the only brokerless way
to run the engine (see bench/README.md).

The YAML is bench/shapes/<shape>.yaml, the same file Lazyflow runs. The
retry shape's action bench.flaky is registered here as a Python action that
fails on its first two calls per key, like the Go one in bench/cmd/lfbench.

With --fast-poll the fake transport's 50 ms idle poll is cut to 1 ms, so the
numbers show the engine's own cost rather than that sleep; bench/run reports
both variants.

Usage: python mistral_bench.py --shape chain_100 --reps 3 [--fast-poll]
Prints one JSON line: system, shape, tasks, walls, peak_rss_kb, ok, note.
"""

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time
import types

ARGS = None
RESULT = {}


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--fast-poll", action="store_true")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds one repetition may take before the shape is reported as not finished")
    p.add_argument("--budget", type=float, default=600.0,
                   help="stop repeating once the repetitions so far took this long (at least one runs)")
    repeat.add_args(p)
    return p.parse_args()


# Everything Mistral is imported after the threading backend is chosen:
# oslo.service picks its backend when it is first imported.
from oslo_service import backend as _backend  # noqa: E402

_backend.init_backend(_backend.BackendType.THREADING)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reps as repeat  # noqa: E402
import shapes  # noqa: E402

import unittest  # noqa: E402

from mistral_lib import actions as ml_actions  # noqa: E402
from oslo_config import cfg  # noqa: E402

from mistral.db.v2 import api as db_api  # noqa: E402
from mistral.services import workflows as wf_service  # noqa: E402
from mistral.tests.unit.engine import base as engine_base  # noqa: E402
from mistral.workflow import states  # noqa: E402

FLAKY_LOCK = threading.Lock()
FLAKY_CALLS = {}


class Flaky(ml_actions.Action):
    """Fails on the first two calls for a key, succeeds on the third."""

    def __init__(self, key):
        self.key = key

    def run(self, context):
        with FLAKY_LOCK:
            n = FLAKY_CALLS.get(self.key, 0) + 1
            FLAKY_CALLS[self.key] = n
        if n <= 2:
            return ml_actions.Result(error="bench.flaky %s: planned failure %d of 2" % (self.key, n))
        return ml_actions.Result(data=self.key)

    def test(self, context):
        return None


class Bench(engine_base.EngineTestCase):
    def setUp(self):
        super().setUp()
        self.register_action_class("bench.flaky", Flaky)
        # The default, 'mandatory', ignores validate=False below.
        self.override_config("validation_mode", "enabled", "api")

    def test_bench(self):
        name = ARGS.shape
        t = time.perf_counter()
        with open(os.path.join(HERE, "..", "shapes", name + ".yaml")) as f:
            # Upload without jsonschema validation: outside the timed region,
            # and with jsonschema 4.2x it costs ~0.2-0.9 s per spec object (README).
            wf_service.create_workflows(f.read(), validate=False)
        log("create_workflows %.2fs" % (time.perf_counter() - t))
        wf_input = shapes.workflow_input(name)
        kind, n = shapes.SHAPES[name]
        walls = []
        while repeat.more(walls, ARGS.reps, ARGS.min_time, ARGS.max_reps, ARGS.budget):
            FLAKY_CALLS.clear()
            gc.collect()  # start each repetition from a collected heap, as the Go harness does
            t0 = time.perf_counter()
            ex = self.engine.start_workflow(name, wf_input=wf_input)
            deadline = t0 + ARGS.timeout
            while True:
                with db_api.transaction():
                    state = db_api.get_workflow_execution(ex.id).state
                if states.is_completed(state):
                    break
                if time.perf_counter() > deadline:
                    raise AssertionError("timed out after %.0f s in state %s" % (ARGS.timeout, state))
                time.sleep(0.005)
            walls.append(time.perf_counter() - t0)
            t = time.perf_counter()
            with db_api.transaction():
                wf_ex = db_api.get_workflow_execution(ex.id)
                self.assertEqual(states.SUCCESS, wf_ex.state, wf_ex.state_info)
                tasks = wf_ex.task_executions
                done = [t for t in tasks if t.state == states.SUCCESS]
                want = n + 1 if kind == "fanout" else (1 if kind == "items" else n)
                self.assertEqual(want, len(done), "tasks in SUCCESS")
                if kind == "items":
                    acts = db_api.get_action_executions(task_execution_id=tasks[0].id)
                    self.assertEqual(n, len([a for a in acts if a.state == states.SUCCESS]), "items done")
            if kind == "retry":
                self.assertEqual(3 * n, sum(FLAKY_CALLS.values()), "bench.flaky calls")
            log("check %.2fs" % (time.perf_counter() - t))
            t = time.perf_counter()
            with db_api.transaction():
                db_api.delete_workflow_executions()
            log("delete %.2fs" % (time.perf_counter() - t))
        RESULT["walls"] = walls


def log(msg):
    if os.environ.get("BENCH_DEBUG"):
        print(msg, file=sys.stderr, flush=True)


def fast_poll():
    import oslo_messaging._drivers.impl_fake as fake

    fake.time = types.SimpleNamespace(time=time.time, sleep=lambda s: time.sleep(min(s, 0.001)))


def main():
    global ARGS
    ARGS = parse()
    if ARGS.fast_poll:
        fast_poll()
    # Mistral logs every step at INFO; the benchmark wants its engine, not its log.
    cfg.CONF.set_default("default_log_levels", ["mistral=WARN", "workflow_trace=WARN",
                                                "oslo_messaging=WARN", "sqlalchemy=WARN"])
    import logging

    logging.disable(logging.WARNING)
    system = "mistral-fastpoll" if ARGS.fast_poll else "mistral"
    out = {"system": system, "shape": ARGS.shape, "tasks": shapes.units(ARGS.shape),
           "walls": [], "peak_rss_kb": 0, "ok": False}
    suite = unittest.TestSuite([Bench("test_bench")])
    res = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(suite)
    out["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if res.wasSuccessful() and "walls" in RESULT:
        out["walls"], out["ok"] = RESULT["walls"], True
    else:
        errs = res.errors + res.failures
        out["note"] = (errs[0][1].strip().splitlines()[-1] if errs else "no result")[:300]
        if "timed out after" in out["note"]:
            out["timed_out"] = ARGS.timeout
    print(json.dumps(out), flush=True)
    sys.stderr.flush()
    # The engine's service threads can keep the interpreter alive for
    # minutes after the test; the measurement is done.
    os._exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    sys.exit(main())
