"""The TypeScript TaskService of this checkout as a child process, for end-to-end tests.

Most of this suite runs against scripted servers (scripted_server.py,
scripted_task_service.py); what only the real server can show (a worker
tool's question reaching a client, and the answer going back) runs against
this. The full real-server suite of the clients is test/clients/python; this
is the same launch (``node --import tsx src/main.ts`` on a free port), kept
small. Without node or the checkout's node_modules the tests using it are
skipped with the reason; any other start-up problem fails them.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import threading
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
OUTPUT_TAIL_LINES = 40


def unavailable_reason() -> str | None:
    """Why the real server cannot be started here (None: it can)."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (REPO_ROOT / "node_modules" / "tsx").is_dir():
        return f"tsx is not installed in {REPO_ROOT / 'node_modules'} (npm ci)"
    return None


class TaskServiceProcess:
    """One server process; its output is drained by threads (a full pipe would block it)."""

    def __init__(self, **env: str) -> None:
        self._env = env
        self.address = ""
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._readers: list[threading.Thread] = []

    def start(self) -> TaskServiceProcess:
        """Start it and wait for its "listening" log line; RuntimeError (with its output) otherwise."""
        env = dict(os.environ, TASKSERVICE_ADDR="127.0.0.1:0", TASKSERVICE_LOG_LEVEL="info", **self._env)
        self._proc = subprocess.Popen(
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
        for stream in (self._proc.stdout, self._proc.stderr):
            reader = threading.Thread(target=self._read, args=(stream,), name="taskservice-output", daemon=True)
            reader.start()
            self._readers.append(reader)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._listening.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"TaskService did not start listening\n{self.output_tail()}")
        return self

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for reader in self._readers:
            reader.join(timeout=2)

    def output_tail(self) -> str:
        with self._lock:
            return "\n".join(self._lines[-OUTPUT_TAIL_LINES:])

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lock:
                self._lines.append(line.rstrip("\n"))
            if self._listening.is_set():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("msg") == "listening":
                self.address = str(record.get("address", ""))
                self._listening.set()
