"""Extract the differential corpus from Mistral's own engine unit tests.

Reads mistral/tests/unit/engine/test_*.py of the installed Mistral (run with
the venv core/compat/install.sh makes) with the ast module, never importing them:
for each test method, the YAML strings it loads (wf_service.create_workflows,
wb_service.create_workbook_v2, action_service.create_actions, also in setUp)
and every self.engine.start_workflow call with its workflow name, input and
params (env, task_name). Strings and inputs are resolved through the method's
locals, the class attributes and the module constants, when they are literals
(a %-format or .format of literals included).

A case a test drives with test-only actions, mocks or patches is kept but
marked not comparable, with the reason: the oracle does not reproduce what the
test installed. Mistral's tests/resources workbooks join as cases of their own.

Usage: extract.py MISTRAL_PACKAGE_DIR OUT_JSON
       extract.py --reclassify CASES_JSON   (re-mark the not comparable cases)
"""

import ast
import glob
import hashlib
import json
import os
import re
import sys

CREATE = {
    "create_workflows": "workflows",
    "create_workbook_v2": "workbook",
    "create_actions": "actions",
}
# Calls that make a test's outcome depend on what the test does, not only on
# the definitions and the input.
DRIVERS = {
    "on_action_complete", "on_action_update", "rerun_workflow", "pause_workflow",
    "resume_workflow", "stop_workflow", "start_task", "process_action_heartbeats",
}


class Unresolved(Exception):
    pass


