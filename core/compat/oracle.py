"""Run every case of the differential corpus on the real Mistral 23.0.0.

Mistral runs in-process as its own engine unit tests run it (EngineTestCase):
SQLite in memory, oslo.messaging's fake transport, the local executor. All the
cases run in this one process, one after the other, each on an emptied
database. For each case one JSON object is written, keyed by case name, in the
contract of `lazyflow run --json`:

  {"state", "state_info", "output", "tasks": [{"name", "state", "state_info", "published"}]}

plus, for a case marked "compare_order", "order": the output and every task's
published values as JSON text in their own key order (the file's keys are
sorted, which would hide it).

A definition Mistral refuses gives state "INVALID", a start it refuses
"REFUSED", and a run that does not end within --timeout "TIMEOUT"; the message
is the state_info.

Usage: oracle.py CASES_JSON OUT_JSON [--timeout S] [--only SUBSTRING] [--scheduler-delay S]
"""

import argparse
import json
import os
import sys
import time
import types
import traceback

# oslo.service picks its backend when first imported: threads, not eventlet.
from oslo_service import backend as _backend  # noqa: E402

_backend.init_backend(_backend.BackendType.THREADING)

import logging  # noqa: E402
import unittest  # noqa: E402

from oslo_config import cfg  # noqa: E402

from mistral.db.v2 import api as db_api  # noqa: E402
from mistral.services import adhoc_actions as action_service  # noqa: E402
from mistral.services import workbooks as wb_service  # noqa: E402
from mistral.services import workflows as wf_service  # noqa: E402
from mistral.tests.unit.engine import base as engine_base  # noqa: E402
from mistral.workflow import states  # noqa: E402

ARGS = None
RESULTS = {}


def fast_poll():
    """The fake transport sleeps 50 ms when idle; 1 ms changes no outcome."""
    import oslo_messaging._drivers.impl_fake as fake

    fake.time = types.SimpleNamespace(time=time.time, sleep=lambda s: time.sleep(min(s, 0.001)))


def plain(v):
    """A JSON-safe copy (Mistral keeps tuples, sets and datetimes in places)."""
    return json.loads(json.dumps(v, default=str))


def wipe():
    with db_api.transaction():
        db_api.delete_workflow_executions()
        db_api.delete_workflow_definitions()
        db_api.delete_workbooks()
        db_api.delete_action_definitions()
        db_api.delete_delayed_calls()


def load(case):
    for d in case["defs"]:
        if d["kind"] == "workbook":
            # Without jsonschema validation: it costs ~0.2-0.9 s per spec object
            # and the spec parser still refuses what the engine cannot run.
            wb_service.create_workbook_v2(d["text"], validate=False)
        elif d["kind"] == "actions":
            action_service.create_actions(d["text"])
        else:
            wf_service.create_workflows(d["text"], validate=False)


def settled(ex_id):
    with db_api.transaction():
        wf_ex = db_api.get_workflow_execution(ex_id)
        # A pause ends a run as it ends `lazyflow run`: nothing resumes it.
        if not (states.is_completed(wf_ex.state) or wf_ex.state == states.PAUSED):
            return False
        return all(states.is_completed(t.state) or t.state == states.WAITING
                   for t in wf_ex.task_executions)


def snapshot(ex_id):
    with db_api.transaction():
        wf_ex = db_api.get_workflow_execution(ex_id)
        tasks = sorted(wf_ex.task_executions, key=lambda t: (t.created_at, t.id))
        return {
            "state": wf_ex.state,
            "state_info": wf_ex.state_info or "",
            "output": plain(wf_ex.output),
            "tasks": [{"name": t.name, "state": t.state, "state_info": t.state_info or "",
                       "published": plain(t.published or {})} for t in tasks],
        }


def key_order(res):
    """The output, then each task's published values (sorted lines), as JSON
    text in the dicts' own order; core/compat's keyOrder writes the same."""
    tasks = sorted("task %s: %s" % (t["name"], json.dumps(t["published"])) for t in res["tasks"])
    return "\n".join(["output: " + json.dumps(res["output"])] + tasks)


def run_case(engine, case):
    wipe()
    try:
        load(case)
    except Exception as e:  # Mistral's refusal is the result
        return {"state": "INVALID", "state_info": str(e)[:500], "output": None, "tasks": []}
    params = dict(case.get("params") or {})
    try:
        ex = engine.start_workflow(case["workflow"], wf_input=case.get("input") or {}, **params)
    except Exception as e:
        return {"state": "REFUSED", "state_info": str(e)[:500], "output": None, "tasks": []}
    deadline = time.monotonic() + ARGS.timeout
    while time.monotonic() < deadline:
        if settled(ex.id):
            return snapshot(ex.id)
        time.sleep(0.01)
    res = snapshot(ex.id)
    res["state_info"] = "did not settle within %.0f s (state %s)" % (ARGS.timeout, res["state"])
    res["state"] = "TIMEOUT"
    return res


class Oracle(engine_base.EngineTestCase):
    def test_corpus(self):
        with open(ARGS.cases) as f:
            cases = json.load(f)["cases"]
        for case in cases:
            if "not_comparable" in case or (ARGS.only and ARGS.only not in case["name"]):
                continue
            t = time.monotonic()
            try:
                RESULTS[case["name"]] = run_case(self.engine, case)
                if case.get("compare_order"):
                    RESULTS[case["name"]]["order"] = key_order(RESULTS[case["name"]])
            except Exception:
                RESULTS[case["name"]] = {"state": "ORACLE_ERROR", "state_info": traceback.format_exc()[-500:],
                                         "output": None, "tasks": []}
            if os.environ.get("ORACLE_DEBUG"):
                print("%6.2fs %s %s" % (time.monotonic() - t, RESULTS[case["name"]]["state"], case["name"]),
                      file=sys.stderr, flush=True)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("cases")
    p.add_argument("out")
    # A bound for runs that never settle (one case), not a speed test: a case
    # took up to 12 s on a loaded 2-core machine (load 5-17), so 20 s would
    # turn load into "not comparable" and fail a baseline case.
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--only", default="")
    # The scheduler (retries, with-items' next items, a join's refresh)
    # polls every second; a shorter period changes no outcome of a workflow
    # whose result does not depend on timing (TestWorkflowDraws' ones).
    p.add_argument("--scheduler-delay", type=float, default=1.0)
    ARGS = p.parse_args()
    fast_poll()
    cfg.CONF.set_default("fixed_delay", ARGS.scheduler_delay, group="scheduler")
    cfg.CONF.set_default("default_log_levels", ["mistral=CRITICAL", "workflow_trace=CRITICAL",
                                                "oslo_messaging=CRITICAL", "sqlalchemy=CRITICAL"])
    logging.disable(logging.CRITICAL)
    res = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(unittest.TestSuite([Oracle("test_corpus")]))
    with open(ARGS.out, "w") as f:
        json.dump({"mistral": "23.0.0", "results": RESULTS}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("oracle: %d cases run" % len(RESULTS), file=sys.stderr, flush=True)
    sys.stderr.flush()
    # action_heartbeat_checker's non-daemon thread sleeps 300 s before it
    # looks at its stop flag: end the process here.
    os._exit(0 if res.wasSuccessful() else 1)


if __name__ == "__main__":
    sys.exit(main())
