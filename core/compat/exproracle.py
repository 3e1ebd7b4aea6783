"""Evaluate the expression corpus with Mistral 23.0.0's own evaluator.

mistral.expressions.evaluate is what Mistral calls on every value of a
workflow: yaql 3.2.0 and Jinja2 3.1.6 configured by Mistral (its yaql engine
options and custom functions, its sandboxed Jinja environment with
StrictUndefined). All cases run in this one process.

Each result is written in canonical JSON: json.dumps with Python's default
separators, so 1 and 1.0 differ. "value" keeps dict insertion order, "sorted"
sorts keys (a case that agrees only sorted differs by dict order alone).
Generators, ranges and sets become lists, as Mistral stores them
(mistral_lib.utils.to_json_str); any other Python object JSON cannot hold is
tagged {"$python": type, "repr": ...}. A Jinja2 Undefined inside a value
fails as it fails Mistral's to_json_str (a workflow value cannot hold one).
An error gives "error".

Usage: exproracle.py CORPUS_JSON OUT_JSON
       exproracle.py --serve CORPUS_JSON
With --serve it answers one expression per line on stdin, each a JSON string,
with one JSON object per line on stdout (the same result as above), evaluated
against the corpus context: the differential fuzz target keeps one such
process for its whole run.
"""

import os
import sys

# yaql keeps some dicts and sets in hash order: a fixed seed makes every run
# give the same results.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import collections.abc  # noqa: E402  yaql 3.2.0 uses collections.abc without importing it
import copy  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import warnings  # noqa: E402

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from mistral import config  # noqa: E402,F401  registers Mistral's yaql options
# A Mistral server imports its engine (and with it mistral.lang) before the
# expressions package; importing mistral.expressions first instead hits a
# circular import that silently leaves Mistral's functions (json_dump, task…)
# out of the Jinja filters.
import mistral.engine.engine_server  # noqa: E402,F401
from mistral.expressions import evaluate  # noqa: E402
from yaql.language import utils as yaql_utils  # noqa: E402
import jinja2  # noqa: E402

TIMEOUT_S = 5


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("evaluation took more than %d s" % TIMEOUT_S)


def plain(v):
    if isinstance(v, jinja2.Undefined):
        # to_json_str converts the value with to_primitive, which reads the
        # Undefined and so raises StrictUndefined's UndefinedError.
        v._fail_with_undefined_error()
    if isinstance(v, bool) or v is None or isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        return str(v)  # Markup is a str
    if isinstance(v, yaql_utils.FrozenDict):
        v = v._d
    if isinstance(v, dict):
        return {key(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (set, frozenset, range, collections.abc.Iterator)):
        # Mistral stores these as lists (mistral_lib.utils.to_json_str).
        return [plain(x) for x in v]
    if isinstance(v, (datetime.datetime, datetime.timedelta, datetime.date)):
        return {"$python": type(v).__name__, "repr": str(v)}
    return {"$python": type(v).__name__, "repr": repr(v)}


def key(k):
    if isinstance(k, str):
        return k
    return "$key:" + json.dumps(plain(k))


def result(expr, context):
    """One evaluation as {"value", "sorted"} or {"error"}."""
    ctx = copy.deepcopy(context)
    signal.alarm(TIMEOUT_S)
    try:
        p = plain(evaluate(expr, ctx))
        return {
            "value": json.dumps(p, ensure_ascii=False),
            "sorted": json.dumps(p, ensure_ascii=False, sort_keys=True),
        }
    except BaseException as e:  # noqa: B902  every failure is a result
        if isinstance(e, KeyboardInterrupt):
            raise
        return {"error": "%s: %s" % (type(e).__name__, str(e)[:300])}
    finally:
        signal.alarm(0)


def serve(corpus_path):
    with open(corpus_path, encoding="utf-8") as f:
        context = json.load(f)["context"]
    for line in sys.stdin:
        out = result(json.loads(line), context)
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
        return
    corpus_path, out_path = sys.argv[1], sys.argv[2]
    with open(corpus_path, encoding="utf-8") as f:
        corpus = json.load(f)
    results = {}
    for c in corpus["cases"]:
        results[c["id"]] = result(c["expr"], corpus["context"])
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False, indent=0, sort_keys=True)
        f.write("\n")
    errors = sum(1 for r in results.values() if "error" in r)
    print("%d cases, %d errors" % (len(results), errors), file=sys.stderr)


if __name__ == "__main__":
    main()