def literal(node, scopes):
    """Evaluates node when it is a literal or a name bound to one."""
    if isinstance(node, ast.Name):
        for s in scopes:
            if node.id in s:
                return s[node.id]
        raise Unresolved("name %s is not a literal" % node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        for s in scopes:
            if node.attr in s:
                return s[node.attr]
        raise Unresolved("self.%s is not a literal" % node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return literal(node.left, scopes) % literal(node.right, scopes)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return literal(node.left, scopes) + literal(node.right, scopes)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and not node.keywords):
        return literal(node.func.value, scopes).format(*[literal(a, scopes) for a in node.args])
    if isinstance(node, ast.Dict):
        return {literal(k, scopes): literal(v, scopes) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        vals = [literal(e, scopes) for e in node.elts]
        return vals if isinstance(node, ast.List) else tuple(vals)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError) as e:
        raise Unresolved("not a literal: %s" % ast.dump(node)[:80]) from e


def assigns(body, scopes):
    """Literal assignments of a body (in order; later ones win)."""
    out = {}
    for st in body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t = st.targets[0]
            name = t.id if isinstance(t, ast.Name) else (
                t.attr if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                and t.value.id == "self" else None)
            if name is None:
                continue
            try:
                out[name] = literal(st.value, [out] + scopes)
            except (Unresolved, TypeError, ValueError, KeyError, IndexError):
                pass
    return out


def call_name(call):
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def decorated_patch(fn):
    for d in fn.decorator_list:
        src = ast.unparse(d)
        if "patch" in src:
            return src[:120]
    return None


def scan(fn, scopes):
    """The definitions, starts and reasons found in one function."""
    defs, starts, reasons = [], [], []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        src = ast.unparse(node.func)
        if name in CREATE and node.args:
            try:
                text = literal(node.args[0], scopes)
                if isinstance(text, str):
                    defs.append({"kind": CREATE[name], "text": text})
            except (Unresolved, TypeError, ValueError, KeyError, IndexError) as e:
                reasons.append("a definition is not a literal (%s)" % e)
        elif name == "start_workflow" and "engine" in src:
            starts.append(node)
        elif name in DRIVERS and "engine" in src:
            reasons.append("the test drives the execution (engine.%s)" % name)
        elif name == "register_action_class":
            reasons.append("the test registers a test-only action class")
        elif "patch" in src and "mock" in src:
            reasons.append("the test patches %s" % ast.unparse(node)[:100])
    return defs, starts, reasons


def start_case(call, scopes):
    args = list(call.args)
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    wf = literal(args[0], scopes) if args else literal(kw.pop("wf_identifier"), scopes)
    inp = {}
    if len(args) >= 4:
        inp = literal(args[3], scopes)
    elif "wf_input" in kw:
        inp = literal(kw["wf_input"], scopes)
    elif len(args) >= 3 and not isinstance(args[2], ast.Constant):
        inp = literal(args[2], scopes)
    elif len(args) >= 3 and isinstance(args[2], ast.Constant) and isinstance(args[2].value, dict):
        inp = args[2].value
    params = {}
    for k in ("env", "task_name"):
        if k in kw:
            params[k] = literal(kw[k], scopes)
    if any(k.arg is None for k in call.keywords):
        raise Unresolved("params passed as **kwargs")
    if "wf_namespace" in kw or (len(args) >= 2 and literal(args[1], scopes)):
        raise Unresolved("the test starts the workflow in a namespace")
    return wf, inp or {}, params


def file_cases(path):
    tree = ast.parse(open(path).read(), path)
    stem = os.path.basename(path)[:-3]
    module = assigns(tree.body, [])
    out = []
    for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
        cattrs = assigns(cls.body, [module])
        cls_patch = decorated_patch(cls)
        methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
        setup = methods.get("setUp")
        base_scopes = [cattrs, module]
        setup_defs, setup_reasons = [], []
        if setup is not None:
            slocals = assigns(setup.body, base_scopes)
            setup_defs, _, setup_reasons = scan(setup, [slocals] + base_scopes)
            base_scopes = [{k: v for k, v in slocals.items()}] + base_scopes
        for name, fn in methods.items():
            if not name.startswith("test"):
                continue
            flocals = assigns(fn.body, base_scopes)
            scopes = [flocals] + base_scopes
            defs, starts, reasons = scan(fn, scopes)
            reasons = list(dict.fromkeys(setup_reasons + reasons))
            if cls_patch:
                reasons.insert(0, "the test class is patched (%s)" % cls_patch)
            p = decorated_patch(fn)
            if p:
                reasons.insert(0, "the test is patched (%s)" % p)
            for i, call in enumerate(starts):
                case = {
                    "name": "%s.%s.%s%s" % (stem, cls.name, name, "" if len(starts) == 1 else "#%d" % (i + 1)),
                    "source": "mistral/tests/unit/engine/%s.py:%d" % (stem, call.lineno),
                    "defs": setup_defs + defs,
                }
                try:
                    case["workflow"], case["input"], case["params"] = start_case(call, scopes)
                except (Unresolved, TypeError, ValueError, KeyError, IndexError) as e:
                    case.update(workflow="", input={}, params={})
                    case["not_comparable"] = "the start is not a literal call (%s)" % e
                if not case["defs"] and "not_comparable" not in case:
                    case["not_comparable"] = "no literal definition found in the test"
                if reasons and "not_comparable" not in case:
                    case["not_comparable"] = "; ".join(reasons)
                out.append(case)
    return out


def resource_cases(pkg):
    out = []
    for path in sorted(glob.glob(os.path.join(pkg, "tests", "resources", "**", "*.yaml"), recursive=True)
                       + glob.glob(os.path.join(pkg, "resources", "**", "*.yaml"), recursive=True)):
        rel = os.path.relpath(path, pkg)
        text = open(path).read()
        import yaml

        doc = yaml.safe_load(text)
        if not isinstance(doc, dict) or str(doc.get("version")) != "2.0":
            continue
        kind = "workbook" if "name" in doc and ("workflows" in doc or "actions" in doc) else "workflows"
        if kind == "workbook":
            names = ["%s.%s" % (doc["name"], w) for w in (doc.get("workflows") or {})]
        else:
            names = [k for k in doc if k not in ("version", "name", "description", "tags")]
        if not names:
            continue
        for wf in names:
            out.append({"name": "resources.%s.%s" % (rel.replace("/", "."), wf), "source": "mistral/" + rel,
                        "defs": [{"kind": kind, "text": text}], "workflow": wf, "input": {}, "params": {}})
    return out


# Std actions Mistral ships that Lazyflow deliberately does not provide
# (core/dsl/calls.go mistralOnly), with why.
NOT_PROVIDED = {
    "std.javascript": "needs a JavaScript engine",
    "std.js": "needs a JavaScript engine",
    "std.test_dict": "a test helper of Mistral's",
    "std.ssh": "needs a host to log in to",
    "std.ssh_proxied": "needs a host to log in to",
    "std.email": "needs a mail server",
    "std.wait_ssh": "needs a host to log in to",
}


def action_file(text):
    """Reports whether text defines only ad-hoc actions (base: without tasks)."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    if not isinstance(doc, dict):
        return False
    entries = [v for k, v in doc.items() if k not in ("version", "name", "description", "tags")]
    return bool(entries) and all(isinstance(v, dict) and "base" in v and "tasks" not in v for v in entries)


def classify(cases):
    """Marks the cases that are not really comparable, with the reason."""
    for c in cases:
        if "not_comparable" in c:
            continue
        texts = [d["text"] for d in c["defs"]]
        if c["name"].startswith("resources.") and texts and action_file(texts[0]):
            c["not_comparable"] = ("an ad-hoc action definitions file (Mistral's tests load it with "
                                   "action_service.create_actions), not a workflow to start")
            continue
        if any(re.search(r"\{\{\{__\w+__\}\}\}", t) for t in texts):
            c["not_comparable"] = "a template the test fills in at run time (%s)" % ", ".join(
                sorted(set(m for t in texts for m in re.findall(r"__\w+__", t))))
            continue
        for name, why in sorted(NOT_PROVIDED.items()):
            if any(re.search(r"\b%s\b(?![.\w])" % re.escape(name), t) for t in texts):
                c["not_comparable"] = "calls %s, which Lazyflow deliberately does not provide (%s)" % (name, why)
                break


def reclassify(path):
    """Applies classify to an extracted corpus in place."""
    with open(path) as f:
        corpus = json.load(f)
    classify(corpus["cases"])
    write(path, corpus["cases"])


def write(out_path, cases):
    with open(out_path, "w") as f:
        json.dump({"mistral": "23.0.0", "cases": cases}, f, indent=1, sort_keys=True)
        f.write("\n")
    comparable = sum(1 for c in cases if "not_comparable" not in c)
    print("extract: %d cases, %d comparable" % (len(cases), comparable), file=sys.stderr)


# Lazyflow's own cases, where the order of a dict's keys is visible: Mistral's
# tests compare dicts with ==, so none of theirs checks it. "compare_order" asks
# both sides for the key order of the output and of every task's published
# values (the oracle's "order"), which the tier then compares too. Only what
# Mistral orders deterministically is here: the root context $ is a view whose
# keys() is a set (CPython's hash order, a new one each process), and several
# branches merge in the order their tasks were created (timing).
ORDER_CASES = {
    "publish_then_default_output": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish:
        zeta: 1
        alpha: 2
        mid: {zz: 1, aa: {y: 1, b: 2}}
      on-success: t2
    t2:
      action: std.echo
      input:
        output: {yy: 1, bb: 2}
      publish:
        beta: <% task().result %>
        zeta: 3
      on-success: t3
    t3:
      action: std.noop
      publish:
        gamma: <% [$.mid, $.beta] %>
""",
    "global_publish_stays_out_of_output": """---
version: '2.0'
wf:
  input:
    - zin: 1
    - ain: 2
  vars:
    zv: 1
    av: 2
  tasks:
    t1:
      action: std.noop
      on-success:
        publish:
          branch:
            zb: <% $.ain %>
            ab: <% $.zin %>
          global:
            zg: 1
            ag: 2
        next: t2
    t2:
      action: std.noop
      publish:
        ab: 3
        cb: 4
""",
    "output_clause": """---
version: '2.0'
wf:
  input:
    - zin: 1
  tasks:
    t1:
      action: std.echo output="x"
      publish:
        pz: <% task().result %>
        pa: <% $.zin %>
  output:
    zo: <% $.pz %>
    ao: <% $.pa %>
    nested: {z: 1, a: {y: 1, b: 2}}
""",
    # Mistral's top-level publish is always the branch scope
    # (TaskSpec.get_publish wraps it as {'branch': ...}): branch, global and
    # atomic there are plain variable names; only an on-clause's publish is
    # scoped.
    "top_level_publish_scope_names": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish:
        global:
          zg: 1
          ag: <% 1 + 1 %>
        branch:
          zb: 3
      on-success: t2
    t2:
      action: std.noop
      publish:
        atomic:
          za: 4
      on-success: t3
    t3:
      action: std.noop
      publish:
        seen: <% [$.get(zg), $.get(zb), $.global, $.branch, $.atomic] %>
""",
    "top_level_publish_on_error_scope_names": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail
      publish-on-error:
        global:
          zg: 1
        branch:
          zb: <% task().state %>
      on-error: t2
    t2:
      action: std.noop
      publish:
        seen: <% [$.get(zg), $.get(zb), $.global, $.branch] %>
""",
    # An on-clause's publish and the task's own (Mistral's
    # DirectWorkflowTaskSpec.get_publish merges them).
    "on_clause_publish_merge": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish:
        x: 1
        y: 1
      on-success:
        publish:
          branch:
            x: 2
            z: 2
        next: t2
    t2:
      action: std.noop
      publish:
        p: 1
      on-success:
        publish:
          global:
            g: 1
        next: t3
    t3:
      action: std.noop
      publish:
        seen: <% [$.x, $.y, $.z, $.get(p), $.get(g)] %>
""",
    # On-complete's publish: merged into the task's own publish by branch
    # only (its global dropped), or taken whole when the task has none.
    "on_complete_publish_scopes": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      publish: {p: 1}
      on-complete:
        publish:
          branch: {c: 1, p: 2}
          global: {cg: 1}
        next: t2
    t2:
      action: std.fail
      on-error: noop
      on-complete:
        publish:
          branch: {e: 1}
          global: {eg: 1}
        next: t3
    t3:
      action: std.noop
      publish:
        seen: <% [$.p, $.c, $.get(cg), $.e, $.get(eg)] %>
""",
    # merge_dicts(input, inline): the input clause's keys in its order, an
    # inline parameter replacing the value of the same name in place, new
    # inline names after.
    "inline_parameters_over_input": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=1
      input:
        output: 2
      publish:
        scalar: <% task().result %>
      on-success: t2
    t2:
      action: std.echo output=[3,1]
      input:
        output: {c: 3}
      publish:
        merged: <% task().result %>
      on-success: t3
    t3:
      workflow: sub z=1 a=2
      input:
        m: 0
        a: 9
      publish:
        sub_input: <% task().result.got %>
sub:
  input:
    - m
    - a
    - z
  tasks:
    noop:
      action: std.noop
  output:
    got: <% execution().input %>
""",
}


# Lazyflow's own cases pinning what core/compat's TestWorkflowDraws (random
# workflows on both sides) found and Lazyflow now does as Mistral does.
DRAW_CASES = {
    # Mistral's inline parameter pattern reads quoted text, expressions,
    # [lists], true/false/null and digits: a bare word, True, -1 or a {map}
    # is not read (the input's default applies), and 1.5 is read as 1.
    # A succeed command evaluates the output while the task completes: an
    # output that cannot be evaluated fails the workflow and that task.
    "succeed_output_error_fails_the_task": """---
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=1
      publish:
        a: <% task().result %>
      on-success:
        - succeed
  output:
    o: <% str($.missing) %>
""",
}


def draw_cases():
    return [{"name": "lazyflow.draw." + name, "source": "lazyflow/core/compat/extract.py",
             "defs": [{"kind": "workflows", "text": text}], "workflow": "wf", "input": {}, "params": {}}
            for name, text in DRAW_CASES.items()]


def order_cases():
    return [{"name": "lazyflow.order." + name, "source": "lazyflow/core/compat/extract.py",
             "defs": [{"kind": "workflows", "text": text}], "workflow": "wf", "input": {}, "params": {},
             "compare_order": True} for name, text in ORDER_CASES.items()]


def main():
    if sys.argv[1] == "--reclassify":
        reclassify(sys.argv[2])
        return
    pkg, out_path = sys.argv[1], sys.argv[2]
    cases = []
    for path in sorted(glob.glob(os.path.join(pkg, "tests", "unit", "engine", "test_*.py"))):
        cases.extend(file_cases(path))
    cases.extend(resource_cases(pkg))
    cases.extend(order_cases())
    cases.extend(draw_cases())
    seen = set()
    for c in cases:
        key = json.dumps([c["defs"], c["workflow"], c["input"], c["params"]], sort_keys=True, default=str)
        h = hashlib.sha256(key.encode()).hexdigest()
        if h in seen and "not_comparable" not in c:
            c["not_comparable"] = "duplicate of an earlier case"
        seen.add(h)
        c["input"] = json.loads(json.dumps(c["input"], default=str))
        c["params"] = json.loads(json.dumps(c["params"], default=str))
    classify(cases)
    write(out_path, cases)


if __name__ == "__main__":
    main()
