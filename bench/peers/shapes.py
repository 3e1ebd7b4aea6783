"""The benchmark shapes, defined once.

Each shape is written as Mistral v2 YAML (bench/shapes/<name>.yaml, run by
both Lazyflow and Mistral) and built as the equivalent TaskFlow flow by
peers/taskflow_bench.py from the same parameters. Run this file to rewrite
the YAML files: python3 bench/peers/shapes.py
"""

import os

# name -> (kind, size, units of work counted for the per-task figure)
SHAPES = {
    "chain_100": ("chain", 100),
    "chain_1000": ("chain", 1000),
    "fanout_100": ("fanout", 100),
    "fanout_1000": ("fanout", 1000),
    "items_1000": ("items", 1000),
    "items_10000": ("items", 10000),
    "retry_100": ("retry", 100),
}

# What `bench/run --smoke` runs (it must stay under about two minutes):
# Lazyflow on these, the peers on SMOKE_PEERS only (Mistral's retry shape
# alone takes minutes: each retry waits for its scheduler's 1 s poll).
SMOKE = ["chain_100", "fanout_100", "retry_100"]
SMOKE_PEERS = ["chain_100", "fanout_100"]

ITEMS_CONCURRENCY = 100
RETRY_COUNT = 2  # Mistral's count: extra attempts after the first (3 in all)


def units(name):
    """Units of work: task executions, or items for with-items."""
    kind, n = SHAPES[name]
    return n + 1 if kind == "fanout" else n  # fan-out: n branches and the join


def workflow_input(name):
    kind, n = SHAPES[name]
    return {"n": n} if kind == "items" else {}


def yaml_text(name):
    kind, n = SHAPES[name]
    out = ["---", "version: '2.0'", "", name + ":"]
    if kind == "chain":
        out.append("  tasks:")
        for i in range(n):
            out.append("    t%d:" % i)
            out.append("      action: std.noop")
            if i + 1 < n:
                out.append("      on-success: [t%d]" % (i + 1))
    elif kind == "fanout":
        out.append("  tasks:")
        for i in range(n):
            out.append("    b%d:" % i)
            out.append("      action: std.noop")
            out.append("      on-success: [join]")
        out.append("    join:")
        out.append("      join: all")
        out.append("      action: std.noop")
    elif kind == "items":
        out.append("  input:")
        out.append("    - n")
        out.append("  tasks:")
        out.append("    items:")
        out.append("      with-items: i in <% range(0, $.n) %>")
        out.append("      concurrency: %d" % ITEMS_CONCURRENCY)
        out.append("      action: std.noop")
    elif kind == "retry":
        # bench.flaky fails on the first two calls for a key and succeeds on
        # the third; each engine's harness registers it (Go and Python).
        out.append("  tasks:")
        for i in range(n):
            out.append("    t%d:" % i)
            out.append("      action: bench.flaky")
            out.append("      input:")
            out.append("        key: \"t%d-<%% execution().id %%>\"" % i)
            out.append("      retry:")
            out.append("        count: %d" % RETRY_COUNT)
            out.append("        delay: 0")
            if i + 1 < n:
                out.append("      on-success: [t%d]" % (i + 1))
    return "\n".join(out) + "\n"


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shapes")
    os.makedirs(here, exist_ok=True)
    for name in SHAPES:
        with open(os.path.join(here, name + ".yaml"), "w") as f:
            f.write(yaml_text(name))


if __name__ == "__main__":
    main()
