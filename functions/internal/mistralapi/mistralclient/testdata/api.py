"""Drives Lazyflow's /v2 with python-mistralclient's Python API (no Keystone:
no auth_url), as a script or service built on the client would, and prints
what it saw as one JSON object for client_test.go to check."""
import json
import sys
import time

from mistralclient.api import client

url, delegate_url = sys.argv[1], sys.argv[2]
c = client.client(mistral_url=url)
seen = {}


def wait(ex_id, *states):
    for _ in range(200):
        ex = c.executions.get(ex_id)
        if ex.state in states:
            return ex
        time.sleep(0.05)
    raise SystemExit("execution %s never reached %s" % (ex_id, states))


seen["workbook"] = c.workbooks.get("demo").name
seen["workflows"] = sorted(w.name for w in c.workflows.list())

ex = c.executions.create("demo.hello", workflow_input={"name": "Py"})
ex = wait(ex.id, "SUCCESS", "ERROR")
seen["hello_state"] = ex.state
seen["hello_output"] = json.loads(ex.output)
seen["hello_input"] = json.loads(ex.input)
seen["hello_tasks"] = [(t.name, t.state, json.loads(t.published)) for t in c.tasks.list(ex.id)]

# A reverse workflow runs up to params' task_name.
ex = c.executions.create("demo.rev", task_name="b")
ex = wait(ex.id, "SUCCESS", "ERROR")
seen["rev_params"] = json.loads(ex.params)
seen["rev_tasks"] = sorted(t.name for t in c.tasks.list(ex.id))

# A delegate completed through the client's action execution update.
ex = c.executions.create("demo.delegated", workflow_input={"url": delegate_url})
for _ in range(200):
    tasks = c.tasks.list(ex.id)
    if tasks and tasks[0].state == "RUNNING":
        break
    time.sleep(0.05)
ax = c.action_executions.list(tasks[0].id)
seen["action_names"] = [a.name for a in ax]
c.action_executions.update(ax[0].id, state="SUCCESS", output='{"answer": 7}')
ex = wait(ex.id, "SUCCESS", "ERROR")
seen["delegated_output"] = json.loads(ex.output)

try:
    c.executions.get("no-such-execution")
except Exception as e:  # APIException
    seen["missing"] = [getattr(e, "error_code", None), str(e)]

# Environments: a named env is resolved at start and read by env().
env = c.environments.create(name="py", variables={"greeting": "Howdy"})
seen["env_created"] = env.variables
seen["env_names"] = [e.name for e in c.environments.list()]
seen["env_updated"] = c.environments.update(name="py", variables={"greeting": "Hi"}).variables
c.workflows.create("version: '2.0'\nenvwf:\n  output:\n    greeting: <% env().greeting %>\n  tasks:\n    one:\n      action: std.noop\n")
ex = wait(c.executions.create("envwf", env="py").id, "SUCCESS", "ERROR")
seen["env_output"] = json.loads(ex.output)
c.environments.delete("py")
try:
    c.environments.get("py")
except Exception as e:
    seen["env_gone"] = [getattr(e, "error_code", None), str(e)]

# Deletes: the finished execution, its workflow, the workbook.
c.executions.delete(ex.id)
try:
    c.executions.get(ex.id)
except Exception as e:
    seen["execution_gone"] = [getattr(e, "error_code", None), str(e)]
c.workflows.delete("envwf")
c.workbooks.delete("demo")
seen["workflows_left"] = [w.name for w in c.workflows.list()]

print(json.dumps(seen))
