"""TaskService behaviour as a Python client sees it through the generated stubs."""

from __future__ import annotations

import json
import time
import uuid

import grpc
import pytest

from taskmanager.v1 import task_pb2, task_service_pb2 as pb

# Every call carries a deadline so a misbehaving server fails a test instead
# of hanging the suite.
RPC_TIMEOUT_S = 10.0
# Short enough that a 1 s+ sleep is always backgrounded, long enough that the
# call itself is not racing the server's own bookkeeping.
BACKGROUND_BUDGET_S = 0.2

RUNNING = task_pb2.TASK_STATUS_RUNNING
COMPLETED = task_pb2.TASK_STATUS_COMPLETED
FAILED = task_pb2.TASK_STATUS_FAILED


def status_name(value: int) -> str:
    return task_pb2.TaskStatus.Name(value)


def kind_name(value: int) -> str:
    return pb.UpdateKind.Name(value)


def fresh_user() -> str:
    return f"py-{uuid.uuid4().hex}"


def execute(stub, tool, arguments, user_id, timeout_seconds=None, rpc_timeout=RPC_TIMEOUT_S):
    request = pb.ExecuteRequest(
        tool_name=tool,
        arguments_json=arguments if isinstance(arguments, str) else json.dumps(arguments),
        user_id=user_id,
    )
    if timeout_seconds is not None:
        request.timeout_seconds = timeout_seconds
    return stub.Execute(request, timeout=rpc_timeout)


def start_background_sleep(stub, user_id, seconds):
    response = execute(stub, "sleep", {"seconds": seconds}, user_id, timeout_seconds=BACKGROUND_BUDGET_S)
    # A precondition for the tests that use it; checked here so a failure
    # points at backgrounding rather than at whatever the test does next.
    assert response.backgrounded, f"sleep {seconds}s was not backgrounded: {response}"
    assert response.task.task_id
    return response.task


def await_all(stub, task_id, user_id, wait_seconds, rpc_timeout=RPC_TIMEOUT_S):
    request = pb.AwaitResultRequest(task_id=task_id, user_id=user_id, timeout_seconds=wait_seconds)
    return list(stub.AwaitResult(request, timeout=rpc_timeout))


def cancel_quietly(stub, task_id, user_id):
    # Cleanup only: the task may already have finished, which is not what
    # the calling test is about.
    try:
        stub.CancelTask(pb.CancelTaskRequest(task_id=task_id, user_id=user_id), timeout=RPC_TIMEOUT_S)
    except grpc.RpcError:
        pass


def assert_stream_shape(messages, task_id):
    assert messages, "AwaitResult ended without sending any message"
    assert messages[0].kind == pb.UPDATE_KIND_SNAPSHOT, kind_name(messages[0].kind)
    assert [m.sequence for m in messages] == list(range(1, len(messages) + 1))
    assert all(m.task.task_id == task_id for m in messages)
    for m in messages[:-1]:
        # Only the last message may close the stream.
        assert m.kind not in (pb.UPDATE_KIND_TERMINAL, pb.UPDATE_KIND_WAIT_TIMED_OUT), kind_name(m.kind)
        assert m.task.status == RUNNING, status_name(m.task.status)
        assert not m.wait_timed_out


def test_echo_settles_inline_and_returns_its_text_unchanged(stub, user_id):
    text = f"echo {uuid.uuid4().hex} with spaces, \"quotes\" and ünïcødé ✓"

    response = execute(stub, "echo", {"text": text}, user_id, timeout_seconds=5)

    assert not response.backgrounded
    assert response.task.status == COMPLETED, status_name(response.task.status)
    assert response.task.tool_name == "echo"
    assert response.text == text
    assert response.task.result == text


def test_failing_tool_settles_inline_as_failed_with_tool_error_and_its_message(stub, user_id):
    message = f"deliberate failure {uuid.uuid4().hex}"

    response = execute(stub, "fail", {"message": message}, user_id, timeout_seconds=5)

    assert not response.backgrounded
    assert response.task.status == FAILED, status_name(response.task.status)
    assert response.task.failure_reason == task_pb2.FAILURE_REASON_TOOL_ERROR
    assert response.task.error == message
    assert message in response.text


