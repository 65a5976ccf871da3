"""The runnable scripts as their users run them: a separate process, stopped by SIGTERM.

test/fixtures/workers/fixture_worker.py is what the TypeScript integration
suite drives, line by line on stdout; examples/worker.py is what the README
tells people to run. Both must work from a plain checkout (nothing
installed), register the tools they promise and exit 0 on SIGTERM.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from scripted_server import DEFAULT_WAIT_S
from taskmanager.v1 import task_pb2

CLIENT_ROOT = pathlib.Path(__file__).resolve().parents[1]
REPO_ROOT = CLIENT_ROOT.parents[1]
FIXTURE = REPO_ROOT / "test" / "fixtures" / "workers" / "fixture_worker.py"
EXAMPLE = CLIENT_ROOT / "examples" / "worker.py"
EXIT_WITHIN_S = 10.0


class Script:
    """A worker script in a child process, its stdout read line by line."""

    def __init__(self, *args: str) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd="/",  # nothing importable from the working directory
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def line(self, *words: str, timeout: float = DEFAULT_WAIT_S) -> list[str]:
        """The words of the next stdout line that starts with words (other lines are skipped)."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line starting {words} within {timeout} s") from None
            if line is None:
                raise AssertionError(f"stdout ended before a line starting {words}; stderr: {self.stderr()}")
            if line.split()[: len(words)] == list(words):
                return line.split()

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else "(still running)"

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=EXIT_WITHIN_S)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=DEFAULT_WAIT_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def scripts():
    started: list[Script] = []

    def start(*args: str) -> Script:
        started.append(Script(*args))
        return started[-1]

    yield start
    for script in started:
        script.kill()


def result_of(conn, task_id):
    result, _ = conn.result_for(task_id)
    kind = result.WhichOneof("outcome")
    return kind, getattr(result, kind)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_fixture_worker_contract(server, scripts, use_async):
    flags = ["--async"] if use_async else []
    script = scripts(
        str(FIXTURE), "--addr", server.address, "--name", "fx-1", "--prefix", "py", "--concurrency", "3",
        "--max-concurrency", "5", *flags,
    )
    conn = server.next_connection(timeout=15.0)  # a fresh interpreter imports grpc first
    register = conn.accept(worker_id="w-fx")
    assert script.line("READY") == ["READY", "w-fx"]
    assert (register.worker_name, register.max_concurrency) == ("fx-1", 5)
    tools = {tool.name: tool for tool in register.tools}
    assert list(tools) == ["py_echo", "py_sleep", "py_fail", "py_exclusive"]
    assert json.loads(tools["py_echo"].parameters_json_schema)["required"] == ["text"]
    assert json.loads(tools["py_sleep"].parameters_json_schema)["properties"]["steps"]["maximum"] == 1000
    assert tools["py_sleep"].concurrency == 3
    assert tools["py_exclusive"].no_background and json.loads(tools["py_exclusive"].parameters_json_schema) == {"type": "object"}

    conn.invoke("t-echo", "py_echo", {"text": "hi"})
    assert script.line("INVOKED") == ["INVOKED", "py_echo", "t-echo"]
    kind, text = result_of(conn, "t-echo")
    assert (kind, json.loads(text)) == ("result", {"text": "hi", "worker": "fx-1"})

    conn.invoke("t-fail", "py_fail", {"message": "on purpose"})
    assert result_of(conn, "t-fail") == ("error", "fixture failure: on purpose")
    conn.invoke("t-ex", "py_exclusive", {})
    assert result_of(conn, "t-ex") == ("result", "exclusive done")

    conn.invoke("t-sleep", "py_sleep", {"seconds": 0.4, "steps": 4})
    result, before = conn.result_for("t-sleep")
    assert [(m.progress.fraction, m.progress.message) for m in before] == [
        (0.25, "step 1/4"), (0.5, "step 2/4"), (0.75, "step 3/4"), (1.0, "step 4/4")
    ]
    assert json.loads(result.result) == {"slept": 0.4, "worker": "fx-1"}

    conn.invoke("t-long", "py_sleep", {"seconds": 60})
    script.line("INVOKED", "py_sleep", "t-long")
    conn.cancel("t-long", task_pb2.FAILURE_REASON_CANCELLED, "by the test")
    assert script.line("CANCELLED", timeout=2.0) == ["CANCELLED", "t-long", "CANCELLED"]

    conn.invoke("t-last", "py_sleep", {"seconds": 60})
    script.line("INVOKED", "py_sleep", "t-last")

    assert script.terminate() == 0
    assert script.line("CANCELLED", "t-last") == ["CANCELLED", "t-last", "SHUTDOWN"]
    conn.wait_worker_done()
    assert conn.quiet_for(0.1) == []  # no result for either cancelled sleep


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_fixture_worker_exits_on_sigterm_while_reconnecting(scripts, use_async):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    flags = ["--async"] if use_async else []
    script = scripts(str(FIXTURE), "--addr", f"127.0.0.1:{port}", "--name", "fx", "--prefix", "py", *flags)
    time.sleep(1.0)  # imports done, a few connection attempts made
    assert script.proc.poll() is None, script.stderr()
    assert script.terminate() == 0


def test_example_worker_serves_its_tools(server, scripts):
    script = scripts(str(EXAMPLE), "--addr", server.address)
    conn = server.next_connection(timeout=15.0)
    register = conn.accept(worker_id="w-ex")
    assert script.line("registered", "as") == ["registered", "as", "w-ex"]
    assert [tool.name for tool in register.tools] == ["word_count", "slow_count"]
    conn.invoke("wc", "word_count", {"text": "three little words"})
    kind, text = result_of(conn, "wc")
    assert (kind, json.loads(text)) == ("result", {"words": 3, "characters": 18})
    conn.invoke("sc", "slow_count", {"to": 3, "delay": 0})
    kind, text = result_of(conn, "sc")
    assert (kind, json.loads(text)) == ("result", {"counted": 3})
    assert script.terminate() == 0
