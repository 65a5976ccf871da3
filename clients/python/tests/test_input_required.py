"""Questions end to end (input-required): a Python worker's tool asks, a Python client answers.

Against the real TaskService of this checkout (real_server.py), one server
for the module. Each test starts its own worker (of the ``kind`` fixture:
Worker or AsyncWorker) with tools under names of its own, so that no test
depends on another test's worker having left the server.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

import pytest
from harness import HARNESSES, WAIT_S, wait_until
from real_server import TaskServiceProcess, unavailable_reason

import taskservice_client as tc
from taskservice_worker import InputRequestError, InvocationCancelled

SHIP_SCHEMA = {
    "type": "object",
    "properties": {"ship": {"type": "boolean"}, "note": {"type": "string"}},
    "required": ["ship"],
}
ITEM_PARAMETERS = {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}
# Execute's budget: far longer than any test waits, so a quick answer can only
# mean the call was backgrounded at the question.
BUDGET_S = 30.0


@pytest.fixture(scope="module")
def taskservice():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"the real TaskService cannot run here: {reason}")
    try:
        srv = TaskServiceProcess().start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield srv
    srv.stop()


@pytest.fixture
def user_id():
    return f"py-{uuid.uuid4().hex}"


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def serve(taskservice, probe):
    """serve(kind, define) -> a Worker ("sync") or AsyncWorker ("async") on the real server,
    running the tools define(worker) declares, once the server lists them. Stopped at teardown."""
    started = []

    def start(kind, define, **options):
        harness = HARNESSES[kind](taskservice.address, probe, tools=False, name=f"input-{kind}", **options)
        define(harness.worker)
        started.append(harness.start())
        names = [tool.name for tool in harness.worker.tools]
        with tc.Client(taskservice.address) as client:
            wait_until(
                lambda: {t.name: t.workers for t in client.list_tools() if t.name in names} == dict.fromkeys(names, 1),
                what=f"the server lists {names}",
            )
        return harness

    yield start
    probe.gate.set()
    for harness in started:
        harness.stop()


def ship_tool(kind: str, probe, name: str, **options: Any):
    """A tool asking "Ship <item>?" (SHIP_SCHEMA); it returns what the answer decided.

    It records ("answer", task_id, answer), or ("cancelled", task_id, what it
    caught, reason, message, ctx.cancelled set) when the wait ends in a
    cancellation, which it re-raises.
    """

    def decide(args: dict[str, Any], answer: dict[str, Any]) -> str:
        if not answer["ship"]:
            return f"kept {args['item']}"
        return f"shipped {args['item']}: {answer.get('note', '')}"

    if kind == "sync":

        def handler(args, ctx):
            try:
                answer = ctx.request_input(f"Ship {args['item']}?", SHIP_SCHEMA)
            except InvocationCancelled as exc:
                probe.record("cancelled", ctx.task_id, type(exc).__name__, exc.reason, exc.message, ctx.cancelled.is_set())
                raise
            probe.record("answer", ctx.task_id, answer)
            return decide(args, answer)

    else:

        async def handler(args, ctx):
            try:
                answer = await ctx.request_input(f"Ship {args['item']}?", SHIP_SCHEMA)
            except asyncio.CancelledError as exc:
                reason, message = ctx.cancel_reason, ctx.cancel_message
                probe.record("cancelled", ctx.task_id, type(exc).__name__, reason, message, ctx.cancelled.is_set())
                raise
            probe.record("answer", ctx.task_id, answer)
            return decide(args, answer)

    def define(worker):
        worker.tool(name=name, parameters=ITEM_PARAMETERS, **options)(handler)

    return define


CANCELLATION_CAUGHT = {"sync": "InvocationCancelled", "async": "CancelledError"}


# -- asking and answering ----------------------------------------------------------------------


def test_a_question_backgrounds_execute_and_the_answer_completes_the_task(
    kind, serve, probe, clients, taskservice, user_id
):
    name = unique("ship")
    serve(kind, ship_tool(kind, probe, name))
    client = clients(taskservice.address)

    started = time.monotonic()
    handle = client.execute(name, {"item": "crate-7"}, user_id=user_id, budget_seconds=BUDGET_S)
    took = time.monotonic() - started

    assert handle.backgrounded and took < BUDGET_S / 3, f"backgrounded={handle.backgrounded} after {took:.1f} s"
    task = handle.task
    assert task.status is tc.TaskStatus.INPUT_REQUIRED and task.input_required and not task.finished
    question = task.input_request
    assert question is not None and question.id
    assert question.message == "Ship crate-7?"
    assert question.schema == SHIP_SCHEMA
    assert isinstance(question.requested_at, datetime) and question.requested_at.tzinfo is not None
    envelope = json.loads(handle.text)
    assert (envelope["status"], envelope["input_request_id"]) == ("input_required", question.id)
    assert handle.get().task.input_request == question

    # An answer the schema refuses: the message names the field, and the question stays open.
    with pytest.raises(tc.InvalidArgument) as refused:
        handle.provide_input(question.id, {"ship": "yes please"})
    assert "ship" in refused.value.message
    assert handle.get().task.input_request == question
    assert probe.of_kind("answer") == []

    answered = handle.provide_input(question.id, {"ship": True, "note": "fragile"})

    assert answered.task_id == task.task_id and answered.input_request is None
    assert answered.status in (tc.TaskStatus.RUNNING, tc.TaskStatus.COMPLETED)
    assert handle.wait(timeout_seconds=WAIT_S).text == "shipped crate-7: fragile"
    assert probe.of_kind("answer") == [("answer", task.task_id, {"ship": True, "note": "fragile"})]
    # The question was taken: answering it again is a stale answer.
    with pytest.raises(tc.FailedPrecondition):
        client.provide_input(task.task_id, question.id, {"ship": False}, user_id=user_id)


def test_await_result_reports_entering_and_leaving_input_required(serve, probe, taskservice, user_id):
    """UPDATE_KIND_INPUT both ways. The tool takes a permit before asking and one
    after the answer, so that each state is observable (the server coalesces
    states a slow reader has not taken yet)."""
    name = unique("gated")

    def define(worker):
        @worker.tool(name=name)
        def gated(args, ctx):
            assert probe.permits.acquire(timeout=WAIT_S)
            answer = ctx.request_input("Which colour?", {"type": "object", "properties": {"colour": {"type": "string"}}})
            assert probe.permits.acquire(timeout=WAIT_S)
            return f"painted {answer['colour']}"

    serve("sync", define)

    with tc.Client(taskservice.address) as client:
        handle = client.execute(name, {}, user_id=user_id, budget_seconds=0.1)
        assert handle.backgrounded and handle.task.status is tc.TaskStatus.RUNNING
        updates = handle.await_result(timeout_seconds=30)
        seen = [next(updates)]
        probe.permits.release()
        seen.append(next(updates))
        question = seen[-1].task.input_request
        assert question is not None
        handle.provide_input(question.id, {"colour": "teal"})
        seen.append(next(updates))
        probe.permits.release()
        seen.extend(updates)

    assert [(u.kind, u.task.status) for u in seen] == [
        (tc.UpdateKind.SNAPSHOT, tc.TaskStatus.RUNNING),
        (tc.UpdateKind.INPUT, tc.TaskStatus.INPUT_REQUIRED),
        (tc.UpdateKind.INPUT, tc.TaskStatus.RUNNING),
        (tc.UpdateKind.TERMINAL, tc.TaskStatus.COMPLETED),
    ]
    assert question.message == "Which colour?"
    assert seen[2].task.input_request is None
    assert seen[-1].text == "painted teal" and seen[-1].last


def test_provide_input_errors_of_the_real_server(clients, taskservice, user_id):
    """With the server's own example tool ask: no worker involved."""
    client = clients(taskservice.address)
    handle = client.execute("ask", {"question": "Deploy now?"}, user_id=user_id, budget_seconds=BUDGET_S)
    question = handle.task.input_request
    assert handle.task.input_required and question.message == "Deploy now?"

    with pytest.raises(tc.NotFound):  # another user's task
        client.provide_input(handle.task_id, question.id, {"answer": "yes"}, user_id=f"{user_id}-other")
    with pytest.raises(tc.FailedPrecondition):  # not the open question
        handle.provide_input("input-999", {"answer": "yes"})
    assert handle.get().task.input_request == question

    task = client.provide_input(handle.task_id, question.id, '{"answer": "yes"}', user_id=user_id)  # JSON text
    assert task.input_request is None
    assert handle.result(timeout_seconds=WAIT_S) == "answer: yes"
    with pytest.raises(tc.FailedPrecondition):  # the task waits for nothing any more
        handle.provide_input(question.id, {"answer": "again"})