def test_sleep_past_its_budget_is_backgrounded_and_await_streams_it_to_completion(stub, user_id):
    started = time.monotonic()
    response = execute(stub, "sleep", {"seconds": 2}, user_id, timeout_seconds=0.3)
    execute_elapsed = time.monotonic() - started

    assert response.backgrounded
    # Backgrounding means answering at the budget, not after the tool.
    assert execute_elapsed < 1.5, f"Execute took {execute_elapsed:.2f}s for a 0.3s budget"
    task_id = response.task.task_id
    assert task_id
    assert response.task.status == RUNNING, status_name(response.task.status)

    envelope = json.loads(response.text)
    assert isinstance(envelope, dict), response.text
    assert envelope["task_id"] == task_id
    assert envelope["status"] == "running"
    assert envelope["tool_name"] == "sleep"
    assert "check_task" in envelope["message"]

    messages = await_all(stub, task_id, user_id, wait_seconds=30, rpc_timeout=30)
    finished = time.monotonic() - started

    assert_stream_shape(messages, task_id)
    last = messages[-1]
    assert last.kind == pb.UPDATE_KIND_TERMINAL, kind_name(last.kind)
    assert not last.wait_timed_out
    assert last.task.status == COMPLETED, status_name(last.task.status)
    assert last.text == last.task.result
    assert last.text.startswith("slept"), last.text
    # The terminal state must come from the tool actually finishing.
    assert finished >= 1.9, f"terminal after {finished:.2f}s for a 2s sleep"

    after = stub.GetResult(pb.GetResultRequest(task_id=task_id, user_id=user_id), timeout=RPC_TIMEOUT_S)
    assert after.task.status == COMPLETED
    assert after.text == last.text


def test_await_with_a_wait_limit_shorter_than_the_task_ends_with_wait_timed_out_while_running(stub, user_id):
    task = start_background_sleep(stub, user_id, seconds=5)
    try:
        started = time.monotonic()
        messages = await_all(stub, task.task_id, user_id, wait_seconds=0.5)
        elapsed = time.monotonic() - started

        assert_stream_shape(messages, task.task_id)
        last = messages[-1]
        assert last.wait_timed_out
        assert last.kind == pb.UPDATE_KIND_WAIT_TIMED_OUT, kind_name(last.kind)
        assert last.task.status == RUNNING, status_name(last.task.status)
        # The stream must end at the wait limit, not when the task ends.
        assert elapsed < 3.5, f"AwaitResult with a 0.5s limit took {elapsed:.2f}s"
    finally:
        cancel_quietly(stub, task.task_id, user_id)


def test_list_tasks_pages_newest_first_through_only_this_users_background_tasks(stub, user_id):
    # Noise the listing must leave out: another user's task and an inline call.
    start_background_sleep(stub, fresh_user(), seconds=1)
    inline = execute(stub, "echo", {"text": "inline"}, user_id, timeout_seconds=5)
    assert not inline.backgrounded

    created = [start_background_sleep(stub, user_id, seconds=1).task_id for _ in range(3)]
    newest_first = list(reversed(created))

    first = stub.ListTasks(pb.ListTasksRequest(user_id=user_id, page_size=2), timeout=RPC_TIMEOUT_S)
    assert [t.task_id for t in first.tasks] == newest_first[:2]
    assert first.next_page_token, "a third task remains, so the first page needs a token"

    second = stub.ListTasks(
        pb.ListTasksRequest(user_id=user_id, page_size=2, page_token=first.next_page_token),
        timeout=RPC_TIMEOUT_S,
    )
    assert [t.task_id for t in second.tasks] == newest_first[2:]
    assert second.next_page_token == ""

    for t in list(first.tasks) + list(second.tasks):
        assert t.user_id == user_id
        assert t.tool_name == "sleep"


def test_cancel_stops_a_running_task_as_failed_cancelled(stub, user_id):
    task = start_background_sleep(stub, user_id, seconds=30)

    cancelled = stub.CancelTask(pb.CancelTaskRequest(task_id=task.task_id, user_id=user_id), timeout=RPC_TIMEOUT_S)

    assert cancelled.task.task_id == task.task_id
    assert cancelled.task.status == FAILED, status_name(cancelled.task.status)
    assert cancelled.task.failure_reason == task_pb2.FAILURE_REASON_CANCELLED
    # The cancellation has to stick, not just be reported once.
    after = stub.GetResult(pb.GetResultRequest(task_id=task.task_id, user_id=user_id), timeout=RPC_TIMEOUT_S)
    assert after.task.status == FAILED, status_name(after.task.status)
    assert after.task.failure_reason == task_pb2.FAILURE_REASON_CANCELLED


