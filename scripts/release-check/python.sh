#!/usr/bin/env bash
# Release check, Python: README's install lines make a virtualenv outside the checkout and install the
# packed wheels into it (grpcio and protobuf from PyPI), then README's first call runs with that
# virtualenv's python, isolated (-I: neither the script's folder nor PYTHONPATH nor user site-packages
# on sys.path), so it can only find what the wheels installed.
#   python.sh <checkout> <scratch project folder>   ($TASKSERVICE_ADDR: the server)
set -euo pipefail
checkout=$1
cd "$2"
block() { node "$checkout/scripts/release-check/readme-block.mjs" "$1"; }
fail() {
  echo "python: $*" >&2
  exit 1
}
version=$(cat "$checkout/VERSION")
export PIP_DISABLE_PIP_VERSION_CHECK=1

bash -euo pipefail -c "$(block python-install)" > install.log 2>&1 || {
  cat install.log >&2
  fail "README's install lines failed"
}
grep '^Successfully installed' install.log || true
py=$PWD/.venv/bin/python
[[ -x $py ]] || fail "README's install lines made no virtualenv in .venv"
"$py" -m pip check || fail "pip check found broken requirements"

# What the wheels declare and ship, and that the modules come from the virtualenv, not the checkout.
"$py" -I - "$version" "$checkout" <<'PY' || fail "the installed packages are not what the release should be"
import importlib.metadata as metadata
import pathlib
import re
import sys

version, checkout = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
problems = []
# Each distribution: the requirements it declares, by name (the one version pins taskservice-proto).
expected = {
    "taskservice-proto": {"grpcio": None, "protobuf": None},
    "taskservice": {"taskservice-proto": f"=={version}", "grpcio": None, "protobuf": None},
}
shipped = {
    "taskservice-proto": ["taskmanager/py.typed", "taskmanager/v1/task_service_pb2.pyi"],
    "taskservice": ["taskservice_client/py.typed", "taskservice_worker/py.typed"],
}
for name, requires in expected.items():
    dist = metadata.distribution(name)
    meta = dist.metadata
    if meta["Version"] != version:
        problems.append(f"{name}: version {meta['Version']}, but VERSION is {version}")
    if meta["License-Expression"] != "Apache-2.0":
        problems.append(f"{name}: License-Expression {meta['License-Expression']!r}, not 'Apache-2.0'")
    files = {str(f) for f in dist.files or ()}
    if not any(f.endswith(".dist-info/licenses/LICENSE") for f in files):
        problems.append(f"{name}: the wheel has no licenses/LICENSE")
    problems += [f"{name}: the wheel has no {path}" for path in shipped[name] if path not in files]
    declared = {}
    for requirement in dist.requires or ():
        match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(==\s*[^;,\s]+)?", requirement)
        declared[match.group(1).lower()] = match.group(2) and match.group(2).replace(" ", "")
    if sorted(declared) != sorted(requires):
        problems.append(f"{name}: requires {sorted(declared)}, expected {sorted(requires)}")
    problems += [
        f"{name}: requires {dep}{declared.get(dep) or ''}, expected {dep}{pin}"
        for dep, pin in requires.items()
        if pin and declared.get(dep) != pin
    ]

import taskmanager.v1.task_service_pb2
import taskservice_client
import taskservice_worker

venv = pathlib.Path(sys.prefix).resolve()
for module in (taskservice_client, taskservice_worker, taskmanager.v1.task_service_pb2):
    where = pathlib.Path(module.__file__).resolve()
    if venv not in where.parents or checkout in where.parents:
        problems.append(f"{module.__name__} was imported from {where}, not from the virtualenv {venv}")
    if hasattr(module, "__version__") and module.__version__ != version:
        problems.append(f"{module.__name__}.__version__ is {module.__version__}, but VERSION is {version}")
print("\n".join(f"python: {p}" for p in problems) or f"installed: taskservice {version}, taskservice-proto {version}")
sys.exit(1 if problems else 0)
PY

block python-first-call > first_call.py
# The first call type-checks against the wheels' own types (py.typed, .pyi), as a user's mypy sees them.
python3 -m mypy --version >/dev/null 2>&1 || fail "mypy is needed: pip install -r clients/python/requirements-test.txt"
python3 -m mypy --strict --python-executable "$py" --no-incremental first_call.py ||
  fail "README's first call does not type-check against the installed wheels"

out=$("$py" -I first_call.py) || fail "README's first call failed"
echo "$out"
for want in "client $version, server $version" "hi" "slept 1 s" "NOT_FOUND, as expected"; do
  grep -qxF -- "$want" <<<"$out" || fail "the first call did not print \"$want\""
done

# The worker library from the wheel: a tool served by this process, called through the server.
"$py" -I - <<'PY' || fail "a worker from the wheel did not serve a call"
import os
import threading
import time

from taskservice_client import Client
from taskservice_worker import ToolContext, Worker

address = os.environ["TASKSERVICE_ADDR"]
worker = Worker(address, name="release-check-python")


@worker.tool(parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
def release_check_upper(args: dict, ctx: ToolContext) -> str:
    """Upper-cases a text."""
    return args["text"].upper()


thread = threading.Thread(target=worker.run, daemon=True)
thread.start()
try:
    with Client(address) as client:
        deadline = time.monotonic() + 10
        while not any(t.name == "release_check_upper" and t.workers for t in client.list_tools()):
            if time.monotonic() > deadline:
                raise SystemExit("the worker's tool did not appear in ListTools within 10 s")
            time.sleep(0.05)
        text = client.execute("release_check_upper", {"text": "from a worker"}).text
        print(text)
        assert text == "FROM A WORKER", text
finally:
    worker.stop()
    thread.join(10)
PY
