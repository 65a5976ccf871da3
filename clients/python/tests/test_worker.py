"""Worker and AsyncWorker against a scripted ToolWorkerService, over real gRPC.

Every test here runs twice, once per worker kind (the ``kind`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import grpc
import grpc.aio
import pytest
from harness import HARNESSES, WAIT_S, AsyncHarness, add_question_tool, define_async_tools, wait_until
from scripted_server import SERVER_THREAD_PREFIX, ScriptedServer
from taskmanager.v1 import task_pb2, tool_worker_pb2 as pb

from taskservice_worker import AsyncWorker, InputRequestError, Origin, WorkerRejected


def outcome(result: pb.InvocationResult) -> tuple[str, str]:
    kind = result.WhichOneof("outcome")
    return kind, getattr(result, kind)


# -- registration ----------------------------------------------------------------------


def test_registration_declares_the_worker_and_every_tool(server, start_worker):
    harness = start_worker(
        start=False, tools=False, name="reg-worker", max_concurrency=3, metadata={"authorization": "Bearer t0k"}
    )
    harness.add_tool(
        name="alpha",
        doc="Adds numbers\n    across two lines.\n\n    Not part of the description.",
        parameters={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        no_background=True,
        concurrency=2,
        timeout=12.5,
        hard_timeout=60,
        input_timeout=900,
    )
    harness.add_tool(name="beta", description="explicit words", doc="ignored docstring")
    harness.start()

    conn = server.next_connection()
    register = conn.accept()

    assert conn.metadata.get("authorization") == "Bearer t0k"
    assert register.worker_name == "reg-worker"
    assert register.max_concurrency == 3
    alpha, beta = register.tools
    assert alpha.name == "alpha"
    assert alpha.description == "Adds numbers across two lines."
    assert json.loads(alpha.parameters_json_schema) == {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    }
    assert alpha.no_background is True
    assert alpha.concurrency == 2
    assert alpha.HasField("default_timeout_seconds") and alpha.default_timeout_seconds == 12.5
    assert alpha.HasField("hard_timeout_seconds") and alpha.hard_timeout_seconds == 60
    assert alpha.HasField("input_timeout_seconds") and alpha.input_timeout_seconds == 900
    assert beta.name == "beta"
    assert beta.description == "explicit words"
    assert json.loads(beta.parameters_json_schema) == {"type": "object"}
    assert beta.no_background is False
    assert beta.concurrency == 0
    assert not beta.HasField("default_timeout_seconds")
    assert not beta.HasField("hard_timeout_seconds")
    assert not beta.HasField("input_timeout_seconds")


def test_registered_answer_sets_worker_id_and_calls_back(server, start_worker):
    seen: list[str] = []
    harness = start_worker(on_registered=seen.append)
    server.next_connection().accept(worker_id="w-42")
    wait_until(lambda: seen == ["w-42"], what="on_registered('w-42')")
    assert harness.worker.worker_id == "w-42"


def test_async_worker_awaits_a_coroutine_on_registered(server, probe):
    seen: list[str] = []

    async def announce(worker_id: str) -> None:
        await asyncio.sleep(0)
        seen.append(worker_id)

    harness = AsyncHarness(server.address, probe, on_registered=announce).start()
    try:
        server.next_connection().accept(worker_id="w-co")
        wait_until(lambda: seen == ["w-co"], what="the coroutine callback ran")
    finally:
        harness.stop()


def test_declared_concurrency_defaults(kind, server, start_worker):
    start_worker()
    register = server.next_connection().accept()
    # Worker's default is its pool size; AsyncWorker's is "no limit".
    assert register.max_concurrency == {"sync": 8, "async": 0}[kind]
    assert [tool.name for tool in register.tools] == ["echo", "fail", "progress", "block"]


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS]
)
def test_rejected_registration_raises_with_the_details_and_does_not_retry(server, start_worker, code):
    harness = start_worker()
    conn = server.next_connection()
    conn.recv()
    conn.abort(code, "tool 'echo': parameters differ from worker w-7's")

    error = harness.join()

    assert isinstance(error, WorkerRejected)
    assert error.code == code
    assert error.details == "tool 'echo': parameters differ from worker w-7's"
    assert "parameters differ from worker w-7's" in str(error)
    assert server.connection_count == 1


# -- results -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        ("plain text, not JSON", "plain text, not JSON"),
        ({"words": [1, 2], "ok": True}, '{"words": [1, 2], "ok": true}'),
        (42, "42"),
        (None, ""),
    ],
)
def test_return_value_becomes_the_result(server, start_worker, value, text):
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("t-1", "echo", {"value": value})
    result, before = conn.result_for("t-1")
    assert before == []
    assert outcome(result) == ("result", text)


def test_handler_context_carries_the_invocation(server, start_worker, probe):
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("t-ctx", "echo", {"value": 1}, origin=("u-9", "c-9", "slack"), hard_timeout=12.0)
    conn.result_for("t-ctx")
    [(_, task_id, tool_name, origin, hard_timeout)] = probe.wait_for("echo")
    assert (task_id, tool_name, hard_timeout) == ("t-ctx", "echo", 12.0)
    assert origin == Origin(user_id="u-9", channel_id="c-9", platform="slack")


def test_handler_context_carries_the_trace_context_or_empty_strings(server, start_worker, probe):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("t-traced", "echo", {}, traceparent=traceparent, tracestate="vendor=1,other=2")
    conn.result_for("t-traced")
    conn.invoke("t-untraced", "echo", {})
    conn.result_for("t-untraced")
    assert probe.wait_for("trace", 2) == [
        ("trace", "t-traced", traceparent, "vendor=1,other=2"),
        ("trace", "t-untraced", "", ""),
    ]


def test_failures_become_error_results(server, start_worker):
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("e-msg", "fail", {"message": "boom"})
    conn.invoke("e-empty", "fail", {})
    conn.invoke("e-tool", "no_such_tool", {})
    conn.invoke("e-args", "echo", "[1, 2]")
    results = {task_id: outcome(result) for task_id, result in conn.results(4).items()}
    assert results["e-msg"] == ("error", "boom")
    assert results["e-empty"] == ("error", "ValueError")
    assert results["e-tool"][0] == "error" and "unknown tool 'no_such_tool'" in results["e-tool"][1]
    assert results["e-args"] == ("error", "arguments must be a JSON object, not list")


def test_progress_arrives_in_order_before_the_result(server, start_worker, probe):
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("p-1", "progress", {"steps": 3})
    for step in (1, 2, 3):
        progress, before = conn.recv_kind("progress")
        assert before == []
        assert progress.task_id == "p-1"
        assert progress.fraction == pytest.approx(step / 3)
        assert progress.message == f"step {step}/3"
        probe.permits.release()
    result, before = conn.result_for("p-1")
    assert before == []
    assert outcome(result) == ("result", "progressed")


# -- cancellation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason, name",
    [(task_pb2.FAILURE_REASON_CANCELLED, "CANCELLED"), (task_pb2.FAILURE_REASON_HARD_TIMEOUT, "HARD_TIMEOUT")],
)
def test_cancellation_reaches_the_handler_and_no_result_follows(server, start_worker, probe, reason, name):
    start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("c-1", "block")
    probe.wait_for("started")

    conn.cancel("c-1", reason, "stopped by the test")

    # The async handler records this from its `except CancelledError`.
    _, _, seen_reason, seen_message, event_set = probe.cancellation_of("c-1")
    assert (seen_reason, seen_message, event_set) == (name, "stopped by the test", True)
    # The handler returned "late result"; anything about c-1 would be written
    # before the result of an invocation sent after the cancellation.
    conn.invoke("after", "echo", {"value": "x"})
    _, before = conn.result_for("after")
    assert before == []
    assert conn.quiet_for(0.3) == []


def test_tool_concurrency_queues_locally_and_a_cancelled_waiter_never_starts(server, start_worker, probe):
    start_worker(block_concurrency=1)
    conn = server.next_connection()
    conn.accept()
    for task_id in ("q-1", "q-2", "q-3"):
        conn.invoke(task_id, "block")
    probe.wait_for("started")
    conn.cancel("q-2")
    # Other tools are not held back by block's limit.
    conn.invoke("e-1", "echo", {"value": "free"})
    assert outcome(conn.result_for("e-1")[0]) == ("result", "free")
    assert [event[1] for event in probe.of_kind("started")] == ["q-1"]

    probe.gate.set()

    results = conn.results(2)
    assert {task_id: outcome(result) for task_id, result in results.items()} == {
        "q-1": ("result", "released"),
        "q-3": ("result", "released"),
    }
    assert [event[1] for event in probe.of_kind("started")] == ["q-1", "q-3"]
    assert probe.max_active == 1


def test_max_concurrency_is_never_exceeded(server, start_worker, probe):
    start_worker(max_concurrency=2)
    conn = server.next_connection()
    conn.accept()
    task_ids = [f"m-{i}" for i in range(5)]
    for task_id in task_ids:
        conn.invoke(task_id, "block")
    probe.wait_for("started", 2)
    assert conn.quiet_for(0.3) == []
    assert len(probe.of_kind("started")) == 2

    probe.gate.set()

    results = conn.results(5)
    assert sorted(results) == task_ids
    assert {outcome(result) for result in results.values()} == {("result", "released")}
    assert probe.max_active == 2


# -- liveness ------------------------------------------------------------------------------


def test_ping_is_answered_while_every_handler_is_busy(server, start_worker, probe):
    start_worker(max_concurrency=2)
    conn = server.next_connection()
    conn.accept()
    conn.invoke("b-1", "block")
    conn.invoke("b-2", "block")
    probe.wait_for("started", 2)

    conn.send(ping=pb.Ping(sequence=7))

    pong, before = conn.recv_kind("pong", timeout=2.0)
    assert pong.sequence == 7
    assert before == []
    probe.gate.set()
    assert {outcome(result) for result in conn.results(2).values()} == {("result", "released")}


def test_pings_keep_the_stream_and_silence_makes_the_worker_reconnect(server, start_worker):
    start_worker()
    first = server.next_connection()
    # The silence limit is the server's timeout (0.5 s), not a multiple of its ping interval.
    first.accept(ping_interval=1.0, timeout=0.5)
    for sequence in range(1, 11):  # 1 s of pings, twice the silence limit
        first.send(ping=pb.Ping(sequence=sequence))
        pong, _ = first.recv_kind("pong")
        assert pong.sequence == sequence
        time.sleep(0.1)
    assert server.connection_count == 1

    # Now the server says nothing: the worker gives the stream up and reconnects.
    second = server.next_connection(timeout=2.5)
    assert second.recv().WhichOneof("message") == "register"
    first.wait_worker_done()


# -- reconnecting ----------------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["unavailable", "closed"])
def test_lost_stream_cancels_handlers_and_the_worker_reregisters(server, start_worker, probe, drop):
    harness = start_worker()
    first = server.next_connection()
    register_1 = first.accept(worker_id="w-1")
    first.invoke("lost-1", "block")
    probe.wait_for("started")

    if drop == "unavailable":
        first.abort(grpc.StatusCode.UNAVAILABLE, "server going away")
    else:
        first.end()

    _, _, reason, message, event_set = probe.cancellation_of("lost-1")
    assert (reason, message, event_set) == ("WORKER_LOST", "connection lost", True)
    second = server.next_connection()
    register_2 = second.accept(worker_id="w-2")
    assert register_2 == register_1
    wait_until(lambda: harness.worker.worker_id == "w-2", what="worker_id w-2")
    # lost-1's late result goes nowhere: not on the new stream.
    second.invoke("new-1", "echo", {"value": "again"})
    result, before = second.result_for("new-1")
    assert before == []
    assert outcome(result) == ("result", "again")
    first.wait_worker_done()


def test_unreachable_server_is_retried_until_it_answers(kind, probe):
    with socket.socket() as sock:  # a free port, with nothing listening on it yet
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    harness = HARNESSES[kind](f"127.0.0.1:{port}", probe).start()
    server = None
    try:
        time.sleep(0.5)  # a few failed attempts (UNAVAILABLE), which must not end run()
        assert harness.error is None
        server = ScriptedServer(port=port).start()
        server.next_connection(timeout=10.0).accept(worker_id="w-late")
        wait_until(lambda: harness.worker.worker_id == "w-late", what="registration after the server came up")
    finally:
        harness.stop()
        if server is not None:
            server.stop()
    assert harness.error is None


# -- stopping --------------------------------------------------------------------------------


def _assert_closed(channel):
    if isinstance(channel, grpc.aio.Channel):
        assert channel._channel.closed()
    else:
        with pytest.raises(ValueError, match="closed channel"):
            channel.unary_unary("/taskmanager.v1.ToolWorkerService/Connect")(b"", timeout=1)


def test_stop_cancels_handlers_and_leaves_nothing_behind(kind, server, start_worker, probe, monkeypatch):
    channels = []
    api = grpc.aio if kind == "async" else grpc
    open_channel = api.insecure_channel

    def spy(*args, **kwargs):
        channels.append(open_channel(*args, **kwargs))
        return channels[-1]

    monkeypatch.setattr(api, "insecure_channel", spy)
    before = set(threading.enumerate())
    harness = start_worker()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("s-1", "block")
    probe.wait_for("started")

    harness.stop()

    _, _, reason, message, event_set = probe.cancellation_of("s-1", timeout=0)
    assert (reason, message, event_set) == ("SHUTDOWN", "worker stopping", True)
    assert conn.quiet_for(0.2) == []
    conn.wait_worker_done()
    assert harness.leftover_tasks == []
    assert len(channels) == 1
    _assert_closed(channels.pop())  # gRPC's aio poller thread lives as long as a channel object

    def leftover():
        return [
            thread
            for thread in threading.enumerate()
            if thread not in before and not thread.name.startswith(SERVER_THREAD_PREFIX)
        ]

    deadline = time.monotonic() + WAIT_S
    while leftover() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [thread.name for thread in leftover()] == []
    assert harness.error is None


def test_stop_from_inside_a_handler_does_not_wait_for_itself(kind, server, start_worker):
    harness = start_worker(start=False)
    worker = harness.worker
    if kind == "sync":

        @worker.tool
        def quit(args, ctx):
            worker.stop()
            return "bye"

    else:

        @worker.tool
        async def quit(args, ctx):
            await worker.stop()
            return "bye"

    harness.start()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("q", "quit")
    assert harness.join() is None
    conn.wait_worker_done()


def test_cancelling_the_task_that_runs_an_async_worker_cleans_up(server, probe):
    async def scenario():
        worker = AsyncWorker(server.address, name="w")
        define_async_tools(worker, probe)
        run = asyncio.create_task(worker.run())
        conn = await asyncio.to_thread(server.next_connection)
        await asyncio.to_thread(conn.accept)
        conn.invoke("x", "block")
        await asyncio.to_thread(probe.wait_for, "started")

        run.cancel()

        with pytest.raises(asyncio.CancelledError):
            await run
        assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []
        await asyncio.to_thread(conn.wait_worker_done)

    asyncio.run(scenario())
    _, _, reason, message, event_set = probe.cancellation_of("x", timeout=0)
    assert (reason, message, event_set) == ("SHUTDOWN", "worker stopping", True)


def test_stop_waits_for_handlers_to_finish_cleaning_up(kind, server, start_worker, probe):
    harness = start_worker(start=False)
    worker = harness.worker
    if kind == "sync":

        @worker.tool
        def slow_exit(args, ctx):
            probe.record("started", ctx.task_id)
            ctx.cancelled.wait(30)
            time.sleep(0.3)  # clean-up after the cancellation
            probe.record("cleaned", ctx.task_id)

    else:

        @worker.tool
        async def slow_exit(args, ctx):
            probe.record("started", ctx.task_id)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                await asyncio.sleep(0.3)  # clean-up after the cancellation
                probe.record("cleaned", ctx.task_id)
                raise

    harness.start()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("slow", "slow_exit")
    probe.wait_for("started")

    harness.stop()

    assert probe.of_kind("cleaned") == [("cleaned", "slow")]
    assert harness.leftover_tasks == []


# -- questions (ctx.request_input) -------------------------------------------------------------

COLOUR_SCHEMA = {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}


def start_with_question_tool(kind, start_worker, probe):
    harness = start_worker(start=False)
    add_question_tool(harness.worker, kind, probe)
    harness.start()
    return harness


def test_request_input_sends_the_question_and_returns_the_answer(kind, server, start_worker, probe):
    start_with_question_tool(kind, start_worker, probe)
    conn = server.next_connection()
    conn.accept()
    conn.invoke("q-1", "question", {"message": "Which colour?", "schema": COLOUR_SCHEMA})

    question, before = conn.recv_kind("input_request")

    assert before == []
    assert (question.task_id, question.message) == ("q-1", "Which colour?")
    assert json.loads(question.schema_json) == COLOUR_SCHEMA
    # An answer for a task with no open question here is ignored; the waiting tool goes on waiting.
    conn.send(input=pb.InvocationInput(task_id="someone-else", response_json='{"colour": "blue"}'))
    assert conn.quiet_for(0.2) == []
    conn.send(input=pb.InvocationInput(task_id="q-1", response_json='{"colour": "teal", "shade": 3}'))
    result, before = conn.result_for("q-1")
    assert before == []
    assert outcome(result) == ("result", 'answered {"colour": "teal", "shade": 3}')
    assert probe.of_kind("answer") == [("answer", "q-1", {"colour": "teal", "shade": 3})]


def test_a_question_the_server_refuses_raises_input_request_error_in_the_tool(kind, server, start_worker, probe):
    start_with_question_tool(kind, start_worker, probe)
    conn = server.next_connection()
    conn.accept()
    conn.invoke("q-2", "question", {"message": "Sure?"})
    conn.recv_kind("input_request")

    conn.send(input=pb.InvocationInput(task_id="q-2", error="ctx.requestInput: a question is already waiting"))

    result, _ = conn.result_for("q-2")
    assert outcome(result) == ("result", "refused: ctx.requestInput: a question is already waiting")
    assert probe.of_kind("refused") == [("refused", "q-2", "ctx.requestInput: a question is already waiting")]


@pytest.mark.parametrize("end", ["cancellation", "lost stream"])
def test_the_end_of_an_invocation_ends_its_waiting_question(kind, server, start_worker, probe, end):
    start_with_question_tool(kind, start_worker, probe)
    first = server.next_connection()
    first.accept()
    first.invoke("q-3", "question", {"message": "Still there?"})
    first.recv_kind("input_request")

    if end == "cancellation":
        first.cancel("q-3", task_pb2.FAILURE_REASON_INPUT_TIMEOUT, "no answer within 1 s")
        expected = ("INPUT_TIMEOUT", "no answer within 1 s", True)
        conn = first
    else:
        first.abort(grpc.StatusCode.UNAVAILABLE, "server going away")
        expected = ("WORKER_LOST", "connection lost", True)
        conn = server.next_connection()
        conn.accept(worker_id="w-2")

    _, _, reason, message, event_set = probe.cancellation_of("q-3")
    assert (reason, message, event_set) == expected
    [(_, _, caught)] = probe.of_kind("caught")
    assert caught == {"sync": "InvocationCancelled", "async": "CancelledError"}[kind]
    # A late answer finds nobody waiting; nothing about q-3 is sent, and the worker serves on.
    conn.send(input=pb.InvocationInput(task_id="q-3", response_json="{}"))
    conn.invoke("after", "question", {"message": "Next?"})
    question, before = conn.recv_kind("input_request")
    assert before == [] and question.task_id == "after"
    conn.send(input=pb.InvocationInput(task_id="after", response_json='{"ok": true}'))
    result, before = conn.result_for("after")
    assert before == [] and outcome(result) == ("result", 'answered {"ok": true}')
    assert probe.of_kind("answer") == [("answer", "after", {"ok": True})]


def test_an_abandoned_async_question_stays_open_until_its_answer_comes(server, probe):
    """The protocol cannot withdraw a question, and an answer names only its task:
    a new question must wait until the abandoned one is answered, or it could get its answer."""
    harness = AsyncHarness(server.address, probe, tools=False)

    @harness.worker.tool
    async def patient(args, ctx):
        try:
            await asyncio.wait_for(ctx.request_input("First?", {}), 0.05)
        except asyncio.TimeoutError:
            probe.record("gave up", ctx.task_id)
        try:
            await ctx.request_input("Second?", {})
        except InputRequestError as exc:
            probe.record("refused", ctx.task_id, exc.error)
        while True:
            try:
                return await ctx.request_input("Third?", {})
            except InputRequestError:
                await asyncio.sleep(0.01)

    harness.start()
    try:
        conn = server.next_connection()
        conn.accept()
        conn.invoke("p-1", "patient")
        first, _ = conn.recv_kind("input_request")
        [(_, _, error)] = probe.wait_for("refused")
        assert error == "another question of this invocation is still waiting"

        conn.send(input=pb.InvocationInput(task_id="p-1", response_json='{"for": "first"}'))

        third, before = conn.recv_kind("input_request")
        assert before == []  # neither "Second?" nor the retries were sent
        assert (first.message, third.message) == ("First?", "Third?")
        conn.send(input=pb.InvocationInput(task_id="p-1", response_json='{"for": "third"}'))
        result, _ = conn.result_for("p-1")
        assert outcome(result) == ("result", '{"for": "third"}')
        assert probe.of_kind("gave up") == [("gave up", "p-1")]
    finally:
        harness.stop()
    assert harness.leftover_tasks == []


# -- output (ctx.output) --------------------------------------------------------------------


def add_writer_tool(harness, kind, probe):
    """writer: writes args["pieces"] one by one with a progress report in the middle, tries
    what ctx.output refuses (recorded as ("refused", class name)), and returns "written"."""

    def write(ctx, pieces):
        for index, piece in enumerate(pieces):
            ctx.output(piece)
            if index == len(pieces) // 2:
                ctx.progress(0.5, "half")
        for bad in (b"bytes", "lone \ud800"):
            try:
                ctx.output(bad)
            except (TypeError, ValueError) as exc:
                probe.record("refused", type(exc).__name__)

    if kind == "sync":

        def writer(args, ctx):
            write(ctx, args["pieces"])
            return "written"

    else:

        async def writer(args, ctx):
            write(ctx, args["pieces"])
            await asyncio.sleep(0)
            return "written"

    harness.worker.tool(name="writer")(writer)


def test_output_is_sent_in_order_before_the_result(kind, server, start_worker, probe):
    harness = start_worker(start=False)
    add_writer_tool(harness, kind, probe)
    harness.start()
    conn = server.next_connection()
    conn.accept()
    pieces = ["first\n", "", "ünïcode ✓ 🎉\n", "x" * 100_000, "last\n"]

    conn.invoke("w-1", "writer", {"pieces": pieces})
    result, before = conn.result_for("w-1")

    assert outcome(result) == ("result", "written")
    kinds = {m.WhichOneof("message") for m in before}
    assert kinds == {"output", "progress"}, kinds
    sent = [m.output for m in before if m.WhichOneof("message") == "output"]
    assert {m.task_id for m in sent} == {"w-1"}
    assert all(m.text for m in sent)  # the empty piece was not sent
    assert "".join(m.text for m in sent) == "".join(pieces)
    assert [event[1] for event in probe.of_kind("refused")] == ["TypeError", "UnicodeEncodeError"]


def test_output_after_a_cancellation_is_not_sent(kind, server, start_worker, probe):
    harness = start_worker(start=False)
    if kind == "sync":

        def chatty(args, ctx):
            ctx.output("before\n")
            ctx.cancelled.wait(WAIT_S)
            ctx.output("after\n")
            probe.record("wrote after", ctx.task_id)
            return "late"

    else:

        async def chatty(args, ctx):
            ctx.output("before\n")
            try:
                await asyncio.sleep(WAIT_S)
            finally:
                ctx.output("after\n")
                probe.record("wrote after", ctx.task_id)

    harness.worker.tool(name="chatty")(chatty)
    harness.start()
    conn = server.next_connection()
    conn.accept()
    conn.invoke("c-1", "chatty")
    output, before = conn.recv_kind("output")
    assert before == [] and (output.task_id, output.text) == ("c-1", "before\n")

    conn.cancel("c-1")

    probe.wait_for("wrote after")
    assert conn.quiet_for(0.3) == []