def test_cancel_by_another_user_is_not_found_and_leaves_the_task_running(stub, user_id):
    task = start_background_sleep(stub, user_id, seconds=30)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            stub.CancelTask(pb.CancelTaskRequest(task_id=task.task_id, user_id=fresh_user()), timeout=RPC_TIMEOUT_S)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND

        after = stub.GetResult(pb.GetResultRequest(task_id=task.task_id, user_id=user_id), timeout=RPC_TIMEOUT_S)
        assert after.task.status == RUNNING, status_name(after.task.status)
    finally:
        cancel_quietly(stub, task.task_id, user_id)


@pytest.fixture
def owned_task(stub, user_id):
    task = start_background_sleep(stub, user_id, seconds=30)
    yield task
    cancel_quietly(stub, task.task_id, user_id)


def _execute_raw(tool, arguments_json):
    def call(stub, task, owner):
        return stub.Execute(
            pb.ExecuteRequest(tool_name=tool, arguments_json=arguments_json, user_id=owner),
            timeout=RPC_TIMEOUT_S,
        )
    return call


ERROR_CASES = [
    pytest.param(
        _execute_raw(f"no_such_tool_{uuid.uuid4().hex[:8]}", "{}"),
        grpc.StatusCode.NOT_FOUND,
        id="execute-unknown-tool-is-not-found",
    ),
    pytest.param(
        _execute_raw("echo", "[1]"),
        grpc.StatusCode.INVALID_ARGUMENT,
        id="execute-arguments-that-are-a-json-array-are-invalid",
    ),
    pytest.param(
        _execute_raw("echo", '{"text": '),
        grpc.StatusCode.INVALID_ARGUMENT,
        id="execute-arguments-that-are-not-json-are-invalid",
    ),
    pytest.param(
        _execute_raw("sleep", '{"seconds": "x"}'),
        grpc.StatusCode.INVALID_ARGUMENT,
        id="execute-arguments-failing-the-tool-schema-are-invalid",
    ),
    pytest.param(
        lambda stub, task, owner: stub.GetResult(
            pb.GetResultRequest(task_id="bad id!", user_id=owner), timeout=RPC_TIMEOUT_S),
        grpc.StatusCode.INVALID_ARGUMENT,
        id="get-result-with-a-malformed-task-id-is-invalid",
    ),
    pytest.param(
        lambda stub, task, owner: stub.GetResult(
            pb.GetResultRequest(task_id=task.task_id, user_id=fresh_user()), timeout=RPC_TIMEOUT_S),
        grpc.StatusCode.NOT_FOUND,
        id="get-result-for-another-users-task-is-not-found",
    ),
    pytest.param(
        lambda stub, task, owner: list(stub.AwaitResult(
            pb.AwaitResultRequest(task_id=task.task_id, user_id=fresh_user(), timeout_seconds=1),
            timeout=RPC_TIMEOUT_S)),
        grpc.StatusCode.NOT_FOUND,
        id="await-result-for-another-users-task-is-not-found",
    ),
    pytest.param(
        lambda stub, task, owner: stub.CancelTask(
            pb.CancelTaskRequest(task_id=task.task_id, user_id=fresh_user()), timeout=RPC_TIMEOUT_S),
        grpc.StatusCode.NOT_FOUND,
        id="cancel-for-another-users-task-is-not-found",
    ),
]


@pytest.mark.parametrize("call, expected", ERROR_CASES)
def test_bad_requests_fail_with_the_contract_status_code(stub, owned_task, user_id, call, expected):
    with pytest.raises(grpc.RpcError) as caught:
        call(stub, owned_task, user_id)
    assert caught.value.code() == expected, f"{caught.value.code()}: {caught.value.details()}"


def test_list_tools_offers_the_example_tools_and_the_meta_tools(stub):
    response = stub.ListTools(pb.ListToolsRequest(), timeout=RPC_TIMEOUT_S)

    names = [tool.name for tool in response.tools]
    assert len(names) == len(set(names)), f"duplicate tool names: {names}"
    missing = {"echo", "sleep", "fail", "check_task", "cancel_task", "redirect_task"} - set(names)
    assert not missing, f"missing tools {sorted(missing)} in {names}"

    by_name = {tool.name: tool for tool in response.tools}
    for name in ("echo", "sleep", "fail"):
        # Clients hand this schema to a model, so it has to be a JSON object.
        schema = json.loads(by_name[name].parameters_json_schema)
        assert isinstance(schema, dict), f"{name} schema: {by_name[name].parameters_json_schema!r}"
