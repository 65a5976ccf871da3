"""taskservice_client: its parts on their own, then both clients against a scripted TaskService.

The real server's behaviour is tested in test/clients/python/test_client.py;
here it is the client's own rules: which status becomes which exception,
what is retried and how often, how a broken AwaitResult stream is resumed.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
from datetime import datetime, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from scripted_task_service import UNAVAILABLE, Abort, task, update
from taskmanager.v1 import task_pb2, task_service_pb2 as pb

import taskservice_client as tc
import taskservice_worker
from taskservice_client._calls import AwaitPlan, encode_answer, encode_arguments
from taskservice_client.base import ClientBase
from taskservice_client.errors import error_class, from_rpc_error, settled
from taskservice_client.retry import Attempts, RetryPolicy

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
SNAPSHOT, PROGRESS, TERMINAL, TIMED_OUT = (
    pb.UPDATE_KIND_SNAPSHOT,
    pb.UPDATE_KIND_PROGRESS,
    pb.UPDATE_KIND_TERMINAL,
    pb.UPDATE_KIND_WAIT_TIMED_OUT,
)
COMPLETED, FAILED = task_pb2.TASK_STATUS_COMPLETED, task_pb2.TASK_STATUS_FAILED


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details="", trailers=()):
        self._code, self._details, self._trailers = code, details, trailers

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


# -- the package ---------------------------------------------------------------------------


def test_both_packages_carry_the_release_in_VERSION():
    version = (pathlib.Path(__file__).resolve().parents[3] / "VERSION").read_text().strip()
    assert tc.__version__ == taskservice_worker.__version__ == version


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, cls",
    [
        (grpc.StatusCode.INVALID_ARGUMENT, tc.InvalidArgument),
        (grpc.StatusCode.NOT_FOUND, tc.NotFound),
        (grpc.StatusCode.PERMISSION_DENIED, tc.PermissionDenied),
        (grpc.StatusCode.UNAUTHENTICATED, tc.Unauthenticated),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, tc.ResourceExhausted),
        (grpc.StatusCode.FAILED_PRECONDITION, tc.FailedPrecondition),
        (grpc.StatusCode.UNAVAILABLE, tc.Unavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, tc.DeadlineExceeded),
        (grpc.StatusCode.CANCELLED, tc.Cancelled),
        (grpc.StatusCode.UNIMPLEMENTED, tc.Unimplemented),
        (grpc.StatusCode.INTERNAL, tc.Internal),
        (grpc.StatusCode.ALREADY_EXISTS, tc.AlreadyExists),
    ],
)
def test_each_status_becomes_its_own_exception_with_message_and_reason(code, cls):
    error = from_rpc_error(FakeRpcError(code, "what to fix", [("x-other", "1"), ("error-reason", "TaskNotFound")]))
    assert type(error) is cls
    assert isinstance(error, tc.TaskServiceError)
    assert (error.code, error.message, error.reason) == (code, "what to fix", "TaskNotFound")
    assert str(error) == f"{code.name}: what to fix"


def test_a_status_without_a_class_is_the_base_error_and_a_missing_trailer_is_no_reason():
    error = from_rpc_error(FakeRpcError(grpc.StatusCode.DATA_LOSS, "gone"))
    assert type(error) is tc.TaskServiceError
    assert (error.code, error.message, error.reason) == (grpc.StatusCode.DATA_LOSS, "gone", "")
    assert error_class(grpc.StatusCode.ABORTED) is tc.TaskServiceError


def last_update(status, failure_reason=0, kind=TERMINAL, error=""):
    return tc.TaskUpdate.from_pb(
        update(kind, 3, status=status, text="the text", failure_reason=failure_reason, error=error, result="r")
    )


def test_a_settled_update_is_a_result_a_failure_or_a_timeout():
    done = settled(last_update(COMPLETED))
    assert (done.text, done.completed, done.task_id) == ("the text", True, "t-1")

    with pytest.raises(tc.ToolFailed) as failed:
        settled(last_update(FAILED, task_pb2.FAILURE_REASON_CANCELLED, error="cancelled by request"))
    assert failed.value.failure_reason is tc.FailureReason.CANCELLED
    assert (failed.value.error, failed.value.text, failed.value.code) == ("cancelled by request", "the text", None)
    assert "CANCELLED" in str(failed.value)

    with pytest.raises(tc.WaitTimedOut) as timed_out:
        settled(last_update(task_pb2.TASK_STATUS_RUNNING, kind=TIMED_OUT))
    assert timed_out.value.task.running
    assert isinstance(timed_out.value, tc.TaskServiceError)
    assert "still running" in str(timed_out.value)

    with pytest.raises(tc.WaitTimedOut) as waiting:
        settled(last_update(task_pb2.TASK_STATUS_INPUT_REQUIRED, kind=TIMED_OUT))
    assert waiting.value.task.input_required
    assert "waiting for input" in str(waiting.value)


# -- retry policy ---------------------------------------------------------------------------


def test_backoff_doubles_to_its_cap_and_jitter_keeps_half():
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=0.5, multiplier=2.0)
    assert [policy.backoff(n, 1.0) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert [policy.backoff(n, 0.0) for n in range(1, 4)] == pytest.approx([0.05, 0.1, 0.2])


def test_the_default_policy_waits_3_to_6_seconds_in_all_enough_for_a_server_restart():
    policy = RetryPolicy()
    retries = range(1, policy.max_attempts)
    assert sum(policy.backoff(n, 0.0) for n in retries) == pytest.approx(3.15)
    assert sum(policy.backoff(n, 1.0) for n in retries) == pytest.approx(6.3)
    assert policy.max_elapsed > 6.3


def unavailable():
    return FakeRpcError(grpc.StatusCode.UNAVAILABLE)


def test_attempts_allow_max_attempts_in_all():
    attempts = Attempts(RetryPolicy(max_attempts=3), "x", clock=FakeClock(), random_fraction=lambda: 1.0)
    assert attempts.retry_after(unavailable()) == pytest.approx(0.1)
    assert attempts.retry_after(unavailable()) == pytest.approx(0.2)
    assert attempts.retry_after(unavailable()) is None
    assert attempts.made == 3


def test_attempts_stop_when_the_next_retry_would_start_after_max_elapsed():
    clock = FakeClock()
    attempts = Attempts(RetryPolicy(max_attempts=10, max_elapsed=1.0), "x", clock=clock, random_fraction=lambda: 1.0)
    assert attempts.retry_after(unavailable()) == pytest.approx(0.1)
    clock.now += 0.85
    assert attempts.retry_after(unavailable()) is None  # 0.85 + 0.2 > 1.0
    attempts.reset()
    assert attempts.retry_after(unavailable()) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED],
)
def test_only_unavailable_is_retried(code):
    assert Attempts(RetryPolicy(), "x").retry_after(FakeRpcError(code)) is None


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"initial_backoff": -1},
        {"max_elapsed": float("inf")},
        {"multiplier": 0.5},
    ],
)
def test_bad_retry_policies_are_refused(settings):
    with pytest.raises(ValueError):
        RetryPolicy(**settings)


# -- requests and values ---------------------------------------------------------------


def test_arguments_are_sent_as_json_text():
    assert json.loads(encode_arguments({"text": "ünï", "n": 2})) == {"text": "ünï", "n": 2}
    assert encode_arguments('{"raw": "as the model wrote it"') == '{"raw": "as the model wrote it"'
    assert encode_arguments(None) == ""
    with pytest.raises(TypeError):
        encode_arguments([1, 2])
    with pytest.raises(ValueError):
        encode_arguments({"x": float("nan")})


def test_answers_are_sent_as_json_text():
    assert json.loads(encode_answer({"approve": True, "why": "ünï"})) == {"approve": True, "why": "ünï"}
    assert encode_answer('{"approve": true}') == '{"approve": true}'
    for bad in (None, ["yes"], True):
        with pytest.raises(TypeError):
            encode_answer(bad)
    with pytest.raises(ValueError):
        encode_answer({"x": float("inf")})


def test_an_await_reconnect_asks_only_for_what_remains_of_the_wait():
    clock = FakeClock()
    plan = AwaitPlan("t-1", "u", timeout_seconds=10, heartbeat_seconds=2, clock=clock)
    first = plan.request()
    clock.now += 4
    second = plan.request()
    clock.now += 20
    third = plan.request()
    assert (first.timeout_seconds, second.timeout_seconds) == (10, 6)
    assert 0 < third.timeout_seconds < 0.01  # over: the server answers WAIT_TIMED_OUT at once
    assert (second.task_id, second.user_id, second.heartbeat_seconds) == ("t-1", "u", 2)
    unlimited = AwaitPlan("t-1", "", None, None).request()
    assert not unlimited.HasField("timeout_seconds") and not unlimited.HasField("heartbeat_seconds")


def stamp(seconds):
    return Timestamp(seconds=seconds)


def test_a_task_message_becomes_typed_values():
    message = task(
        status=FAILED,
        failure_reason=task_pb2.FAILURE_REASON_HARD_TIMEOUT,
        error="too slow",
        user_id="u",
        created_at=stamp(1_700_000_000),
        progress=task_pb2.Progress(fraction=0.5, message="half", updated_at=stamp(1_700_000_001)),
        redirect=task_pb2.OutputRedirect(
            channel_id="C1", platform="chat", delivery_state=task_pb2.DELIVERY_STATE_FAILED, attempts=3
        ),
    )
    value = tc.Task.from_pb(message)
    assert (value.status, value.failure_reason) == (tc.TaskStatus.FAILED, tc.FailureReason.HARD_TIMEOUT)
    assert value.failed and value.finished and not value.running
    assert value.created_at == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    assert value.finished_at is None  # unset, not the epoch
    assert value.progress == tc.Progress(0.5, "half", datetime.fromtimestamp(1_700_000_001, timezone.utc))
    assert value.redirect.delivery_state is tc.DeliveryState.FAILED
    assert value.redirect.delivered_at is None
    assert tc.Task.from_pb(task()).progress is None and tc.Task.from_pb(task()).redirect is None


def test_a_task_waiting_for_input_becomes_typed_values():
    schema = {"type": "object", "properties": {"approve": {"type": "boolean"}}, "required": ["approve"]}
    question = task_pb2.InputRequest(
        id="input-2", message="Deploy?", schema_json=json.dumps(schema), requested_at=stamp(1_700_000_002)
    )
    value = tc.Task.from_pb(task(status=task_pb2.TASK_STATUS_INPUT_REQUIRED, input_request=question))

    assert value.status is tc.TaskStatus.INPUT_REQUIRED
    assert value.input_required and not value.running and not value.finished
    assert value.input_request == tc.InputRequest(
        id="input-2",
        message="Deploy?",
        schema_json=json.dumps(schema),
        requested_at=datetime.fromtimestamp(1_700_000_002, timezone.utc),
    )
    assert value.input_request.schema == schema
    assert tc.Task.from_pb(task()).input_request is None
    assert tc.InputRequest("input-1", "?", "", None).schema == {}

    timed_out = tc.Task.from_pb(task(status=FAILED, failure_reason=task_pb2.FAILURE_REASON_INPUT_TIMEOUT))
    assert timed_out.failure_reason is tc.FailureReason.INPUT_TIMEOUT
    entered = tc.TaskUpdate.from_pb(update(pb.UPDATE_KIND_INPUT, 2, status=task_pb2.TASK_STATUS_INPUT_REQUIRED))
    assert entered.kind is tc.UpdateKind.INPUT and entered.task.input_required and not entered.last


def test_an_enum_value_from_a_newer_server_is_unspecified():
    value = tc.Task.from_pb(task(status=9, failure_reason=42))
    assert (value.status, value.failure_reason) == (tc.TaskStatus.UNSPECIFIED, tc.FailureReason.UNSPECIFIED)


def test_client_settings_are_checked_and_the_channel_reconnects_on_the_retry_schedule():
    for bad in ({"token": "two words"}, {"token": ""}, {"timeout": 0}, {"retry": 3}):
        with pytest.raises((ValueError, TypeError)):
            ClientBase("127.0.0.1:1", **bad)
    with pytest.raises(ValueError):
        ClientBase("")
    base = ClientBase(
        "127.0.0.1:1",
        retry=RetryPolicy(initial_backoff=0.25, max_backoff=3),
        options=[("grpc.max_reconnect_backoff_ms", 777), ("grpc.primary_user_agent", "me")],
    )
    assert dict(base._options) == {
        "grpc.initial_reconnect_backoff_ms": 250,
        "grpc.min_reconnect_backoff_ms": 250,
        "grpc.max_reconnect_backoff_ms": 777,  # the caller's options win
        "grpc.primary_user_agent": "me",
    }


# -- against a scripted server: both clients ------------------------------------------------


TOOLS = pb.ListToolsResponse(tools=[pb.ToolInfo(name="echo", parameters_json_schema='{"type": "object"}')])


def test_unavailable_is_retried_until_the_server_answers(task_service, clients):
    task_service.script("ListTools", UNAVAILABLE, UNAVAILABLE, TOOLS)
    tools = clients(task_service.address, retry=FAST).list_tools()
    assert [(t.name, t.parameters) for t in tools] == [("echo", {"type": "object"})]
    assert task_service.attempts("ListTools") == 3


def test_retries_stop_after_max_attempts_with_unavailable(task_service, clients):
    task_service.script("GetResult", *[UNAVAILABLE] * 10)
    with pytest.raises(tc.Unavailable) as caught:
        clients(task_service.address, retry=FAST).get_result("t-1")
    assert caught.value.message == "scripted: try again"
    assert task_service.attempts("GetResult") == 3


def test_no_retry_policy_tries_once(task_service, clients):
    task_service.script("ListTools", UNAVAILABLE, TOOLS)
    with pytest.raises(tc.Unavailable):
        clients(task_service.address, retry=tc.NO_RETRY).list_tools()
    assert task_service.attempts("ListTools") == 1


@pytest.mark.parametrize(
    "method, call, answer",
    [
        ("GetResult", lambda c: c.get_result("t-1"), pb.GetResultResponse(task=task())),
        ("ListTasks", lambda c: c.list_tasks(), pb.ListTasksResponse()),
        ("CancelTask", lambda c: c.cancel("t-1"), pb.CancelTaskResponse(task=task())),
        ("SetOutputRedirect", lambda c: c.set_output_redirect("t-1", "C1", "chat"), pb.SetOutputRedirectResponse()),
        ("Execute", lambda c: c.execute("echo", request_id="r-1"), pb.ExecuteResponse(task=task(status=COMPLETED))),
        ("GetServerInfo", lambda c: c.server_info(), pb.GetServerInfoResponse(version="0.2.0")),
    ],
)
def test_idempotent_calls_are_retried(task_service, clients, method, call, answer):
    task_service.script(method, UNAVAILABLE, answer)
    call(clients(task_service.address, retry=FAST))
    assert task_service.attempts(method) == 2


def test_execute_without_a_request_id_is_not_retried(task_service, clients):
    # The tool may already be running: a second Execute would run it twice.
    task_service.script("Execute", UNAVAILABLE, pb.ExecuteResponse())
    with pytest.raises(tc.Unavailable):
        clients(task_service.address, retry=FAST).execute("echo", {"text": "x"})
    assert task_service.attempts("Execute") == 1


def test_provide_input_is_never_retried(task_service, clients):
    # The server may have taken the answer: a repeat would be FAILED_PRECONDITION, not the answer's outcome.
    task_service.script("ProvideInput", UNAVAILABLE, pb.ProvideInputResponse(task=task()))
    with pytest.raises(tc.Unavailable):
        clients(task_service.address, retry=FAST).provide_input("t-1", "input-1", {"approve": True})
    assert task_service.attempts("ProvideInput") == 1


@pytest.mark.parametrize(
    "code, cls",
    [
        (grpc.StatusCode.INVALID_ARGUMENT, tc.InvalidArgument),
        (grpc.StatusCode.FAILED_PRECONDITION, tc.FailedPrecondition),
        (grpc.StatusCode.NOT_FOUND, tc.NotFound),
    ],
)
def test_a_refused_answer_raises_its_status_at_once(task_service, clients, code, cls):
    task_service.script("ProvideInput", Abort(code, "response_json.approve: must be boolean"))
    with pytest.raises(cls) as caught:
        clients(task_service.address, retry=FAST).provide_input("t-1", "input-1", {"approve": "yes"})
    assert caught.value.message == "response_json.approve: must be boolean"
    assert task_service.attempts("ProvideInput") == 1


def test_provide_input_sends_every_field_and_a_handle_answers_for_its_user(task_service, clients):
    waiting = task(
        status=task_pb2.TASK_STATUS_INPUT_REQUIRED,
        input_request=task_pb2.InputRequest(id="input-1", message="Go?", schema_json='{"type": "object"}'),
    )
    task_service.script("Execute", pb.ExecuteResponse(backgrounded=True, task=waiting, text="{}"))
    task_service.script(
        "ProvideInput",
        pb.ProvideInputResponse(task=task(progress=task_pb2.Progress(fraction=0.25))),
        pb.ProvideInputResponse(task=task(status=COMPLETED, result="went")),
    )
    client = clients(task_service.address)

    answered = client.provide_input("t-1", "input-1", {"go": True, "by": "ünï"}, user_id="bob")
    handle = client.execute("slow", user_id="alice")
    assert handle.task.input_request.id == "input-1" and handle.task.input_required
    by_handle = handle.provide_input("input-1", '{"go": false}')

    assert (answered.status, answered.progress.fraction, answered.input_request) == (tc.TaskStatus.RUNNING, 0.25, None)
    assert (by_handle.status, by_handle.result) == (tc.TaskStatus.COMPLETED, "went")
    first, second = (received.request for received in task_service.received["ProvideInput"])
    assert (first.task_id, first.user_id, first.input_request_id) == ("t-1", "bob", "input-1")
    assert json.loads(first.response_json) == {"go": True, "by": "ünï"}
    assert second == pb.ProvideInputRequest(
        task_id="t-1", user_id="alice", input_request_id="input-1", response_json='{"go": false}'
    )


def test_an_answer_status_is_raised_at_once_with_its_reason(task_service, clients):
    task_service.script("GetResult", Abort(grpc.StatusCode.NOT_FOUND, "task t-9 not found", "TaskNotFound"))
    with pytest.raises(tc.NotFound) as caught:
        clients(task_service.address, retry=FAST).get_result("t-9")
    assert (caught.value.message, caught.value.reason) == ("task t-9 not found", "TaskNotFound")
    assert task_service.attempts("GetResult") == 1


def test_execute_sends_every_field_and_a_backgrounded_answer_is_a_handle_acting_for_the_user(task_service, clients):
    envelope = '{"task_id": "t-1", "status": "running"}'
    task_service.script("Execute", pb.ExecuteResponse(backgrounded=True, task=task(), text=envelope))
    task_service.script("GetResult", pb.GetResultResponse(task=task(), text="still running"))
    client = clients(task_service.address, token="0123456789abcdef0123", metadata={"X-Team": "infra"})

    handle = client.execute(
        "slow",
        {"n": 1},
        user_id="alice",
        channel_id="C1",
        platform="chat",
        budget_seconds=0.5,
        request_id="r-1",
        redirect=tc.RedirectTarget("C2", "hooks", max_chars=100),
    )

    assert handle.backgrounded and not isinstance(handle, tc.Result)
    assert (handle.task_id, handle.text, handle.user_id) == ("t-1", envelope, "alice")
    assert handle.get().text == "still running"
    sent = task_service.received["Execute"][0]
    assert sent.request == pb.ExecuteRequest(
        tool_name="slow",
        arguments_json='{"n": 1}',
        user_id="alice",
        channel_id="C1",
        platform="chat",
        timeout_seconds=0.5,
        request_id="r-1",
        redirect=pb.RedirectTarget(channel_id="C2", platform="hooks", max_chars=100),
    )
    assert sent.metadata["authorization"] == "Bearer 0123456789abcdef0123"
    assert sent.metadata["x-team"] == "infra"
    assert task_service.received["GetResult"][0].request == pb.GetResultRequest(task_id="t-1", user_id="alice")


def test_timeout_seconds_still_sets_the_budget_with_a_deprecation_warning_and_not_beside_budget_seconds(
    task_service, clients
):
    task_service.script("Execute", pb.ExecuteResponse(task=task("", status=COMPLETED, result="hi"), text="hi"))
    client = clients(task_service.address)
    with pytest.warns(DeprecationWarning, match="budget_seconds"):
        client.execute("echo", timeout_seconds=0.25)
    assert task_service.received["Execute"][0].request.timeout_seconds == 0.25
    with pytest.raises(TypeError, match="not both"):
        client.execute("echo", budget_seconds=1, timeout_seconds=1)
    assert task_service.attempts("Execute") == 1


def test_an_inline_answer_is_a_result_and_no_budget_leaves_timeout_unset(task_service, clients):
    task_service.script("Execute", pb.ExecuteResponse(task=task("", status=COMPLETED, result="hi"), text="hi"))
    result = clients(task_service.address).execute("echo")
    assert isinstance(result, tc.Result) and not result.backgrounded
    assert (result.text, result.completed) == ("hi", True)
    sent = task_service.received["Execute"][0]
    assert not sent.request.HasField("timeout_seconds") and sent.request.arguments_json == ""
    assert "authorization" not in sent.metadata


def test_await_result_reconnects_after_unavailable_and_resumes_with_a_snapshot(task_service, clients):
    task_service.script(
        "AwaitResult",
        [update(SNAPSHOT, 1), update(PROGRESS, 2), UNAVAILABLE],
        [UNAVAILABLE],
        [update(SNAPSHOT, 1), update(TERMINAL, 2, status=COMPLETED, text="done")],
    )
    updates = list(clients(task_service.address, retry=FAST).await_result("t-1", "u", timeout_seconds=30))
    assert [(u.kind, u.sequence) for u in updates] == [
        (tc.UpdateKind.SNAPSHOT, 1),
        (tc.UpdateKind.PROGRESS, 2),
        (tc.UpdateKind.SNAPSHOT, 1),
        (tc.UpdateKind.TERMINAL, 2),
    ]
    assert updates[-1].last and updates[-1].text == "done"
    requests = [r.request for r in task_service.received["AwaitResult"]]
    assert len(requests) == 3
    assert all(r.task_id == "t-1" and r.user_id == "u" for r in requests)
    assert 29 < requests[0].timeout_seconds <= 30
    assert 0 < requests[2].timeout_seconds < requests[1].timeout_seconds < requests[0].timeout_seconds


def test_await_result_gives_up_after_max_attempts_without_progress(task_service, clients):
    # A snapshot alone is no progress: a server that breaks every stream right after it must not be retried forever.
    task_service.script("AwaitResult", *[[update(SNAPSHOT, 1), UNAVAILABLE]] * 10)
    client = clients(task_service.address, retry=FAST)
    with pytest.raises(tc.Unavailable):
        list(client.await_result("t-1"))
    assert task_service.attempts("AwaitResult") == 3


def test_a_stream_that_ends_before_the_last_update_is_resumed(task_service, clients):
    task_service.script("AwaitResult", [update(SNAPSHOT, 1)], [update(TERMINAL, 1, status=COMPLETED, text="r")])
    assert clients(task_service.address, retry=FAST).wait("t-1").text == "r"
    assert task_service.attempts("AwaitResult") == 2


def test_await_result_does_not_retry_not_found(task_service, clients):
    task_service.script("AwaitResult", [Abort(grpc.StatusCode.NOT_FOUND, "task t-1 not found")])
    with pytest.raises(tc.NotFound):
        clients(task_service.address, retry=FAST).wait("t-1")
    assert task_service.attempts("AwaitResult") == 1


def test_wait_raises_tool_failed_and_wait_timed_out(task_service, clients):
    failed = update(TERMINAL, 2, status=FAILED, failure_reason=task_pb2.FAILURE_REASON_TOOL_ERROR, error="boom")
    task_service.script(
        "AwaitResult",
        [update(SNAPSHOT, 1), failed],
        [update(SNAPSHOT, 1), update(TIMED_OUT, 2)],
    )
    client = clients(task_service.address)
    with pytest.raises(tc.ToolFailed) as caught:
        client.wait("t-1")
    assert (caught.value.failure_reason, caught.value.error) == (tc.FailureReason.TOOL_ERROR, "boom")
    with pytest.raises(tc.WaitTimedOut):
        client.wait("t-1", timeout_seconds=1)


def test_iter_tasks_follows_the_page_tokens(task_service, clients):
    task_service.script(
        "ListTasks",
        pb.ListTasksResponse(tasks=[task("a"), task("b")], next_page_token="p2"),
        pb.ListTasksResponse(tasks=[task("c")]),
    )
    tasks = list(clients(task_service.address).iter_tasks("u", status=tc.TaskStatus.RUNNING, page_size=2))
    assert [t.task_id for t in tasks] == ["a", "b", "c"]
    requests = [r.request for r in task_service.received["ListTasks"]]
    assert [(r.page_token, r.page_size, r.status, r.user_id) for r in requests] == [
        ("", 2, task_pb2.TASK_STATUS_RUNNING, "u"),
        ("p2", 2, task_pb2.TASK_STATUS_RUNNING, "u"),
    ]


def test_server_info_is_the_servers_release_and_an_older_server_is_unimplemented(task_service, clients):
    info = pb.GetServerInfoResponse(version="0.3.0", api_packages=["taskmanager.v1", "taskmanager.v2"])
    task_service.script("GetServerInfo", info, Abort(grpc.StatusCode.UNIMPLEMENTED, "unknown method GetServerInfo"))
    client = clients(task_service.address, retry=FAST)
    assert client.server_info() == tc.ServerInfo(version="0.3.0", api_packages=("taskmanager.v1", "taskmanager.v2"))
    with pytest.raises(tc.Unimplemented):
        client.server_info()
    assert task_service.attempts("GetServerInfo") == 2


def test_an_async_client_made_outside_a_loop_binds_to_the_loop_of_its_first_call(task_service):
    task_service.script("ListTools", TOOLS, TOOLS)
    client = tc.AsyncClient(task_service.address)  # no loop runs here

    assert [t.name for t in asyncio.run(client.list_tools())] == ["echo"]
    with pytest.raises(RuntimeError, match="event loop of its first call"):
        asyncio.run(client.list_tools())
    assert task_service.attempts("ListTools") == 1
