"""taskservice_client (Client and AsyncClient) against the real TaskService.

Each test that takes ``clients`` runs twice: with the blocking Client and
with the AsyncClient (driven through client_bridge.Synced, so the test body
is the same). The client's own retry and reconnect rules are tested against
a scripted server in clients/python/tests; here they meet the real thing.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from conftest import ServerProcess, free_port

import taskservice_client as tc

# Short enough that a 1 s+ sleep is always backgrounded.
BUDGET_S = 0.3
TOKEN = "0123456789abcdef0123"


def background_sleep(client, user_id, seconds):
    handle = client.execute("sleep", {"seconds": seconds}, user_id=user_id, timeout_seconds=BUDGET_S)
    # A precondition of the tests that use it, checked here so that a failure points at backgrounding.
    assert handle.backgrounded, f"sleep {seconds} s answered inline: {handle}"
    return handle


@pytest.fixture
def client(server, clients):
    return clients(f"127.0.0.1:{server.port}")


def test_echo_settles_inline_as_a_result(client, user_id):
    text = f"echo {uuid.uuid4().hex} ünïcødé ✓"

    outcome = client.execute("echo", {"text": text}, user_id=user_id, timeout_seconds=5)

    assert isinstance(outcome, tc.Result)
    assert not outcome.backgrounded
    assert outcome.text == text
    assert outcome.completed and outcome.task.result == text
    assert outcome.task.tool_name == "echo"
    assert outcome.task_id == ""  # inline calls without a request_id are not stored


def test_a_failing_tool_is_a_failed_result_not_an_exception(client, user_id):
    outcome = client.execute("fail", {"message": "deliberate"}, user_id=user_id, timeout_seconds=5)

    assert isinstance(outcome, tc.Result)
    assert outcome.failed and outcome.task.failure_reason is tc.FailureReason.TOOL_ERROR
    assert outcome.text == "Error: deliberate"


def test_a_slow_sleep_becomes_a_handle_and_await_result_streams_progress_to_terminal(client, user_id):
    started = time.monotonic()
    handle = client.execute("sleep", {"seconds": 2}, user_id=user_id, timeout_seconds=BUDGET_S)
    answered = time.monotonic() - started

    assert handle.backgrounded and not isinstance(handle, tc.Result)
    assert answered < 1.5, f"Execute took {answered:.2f} s for a {BUDGET_S} s budget"
    assert handle.task.running and handle.user_id == user_id
    envelope = json.loads(handle.text)
    assert envelope["task_id"] == handle.task_id and envelope["status"] == "running"

    updates = list(handle.await_result())
    finished = time.monotonic() - started

    kinds = [u.kind for u in updates]
    assert kinds[0] is tc.UpdateKind.SNAPSHOT
    assert kinds[-1] is tc.UpdateKind.TERMINAL
    assert set(kinds[1:-1]) <= {tc.UpdateKind.PROGRESS, tc.UpdateKind.HEARTBEAT}
    fractions = [u.task.progress.fraction for u in updates if u.kind is tc.UpdateKind.PROGRESS]
    assert fractions and fractions == sorted(fractions) and 0 < fractions[-1] < 1, fractions
    assert [u.sequence for u in updates] == list(range(1, len(updates) + 1))
    assert all(u.task.running for u in updates[:-1])
    last = updates[-1]
    assert last.last and last.task.completed and last.text == "slept 2 s"
    assert finished >= 1.9, f"terminal after {finished:.2f} s for a 2 s sleep"


def test_wait_returns_the_result_once_the_task_completed(client, user_id):
    handle = background_sleep(client, user_id, seconds=1)

    result = handle.wait()

    assert isinstance(result, tc.Result)
    assert result.text == "slept 1 s" and result.completed
    assert result.task_id == handle.task_id and result.task.finished_at is not None
    # A finished task answers at once, and the same.
    assert handle.result() == "slept 1 s"
    assert handle.get().text == "slept 1 s"


def test_cancel_makes_the_handle_report_failed_cancelled(client, user_id):
    handle = background_sleep(client, user_id, seconds=30)

    cancelled = handle.cancel()

    assert cancelled.task_id == handle.task_id
    assert cancelled.failed and cancelled.failure_reason is tc.FailureReason.CANCELLED
    now = handle.get()
    assert now.task.failed and now.task.failure_reason is tc.FailureReason.CANCELLED
    assert json.loads(now.text)["failure_reason"] == "cancelled"
    with pytest.raises(tc.ToolFailed) as caught:
        handle.wait()
    assert caught.value.failure_reason is tc.FailureReason.CANCELLED
    assert caught.value.task.task_id == handle.task_id
    # Cancelling again is a no-op, so it is safe to retry.
    assert handle.cancel().failure_reason is tc.FailureReason.CANCELLED


def test_a_wait_limit_shorter_than_the_task_raises_wait_timed_out_and_the_task_runs_on(client, user_id):
    handle = background_sleep(client, user_id, seconds=30)
    try:
        started = time.monotonic()
        with pytest.raises(tc.WaitTimedOut) as caught:
            handle.wait(timeout_seconds=0.5)
        assert time.monotonic() - started < 3
        assert caught.value.task.running
        assert handle.get().task.running
    finally:
        handle.cancel()


def test_an_unknown_task_is_not_found_on_every_call(client, user_id):
    unknown = f"no-such-task-{uuid.uuid4().hex[:8]}"
    for call in (
        lambda: client.get_result(unknown, user_id),
        lambda: client.wait(unknown, user_id),
        lambda: client.cancel(unknown, user_id),
    ):
        with pytest.raises(tc.NotFound) as caught:
            call()
        assert caught.value.reason == "TaskNotFound"
        assert unknown in caught.value.message


def test_another_users_task_is_not_found(client, user_id):
    handle = background_sleep(client, user_id, seconds=30)
    try:
        with pytest.raises(tc.NotFound):
            client.get_result(handle.task_id, f"{user_id}-other")
    finally:
        handle.cancel()


def test_bad_arguments_are_invalid_argument_and_an_unknown_tool_not_found(client, user_id):
    with pytest.raises(tc.InvalidArgument) as bad:
        client.execute("sleep", {"seconds": "two"}, user_id=user_id)
    assert "seconds" in bad.value.message and bad.value.reason == "InvalidArgument"

    with pytest.raises(tc.InvalidArgument):
        client.execute("echo", '{"text": ', user_id=user_id)  # a model's broken JSON, sent as is

    with pytest.raises(tc.NotFound) as unknown:
        client.execute("no_such_tool", {}, user_id=user_id)
    assert unknown.value.reason == "ToolNotFound"


def test_list_tasks_pages_newest_first_and_iter_tasks_walks_every_page(client, user_id):
    handles = [background_sleep(client, user_id, seconds=30) for _ in range(3)]
    newest_first = [handle.task_id for handle in reversed(handles)]
    try:
        first = client.list_tasks(user_id, page_size=2)
        assert [t.task_id for t in first.tasks] == newest_first[:2]
        assert first.next_page_token
        second = client.list_tasks(user_id, page_size=2, page_token=first.next_page_token)
        assert [t.task_id for t in second.tasks] == newest_first[2:]
        assert second.next_page_token == ""
        assert [entry["task_id"] for entry in json.loads(first.text)] == newest_first[:2]

        assert [t.task_id for t in client.iter_tasks(user_id, page_size=2)] == newest_first
        assert [t.task_id for t in client.iter_tasks(user_id, status=tc.TaskStatus.RUNNING)] == newest_first
        assert list(client.iter_tasks(user_id, status=tc.TaskStatus.COMPLETED)) == []
        assert list(client.iter_tasks(user_id, tool_name="echo")) == []
    finally:
        for handle in handles:
            handle.cancel()


def test_list_tools_describes_the_example_and_meta_tools(client):
    tools = {tool.name: tool for tool in client.list_tools()}

    assert {"echo", "sleep", "fail", "check_task", "cancel_task", "redirect_task"} <= set(tools)
    assert tools["sleep"].parameters["properties"]["seconds"]["type"] == "number"
    assert tools["check_task"].no_background and tools["check_task"].source == "meta"
    assert tools["echo"].source == "example" and tools["echo"].default_timeout_seconds > 0


# -- retries --------------------------------------------------------------------------


def test_a_closed_port_raises_unavailable_after_the_configured_attempts(clients):
    policy = tc.RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)
    counter, attempts = clients.counting_interceptor()
    client = clients(f"127.0.0.1:{free_port()}", retry=policy, interceptors=[counter])

    with pytest.raises(tc.Unavailable):
        client.list_tools()
    assert attempts() == ["/taskmanager.v1.TaskService/ListTools"] * 3

    with pytest.raises(tc.Unavailable):
        client.execute("echo", {"text": "x"})  # no request_id: never retried
    with pytest.raises(tc.Unavailable):
        client.execute("echo", {"text": "x"}, request_id="r-1")
    assert attempts()[3:] == ["/taskmanager.v1.TaskService/Execute"] * 4


def test_a_call_made_while_the_server_starts_succeeds_once_it_listens(clients):
    port = free_port()
    policy = tc.RetryPolicy(max_attempts=200, initial_backoff=0.05, max_backoff=0.2, max_elapsed=30)
    counter, attempts = clients.counting_interceptor()
    client = clients(f"127.0.0.1:{port}", retry=policy, interceptors=[counter])
    late = ServerProcess({"TASKSERVICE_ADDR": f"127.0.0.1:{port}"})
    starter = threading.Thread(target=late.start)
    try:
        starter.start()
        names = {tool.name for tool in client.list_tools()}
    finally:
        starter.join()
        problem = late.stop()
    assert "echo" in names
    assert len(attempts()) > 1, "the server was up before the first call: nothing was retried"
    assert not problem, problem


# -- authentication -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_server(start_server):
    tokens = json.dumps({"t": {"token": TOKEN, "users": "*"}})
    with start_server(TASKSERVICE_AUTH_TOKENS=tokens) as srv:
        yield srv


def test_the_token_is_sent_as_bearer_metadata(auth_server, clients, user_id):
    address = f"127.0.0.1:{auth_server.port}"

    with pytest.raises(tc.Unauthenticated) as missing:
        clients(address).list_tools()
    assert "missing credentials" in missing.value.message
    with pytest.raises(tc.Unauthenticated):
        clients(address, token="not-the-token-at-all").list_tools()

    client = clients(address, token=TOKEN)
    assert "echo" in {tool.name for tool in client.list_tools()}
    handle = background_sleep(client, user_id, seconds=0.5)
    assert handle.wait().text == "slept 0.5 s"  # the handle's calls and the stream carry it too


# A stream read to its last message must end by the server's status, not by a cancel: a cancel sends a RST_STREAM,
# and the server's HTTP/2 (nghttp2's rapid-reset guard) closes a connection that receives more than about a
# thousand of them in a burst, failing every call on it. So 2,000 follows over one channel. (The TypeScript and Go
# clients had this bug; grpcio has its status by the time it hands over the last message, so these guard it.)
FOLLOWS = 2000


def test_a_task_can_be_followed_to_its_end_2000_times_over_one_channel(client, user_id):
    handle = client.execute("sleep", {"seconds": 0.05}, user_id=user_id, budget_seconds=0.001)
    assert handle.backgrounded

    terminal = sum(1 for _ in range(FOLLOWS) if list(handle.await_result())[-1].kind is tc.UpdateKind.TERMINAL)

    assert terminal == FOLLOWS


def test_execute_stream_can_be_read_to_its_answer_2000_times_over_one_channel(client, user_id):
    answers = 0
    for _ in range(FOLLOWS):
        for event in client.execute_stream("echo", {"text": "hi"}, user_id=user_id):
            assert isinstance(event, tc.Result) and event.text == "hi"
            answers += 1
            break

    assert answers == FOLLOWS
