"""examples/python/inference_loop.py as its users run it: a child process against the real server.

The transcript is what the example is for, so the tests read it the way a
person would: the inline answer, the envelope the model got, check_task's
answer about the same task, the progress and the final result. The redirect
path runs against a second server with a webhook platform pointing at a
receiver in this test, which must get the task's result.
"""

from __future__ import annotations

import http.server
import json
import os
import queue
import subprocess
import sys
import threading

import pytest
from conftest import REPO_ROOT, free_port, new_user_id

from taskmanager.v1 import task_pb2, task_service_pb2 as pb

EXAMPLE = REPO_ROOT / "examples" / "python" / "inference_loop.py"
RUN_LIMIT_S = 30.0
DELIVERY_WITHIN_S = 10.0


def start_example(port: int, user_id: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "TASKSERVICE_TOKEN")}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), "--addr", f"127.0.0.1:{port}", "--user-id", user_id,
         "--sleep-seconds", "2", "--budget", "0.3", *extra],
        cwd="/",  # nothing importable from the working directory: the example finds the checkout itself
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT_S,
    )


def run_example(port: int, user_id: str, *extra: str) -> list[str]:
    """The example's transcript (stdout lines); it must exit 0 and write nothing to stderr."""
    done = start_example(port, user_id, *extra)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.stderr == ""
    return done.stdout.splitlines()


def after(lines: list[str], marker: str) -> list[str]:
    """The rest of every line containing marker, after it."""
    return [line.split(marker, 1)[1] for line in lines if marker in line]


def the(lines: list[str], marker: str) -> str:
    found = after(lines, marker)
    assert len(found) == 1, f"expected one line with {marker!r} in:\n" + "\n".join(lines)
    return found[0]


def check_common_transcript(lines: list[str]) -> str:
    """Asserts the steps every run shows; returns the backgrounded task's id."""
    assert the(lines, "echo answered inline: ") == "Hello! Going for a nap."

    envelope = json.loads(the(lines, "sleep is backgrounded; the model reads: "))
    task_id = envelope["task_id"]
    assert envelope["status"] == "running" and envelope["tool_name"] == "sleep"
    assert task_id in envelope["message"]

    assert json.loads(the(lines, "model calls check_task ")) == {"task_id": task_id}
    checked = json.loads(the(lines, "check_task answered inline: "))
    assert checked["task_id"] == task_id and checked["status"] == "running"
    assert "elapsed_seconds" in checked

    updates = after(lines, "]   ")
    assert updates[0].startswith("SNAPSHOT ")
    assert any(u.startswith("PROGRESS ") for u in updates), updates
    assert updates[-1] == "TERMINAL completed: slept 2 s"
    assert lines[-1].endswith("model answers: I said hello and napped; the nap tool reports: slept 2 s")
    return task_id


def test_inference_loop_routes_inline_background_and_check_task_calls(server, stub):
    user_id = new_user_id()

    lines = run_example(server.port, user_id)

    task_id = check_common_transcript(lines)
    assert not after(lines, "redirect_task"), "no redirect without --redirect-platform"
    # The id the model read is a real task of that user, and it completed.
    task = stub.GetResult(pb.GetResultRequest(task_id=task_id, user_id=user_id), timeout=10).task
    assert task.status == task_pb2.TASK_STATUS_COMPLETED and task.result == "slept 2 s"


def test_inference_loop_exits_1_with_the_reason_when_the_server_is_unreachable():
    done = start_example(free_port(), new_user_id())

    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith("inference_loop: UNAVAILABLE: "), done.stderr
    assert "model calls echo" in done.stdout and "answered" not in done.stdout


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every JSON POST and answers 200."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, dict]] = queue.Queue()
        received = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.put((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def receiver():
    hook = Receiver()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def chat_server(start_server, receiver):
    platforms = json.dumps({"chat": {"kind": "webhook", "url": receiver.url}})
    with start_server(TASKSERVICE_PLATFORMS=platforms) as srv:
        yield srv


def test_inference_loop_redirects_the_background_result_to_a_chat_channel(chat_server, receiver):
    lines = run_example(chat_server.port, new_user_id(), "--redirect-platform", "chat", "--redirect-channel", "C1")

    task_id = check_common_transcript(lines)
    assert json.loads(the(lines, "model calls redirect_task ")) == {
        "task_id": task_id, "channel_id": "C1", "platform": "chat",
    }
    answer = json.loads(the(lines, "redirect_task answered inline: "))
    assert answer["task_id"] == task_id
    assert answer["redirect"] == {"channel_id": "C1", "platform": "chat", "delivery_state": "pending"}

    try:
        path, body = receiver.posts.get(timeout=DELIVERY_WITHIN_S)
    except queue.Empty:
        pytest.fail(f"the webhook got nothing within {DELIVERY_WITHIN_S:.0f} s\n{chat_server.output_tail()}")
    assert path == "/hook"
    assert (body["platform"], body["channel_id"], body["task_id"]) == ("chat", "C1", task_id)
    assert (body["tool_name"], body["status"], body["truncated"]) == ("sleep", "completed", False)
    assert body["text"] == f"[sleep] task {task_id} completed:\nslept 2 s"
    assert receiver.posts.empty(), "the result was delivered more than once"