# -- how a wait ends without an answer ---------------------------------------------------------


def test_cancelling_a_waiting_task_raises_the_cancellation_in_the_tool(kind, serve, probe, taskservice, user_id):
    name = unique("ship")
    serve(kind, ship_tool(kind, probe, name))
    with tc.Client(taskservice.address) as client:
        handle = client.execute(name, {"item": "crate-9"}, user_id=user_id, budget_seconds=BUDGET_S)
        assert handle.task.input_required

        cancelled = handle.cancel()

        assert (cancelled.status, cancelled.failure_reason) == (tc.TaskStatus.FAILED, tc.FailureReason.CANCELLED)
        [(_, task_id, caught, reason, _, event_set)] = probe.wait_for("cancelled")
        assert (task_id, caught, reason, event_set) == (handle.task_id, CANCELLATION_CAUGHT[kind], "CANCELLED", True)
        assert probe.of_kind("answer") == []
        with pytest.raises(tc.ToolFailed) as failed:
            handle.wait(timeout_seconds=WAIT_S)
        assert failed.value.failure_reason is tc.FailureReason.CANCELLED


def test_a_question_left_unanswered_fails_input_timeout_and_cancels_the_tool(kind, serve, probe, taskservice, user_id):
    name = unique("ship")
    serve(kind, ship_tool(kind, probe, name, input_timeout=0.5))
    with tc.Client(taskservice.address) as client:
        handle = client.execute(name, {"item": "crate-1"}, user_id=user_id, budget_seconds=BUDGET_S)
        assert handle.task.input_required

        with pytest.raises(tc.ToolFailed) as failed:
            handle.wait(timeout_seconds=WAIT_S)

    assert failed.value.failure_reason is tc.FailureReason.INPUT_TIMEOUT
    [(_, task_id, caught, reason, message, _)] = probe.wait_for("cancelled")
    assert (task_id, caught, reason) == (handle.task_id, CANCELLATION_CAUGHT[kind], "INPUT_TIMEOUT")
    assert "0.5 s" in message


