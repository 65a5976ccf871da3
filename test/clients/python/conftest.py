"""Starts the real TaskService once per session and hands tests a stub.

The suite is meant to catch a server that does not come up, so every startup
problem is a test failure (never a skip), reported with the server's output.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import grpc
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
GEN_PYTHON = REPO_ROOT / "gen" / "python"
CLIENT_ROOT = REPO_ROOT / "clients" / "python"

# The committed stubs and the client library's source go first on the path so
# the suite exercises the checked-in contract and client even when older
# copies are pip-installed. The client library's own tests lend the bridge
# that runs one test body with both Client and AsyncClient.
for path in (CLIENT_ROOT / "tests", CLIENT_ROOT, GEN_PYTHON):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from client_bridge import KINDS, Clients  # noqa: E402
from taskmanager.v1 import task_service_pb2_grpc  # noqa: E402

STARTUP_TIMEOUT_S = 20.0
# The contract promises a clean exit within a few seconds of SIGTERM; SIGKILL
# only comes later so that a slow exit is measured, not masked.
CLEAN_EXIT_WITHIN_S = 5.0
SHUTDOWN_GRACE_S = 10.0
CHANNEL_READY_TIMEOUT_S = 10.0
OUTPUT_TAIL_LINES = 60


class ServerStartError(Exception):
    pass


class ServerProcess:
    """The TypeScript server as a child process.

    Both pipes are drained by threads for the whole run: pino logs every
    request, and a full pipe would block the server mid-write.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        """env: settings on top of the defaults (a fixed TASKSERVICE_ADDR, tokens, platforms)."""
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[str] | None = None
        self.address: str | None = None
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._readers: list[threading.Thread] = []

    def start(self) -> None:
        env = dict(
            os.environ,
            TASKSERVICE_ADDR="127.0.0.1:0",
            TASKSERVICE_LOG_LEVEL="info",
        )
        env.update(self.extra_env)
        try:
            self.proc = subprocess.Popen(
                ["node", "--import", "tsx", "src/main.ts"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise ServerStartError(f"could not launch node: {exc}") from exc

        self._readers = [
            threading.Thread(target=self._read_stdout, name="server-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, name="server-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._listening.wait(0.05):
            code = self.proc.poll()
            if code is not None:
                # Let the readers collect whatever the process printed last.
                for reader in self._readers:
                    reader.join(timeout=2)
                if self._listening.is_set():
                    break
                raise ServerStartError(
                    f"server exited with code {code} before logging \"listening\"\n"
                    + self.output_tail()
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"server did not log \"listening\" within {STARTUP_TIMEOUT_S:.0f} s\n"
                    + self.output_tail()
                )

        if self.proc.poll() is not None:
            raise ServerStartError(
                f"server logged \"listening\" but exited with code {self.proc.returncode}\n"
                + self.output_tail()
            )

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self._stdout.append(line.rstrip("\n"))
            if self._listening.is_set():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # tsx or node may print non-JSON notices
            if isinstance(record, dict) and record.get("msg") == "listening":
                self.address = str(record.get("address", ""))
                self._listening.set()

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self._stderr.append(line.rstrip("\n"))

    @property
    def port(self) -> int:
        _, sep, port = (self.address or "").rpartition(":")
        if not sep or not port.isdigit() or int(port) == 0:
            raise ServerStartError(
                f"\"listening\" log line has no usable address: {self.address!r}\n"
                + self.output_tail()
            )
        return int(port)

    def output_tail(self) -> str:
        with self._lock:
            out = self._stdout[-OUTPUT_TAIL_LINES:]
            err = self._stderr[-OUTPUT_TAIL_LINES:]
        return (
            "--- server stdout (tail) ---\n" + "\n".join(out)
            + "\n--- server stderr (tail) ---\n" + "\n".join(err)
        )

    def stop(self) -> str:
        """SIGTERM, then SIGKILL after the grace period.

        Returns how the shutdown broke the contract, or "" if it did not.
        """
        if self.proc is None:
            return ""
        if self.proc.poll() is not None:
            problem = f"server had already exited with code {self.proc.returncode} before SIGTERM"
        else:
            started = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_GRACE_S)
                took = time.monotonic() - started
                if took > CLEAN_EXIT_WITHIN_S:
                    problem = f"server took {took:.2f} s to exit after SIGTERM, more than {CLEAN_EXIT_WITHIN_S:.0f} s"
                elif self.proc.returncode != 0:
                    problem = f"server exited with code {self.proc.returncode} after SIGTERM"
                else:
                    problem = ""
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=SHUTDOWN_GRACE_S)
                problem = f"server was still running {SHUTDOWN_GRACE_S:.0f} s after SIGTERM and was killed"
        for reader in self._readers:
            reader.join(timeout=2)
        return problem


@contextlib.contextmanager
def running_server(**env: str):
    """A ServerProcess with env on top of the defaults, from start to a checked stop.

    A start that fails, or a stop that breaks the shutdown contract, fails the test.
    """
    srv = ServerProcess(env)
    try:
        srv.start()
        _ = srv.port  # a bad address is a startup failure, not a later test error
    except ServerStartError as exc:
        srv.stop()
        pytest.fail(f"TaskService did not start: {exc}", pytrace=False)
    try:
        yield srv
    except BaseException:
        srv.stop()  # the test's own failure is the one to report
        raise
    problem = srv.stop()
    if problem:
        pytest.fail(f"{problem}\n{srv.output_tail()}", pytrace=False)


@pytest.fixture(scope="session")
def server():
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="session")
def start_server():
    """start_server(**env): a context manager running another server, configured by env."""
    return running_server


@pytest.fixture(scope="session")
def channel(server):
    ch = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        grpc.channel_ready_future(ch).result(timeout=CHANNEL_READY_TIMEOUT_S)
    except grpc.FutureTimeoutError:
        ch.close()
        pytest.fail(
            f"no gRPC connection to 127.0.0.1:{server.port} within "
            f"{CHANNEL_READY_TIMEOUT_S:.0f} s\n" + server.output_tail(),
            pytrace=False,
        )
    yield ch
    # Closed before the server is stopped, as a real client would: the server
    # has to cope with a connection going away while it shuts down.
    ch.close()


@pytest.fixture(scope="session")
def stub(channel):
    return task_service_pb2_grpc.TaskServiceStub(channel)


def free_port() -> int:
    """A port nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_user_id() -> str:
    # ListTasks and ownership checks are per user, so a fresh id isolates a test
    # from everything the other tests created on the shared server.
    return f"py-{uuid.uuid4().hex}"


@pytest.fixture
def user_id() -> str:
    return new_user_id()


@pytest.fixture(params=KINDS)
def clients(request):
    """clients(address, **settings) -> a Client, or an AsyncClient behind blocking calls
    (client_bridge.Synced): each test using it runs once per kind. All are closed at teardown."""
    made = Clients(request.param)
    yield made
    made.close()
