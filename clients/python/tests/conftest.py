"""Puts the checked-out library and stubs first on sys.path and provides fixtures.

The committed stubs (gen/python) and this library's source go first so the
suite tests the working tree even when older copies are pip-installed.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

CLIENT_ROOT = pathlib.Path(__file__).resolve().parents[1]
REPO_ROOT = CLIENT_ROOT.parents[1]
for path in (REPO_ROOT / "gen" / "python", CLIENT_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from client_bridge import Clients  # noqa: E402
from harness import HARNESSES, Probe  # noqa: E402
from scripted_server import ScriptedServer  # noqa: E402
from scripted_task_service import ScriptedTaskService  # noqa: E402


@pytest.fixture
def server():
    srv = ScriptedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def probe():
    return Probe()


@pytest.fixture(params=sorted(HARNESSES))
def kind(request):
    """Runs a test once with Worker ("sync") and once with AsyncWorker ("async")."""
    return request.param


@pytest.fixture
def start_worker(kind, server, probe):
    """start_worker(**worker_kwargs) -> a running harness of this test's kind.

    Every harness is stopped at teardown (the gate opened first), so a failing
    test cannot leave a worker running into the next one.
    """
    started = []

    def start(start: bool = True, **kwargs):
        harness = HARNESSES[kind](server.address, probe, **kwargs)
        started.append(harness)
        return harness.start() if start else harness

    yield start
    probe.gate.set()
    for harness in started:
        harness.stop()



# -- the client (taskservice_client) ---------------------------------------------------------


@pytest.fixture(params=["sync", "async"])
def client_kind(request):
    """Runs a test once with Client ("sync") and once with AsyncClient ("async")."""
    return request.param


@pytest.fixture
def clients(client_kind):
    """clients(address, **settings) -> a Client, or an AsyncClient behind blocking calls; all closed at teardown."""
    made = Clients(client_kind)
    yield made
    made.close()


@pytest.fixture
def task_service():
    service = ScriptedTaskService().start()
    yield service
    service.stop()