def test_stopping_the_worker_while_its_tool_waits_ends_the_wait(kind, serve, probe, taskservice, user_id):
    name = unique("ship")
    harness = serve(kind, ship_tool(kind, probe, name))
    with tc.Client(taskservice.address) as client:
        handle = client.execute(name, {"item": "crate-3"}, user_id=user_id, budget_seconds=BUDGET_S)
        assert handle.task.input_required

        harness.stop()  # returns only once every handler has returned

        [(_, task_id, caught, reason, message, _)] = probe.of_kind("cancelled")
        assert (task_id, caught, reason, message) == (handle.task_id, CANCELLATION_CAUGHT[kind], "SHUTDOWN", "worker stopping")
        assert harness.error is None and harness.leftover_tasks == []
        with pytest.raises(tc.ToolFailed) as failed:
            handle.wait(timeout_seconds=WAIT_S)
        assert failed.value.failure_reason is tc.FailureReason.WORKER_LOST


def test_a_question_the_server_refuses_raises_input_request_error(kind, serve, probe, taskservice, user_id):
    """A no_background tool's caller waits for the outcome and would never see a question."""
    name = unique("inline")
    if kind == "sync":

        def handler(args, ctx):
            try:
                ctx.request_input("Sure?", {"type": "object"})
            except InputRequestError as exc:
                probe.record("refused", ctx.task_id, exc.task_id, exc.error)
                return "went on without asking"
            return "asked"

    else:

        async def handler(args, ctx):
            try:
                await ctx.request_input("Sure?", {"type": "object"})
            except InputRequestError as exc:
                probe.record("refused", ctx.task_id, exc.task_id, exc.error)
                return "went on without asking"
            return "asked"

    serve(kind, lambda worker: worker.tool(name=name, no_background=True)(handler))
    with tc.Client(taskservice.address) as client:
        outcome = client.execute(name, {}, user_id=user_id)

    assert not outcome.backgrounded and outcome.text == "went on without asking"
    [(_, task_id, error_task_id, error)] = probe.of_kind("refused")
    assert error_task_id == task_id
    assert "no_background" in error


def test_the_async_client_answers_too(serve, probe, taskservice, user_id):
    """provide_input of AsyncClient and AsyncTaskHandle on their own loop (not through the bridge)."""
    name = unique("ship")
    serve("sync", ship_tool("sync", probe, name))

    async def scenario() -> tuple[tc.Task, str]:
        async with tc.AsyncClient(taskservice.address) as client:
            handle = await client.execute(name, {"item": "box"}, user_id=user_id, budget_seconds=BUDGET_S)
            assert isinstance(handle, tc.AsyncTaskHandle) and handle.task.input_request is not None
            task = await handle.provide_input(handle.task.input_request.id, {"ship": False})
            return task, await handle.result(timeout_seconds=WAIT_S)

    task, text = asyncio.run(scenario())
    assert task.input_request is None
    assert text == "kept box"
