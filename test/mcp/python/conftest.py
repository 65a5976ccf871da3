"""Starts the real TaskService with its MCP front door once per session.

The server runs as `node --import tsx src/main.ts` with TASKSERVICE_ADDR and
TASKSERVICE_MCP_ADDR on free loopback ports; both addresses are read from its
`listening` log line. A server that does not come up fails the tests (never a
skip), with its output in the report; at teardown it is stopped by its PID and
must exit cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import threading
import time
from collections.abc import Coroutine
from typing import Any

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]

STARTUP_TIMEOUT_S = 20.0
# The contract promises a clean exit within a few seconds of SIGTERM; SIGKILL
# only comes later so that a slow exit is measured, not masked.
CLEAN_EXIT_WITHIN_S = 5.0
SHUTDOWN_GRACE_S = 10.0
OUTPUT_TAIL_LINES = 60
# Every scenario is bounded, so a server that stops answering fails a test instead of hanging the suite.
SCENARIO_TIMEOUT_S = 60.0


class ServerStartError(Exception):
    pass


class McpServerProcess:
    """The TypeScript server as a child process, serving gRPC and MCP.

    Both pipes are drained by threads for the whole run: pino logs every
    request, and a full pipe would block the server mid-write.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[str] | None = None
        self.grpc_address = ""
        self.mcp_url = ""
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._readers: list[threading.Thread] = []

    def start(self) -> None:
        env = dict(
            os.environ,
            TASKSERVICE_ADDR="127.0.0.1:0",
            TASKSERVICE_MCP_ADDR="127.0.0.1:0",
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
            threading.Thread(target=self._read, args=(self.proc.stdout, True), name="server-stdout", daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), name="server-stderr", daemon=True),
        ]
        for reader in self._readers:
            reader.start()

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._listening.wait(0.05):
            code = self.proc.poll()
            if code is not None:
                for reader in self._readers:
                    reader.join(timeout=2)
                raise ServerStartError(f'server exited with code {code} before logging "listening"')
            if time.monotonic() > deadline:
                raise ServerStartError(f'server did not log "listening" within {STARTUP_TIMEOUT_S:.0f} s')
        if not self.grpc_address.rpartition(":")[2].isdigit() or self.grpc_address.endswith(":0"):
            raise ServerStartError(f'"listening" line has no usable gRPC address: {self.grpc_address!r}')
        if not self.mcp_url.startswith("http://127.0.0.1:") or not self.mcp_url.endswith("/mcp"):
            raise ServerStartError(f'"listening" line has no usable mcp URL: {self.mcp_url!r}')

    def _read(self, stream, is_stdout: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            with self._lock:
                self._lines.append(line if is_stdout else f"[stderr] {line}")
            if not is_stdout or self._listening.is_set():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # tsx or node may print non-JSON notices
            if isinstance(record, dict) and record.get("msg") == "listening":
                self.grpc_address = str(record.get("address", ""))
                self.mcp_url = str(record.get("mcp", ""))
                self._listening.set()

    def output_tail(self) -> str:
        with self._lock:
            lines = self._lines[-OUTPUT_TAIL_LINES:]
        return "--- server output (tail) ---\n" + "\n".join(lines)

    def stop(self) -> str:
        """SIGTERM to its PID, then SIGKILL after the grace period.

        Returns how the shutdown broke the contract, or "" if it did not.
        """
        if self.proc is None:
            return ""
        problem = ""
        if self.proc.poll() is not None:
            problem = f"server had already exited with code {self.proc.returncode} before SIGTERM"
        else:
            started = time.monotonic()
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=SHUTDOWN_GRACE_S)
                took = time.monotonic() - started
                if took > CLEAN_EXIT_WITHIN_S:
                    problem = f"server took {took:.2f} s to exit after SIGTERM, more than {CLEAN_EXIT_WITHIN_S:.0f} s"
                elif self.proc.returncode != 0:
                    problem = f"server exited with code {self.proc.returncode} after SIGTERM"
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=SHUTDOWN_GRACE_S)
                problem = f"server was still running {SHUTDOWN_GRACE_S:.0f} s after SIGTERM and was killed"
        for reader in self._readers:
            reader.join(timeout=2)
        return problem


@pytest.fixture(scope="session")
def server():
    srv = McpServerProcess()
    try:
        srv.start()
    except ServerStartError as exc:
        srv.stop()
        pytest.fail(f"TaskService did not start: {exc}\n{srv.output_tail()}", pytrace=False)
    yield srv
    problem = srv.stop()
    if problem:
        pytest.fail(f"{problem}\n{srv.output_tail()}", pytrace=False)


@pytest.fixture(params=["auto", "legacy"])
def mode(request) -> str:
    """The Python client's protocol mode: "auto" reaches 2026-07-28, "legacy" the 2025-11-25 handshake."""
    return request.param


EXPECTED_VERSION = {"auto": "2026-07-28", "legacy": "2025-11-25"}


def run(scenario: Coroutine[Any, Any, Any]) -> Any:
    """Runs one async test body on a fresh event loop, bounded by SCENARIO_TIMEOUT_S."""
    return asyncio.run(asyncio.wait_for(scenario, SCENARIO_TIMEOUT_S))
