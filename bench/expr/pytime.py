"""Time Mistral 23.0.0's own evaluator on the expressions of cases.json.

mistral.expressions.evaluate is what Mistral calls for every value of a
workflow (yaql 3.2.0 and Jinja2 3.1.6 as Mistral configures them, its caches
included). Each case is evaluated repeatedly until a sample takes at least
0.2 s; the figure is the median of 5 samples per evaluation, in ns.

Usage: pytime.py CASES_JSON   (prints {"name": ns_per_eval, ...} as JSON)
"""

import collections.abc  # noqa: F401  yaql 3.2.0 uses collections.abc without importing it
import json
import logging
import statistics
import sys
import timeit
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from mistral import config  # noqa: E402,F401  registers Mistral's yaql options
from mistral.expressions import evaluate  # noqa: E402


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    ctx = doc["context"]
    out = {}
    for c in doc["cases"]:
        expr = c["expr"]
        evaluate(expr, ctx)  # fails loudly on a case Mistral cannot evaluate
        t = timeit.Timer(lambda: evaluate(expr, ctx))
        n, _ = t.autorange()
        n = max(n, int(n * 0.2 / max(t.timeit(n), 1e-9)))
        samples = t.repeat(repeat=5, number=n)
        out[c["name"]] = statistics.median(samples) / n * 1e9
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
