"""The library's parts on their own: no server, no threads of their own."""

from __future__ import annotations

import asyncio
import json
import math

import grpc
import pytest
from taskmanager.v1 import task_pb2, tool_worker_pb2 as pb

from taskservice_worker import AsyncWorker, InputRequestError, InvocationCancelled, Worker, WorkerRejected
from taskservice_worker.admission import Admission
from taskservice_worker.backoff import Backoff
from taskservice_worker.context import AsyncToolContext, Question, ToolContext, clamp_fraction
from taskservice_worker.dispatch import Dispatcher
from taskservice_worker.errors import check_reconnectable
from taskservice_worker.messages import encode_result, error_text, parse_arguments, reason_name, result_message
from taskservice_worker.outbox import OUTPUT_PIECE_CHARS, Outbox


def plain(args, ctx):
    return None


async def coro(args, ctx):
    return None


# -- tool declarations ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "Echo", "1st", "with-dash", "a" * 65, "sp ace", "_lead"])
def test_invalid_tool_names_are_refused_with_the_rule(name):
    worker = Worker("127.0.0.1:1", name="w")
    with pytest.raises(ValueError, match="invalid tool name"):
        worker.tool(name=name)(plain)


@pytest.mark.parametrize("name", ["a", "a" * 64, "word_count", "x9_"])
def test_valid_tool_names_are_accepted(name):
    worker = Worker("127.0.0.1:1", name="w")
    worker.tool(name=name)(plain)
    assert [tool.name for tool in worker.tools] == [name]


def test_decorator_defaults_come_from_the_function():
    worker = Worker("127.0.0.1:1", name="w")

    @worker.tool
    def word_count(args, ctx):
        """Counts
        words.

        Details that stay out of the description.
        """
        return 1

    [tool] = worker.tools
    assert word_count({}, None) == 1  # returned unchanged
    assert (tool.name, tool.description) == ("word_count", "Counts words.")
    assert json.loads(tool.parameters_json) == {"type": "object"}
    assert (tool.no_background, tool.concurrency, tool.timeout, tool.hard_timeout) == (False, 0, None, None)


def test_duplicate_tool_names_are_refused():
    worker = Worker("127.0.0.1:1", name="w")
    worker.tool(name="same")(plain)
    with pytest.raises(ValueError, match="duplicate tool name 'same'"):
        worker.tool(name="same")(plain)


@pytest.mark.parametrize(
    "options, error",
    [
        ({"parameters": "{}"}, TypeError),
        ({"parameters": {"default": float("nan")}}, ValueError),
        ({"parameters": {"x": object()}}, ValueError),
        ({"concurrency": -1}, ValueError),
        ({"concurrency": 1.5}, ValueError),
        ({"timeout": 0}, ValueError),
        ({"hard_timeout": -3}, ValueError),
        ({"timeout": math.inf}, ValueError),
        ({"timeout": "10"}, TypeError),
        ({"input_timeout": 0}, ValueError),
        ({"input_timeout": "60"}, TypeError),
    ],
)
def test_bad_tool_options_are_refused(options, error):
    worker = Worker("127.0.0.1:1", name="w")
    with pytest.raises(error):
        worker.tool(name="t", **options)(plain)


def test_each_worker_kind_refuses_the_other_kind_of_handler():
    with pytest.raises(TypeError, match="use AsyncWorker"):
        Worker("127.0.0.1:1", name="w").tool(coro)
    with pytest.raises(TypeError, match="use Worker"):
        AsyncWorker("127.0.0.1:1", name="w").tool(plain)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"name": ""}, ValueError),
        ({"name": "w", "max_concurrency": 0}, ValueError),
        ({"name": "w", "max_concurrency": -1}, ValueError),
        ({"name": "w", "on_registered": "not callable"}, TypeError),
        ({"name": "w", "on_registered": coro}, TypeError),  # a Worker could not await it
    ],
)
def test_bad_worker_settings_are_refused(kwargs, error):
    with pytest.raises(error):
        Worker("127.0.0.1:1", **kwargs)


def test_async_worker_defaults_and_accepts_a_coroutine_callback():
    worker = AsyncWorker("127.0.0.1:1", name="w", on_registered=coro)
    assert worker.max_concurrency == 0
    assert Worker("127.0.0.1:1", name="w").max_concurrency == 8


def test_a_worker_without_tools_does_not_run():
    with pytest.raises(ValueError, match="no tools"):
        Worker("127.0.0.1:1", name="w").run()
    with pytest.raises(ValueError, match="no tools"):
        asyncio.run(AsyncWorker("127.0.0.1:1", name="w").run())


def test_tools_cannot_be_added_once_the_worker_has_run():
    worker = Worker("127.0.0.1:1", name="w")
    worker.tool(name="first")(plain)
    worker.stop()
    worker.run()  # stopped before it started: returns at once, tools now frozen
    with pytest.raises(RuntimeError, match="before the worker runs"):
        worker.tool(name="second")(plain)


def test_stop_before_run_and_twice_is_harmless():
    worker = Worker("127.0.0.1:1", name="w")
    worker.tool(plain)
    worker.stop()
    worker.stop()
    worker.run()

    async def scenario():
        aworker = AsyncWorker("127.0.0.1:1", name="w")
        aworker.tool(coro)
        await aworker.stop()
        await aworker.run()
        await aworker.stop()

    asyncio.run(scenario())


# -- wire rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [("as is", "as is"), ("", ""), (None, ""), ({"a": 1}, '{"a": 1}'), ([1, "x"], '[1, "x"]'), (True, "true"), (1.5, "1.5")],
)
def test_encode_result(value, text):
    assert encode_result(value) == text


def test_unencodable_results_become_errors():
    for value in (float("nan"), {1, 2}, b"bytes"):
        message = result_message("t", value)
        assert message.result.WhichOneof("outcome") == "error"
        assert message.result.error.startswith("tool result is not JSON-serializable")


def test_error_text_falls_back_to_the_class_name():
    assert error_text(ValueError("bad input")) == "bad input"
    assert error_text(KeyError()) == "KeyError"
    assert error_text(RuntimeError("")) == "RuntimeError"


def test_reason_names():
    assert reason_name(task_pb2.FAILURE_REASON_CANCELLED) == "CANCELLED"
    assert reason_name(task_pb2.FAILURE_REASON_HARD_TIMEOUT) == "HARD_TIMEOUT"
    assert reason_name(task_pb2.FAILURE_REASON_SHUTDOWN) == "SHUTDOWN"
    assert reason_name(task_pb2.FAILURE_REASON_WORKER_LOST) == "WORKER_LOST"
    assert reason_name(task_pb2.FAILURE_REASON_UNSPECIFIED) == "UNSPECIFIED"
    assert reason_name(99) == "UNKNOWN_99"


def test_parse_arguments():
    assert parse_arguments("") == {}
    assert parse_arguments('{"a": [1]}') == {"a": [1]}
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_arguments("{")
    with pytest.raises(ValueError, match="must be a JSON object, not str"):
        parse_arguments('"text"')


@pytest.mark.parametrize(
    "given, sent", [(0.5, 0.5), (-1, 0.0), (2, 1.0), (float("nan"), 0.0), (float("inf"), 0.0), (1, 1.0)]
)
def test_progress_fraction_is_clamped(given, sent):
    assert clamp_fraction(given) == sent


def test_context_progress_and_first_cancellation_wins():
    reports = []
    ctx = ToolContext(
        task_id="t", tool_name="x", origin=None, hard_timeout_seconds=0.0, report=lambda f, m: reports.append((f, m))
    )
    ctx.progress(7, 42)
    assert reports == [(1.0, "42")]
    assert ctx.cancel_reason is None and not ctx.cancelled.is_set()
    ctx._cancel("CANCELLED", "first")
    ctx._cancel("WORKER_LOST", "second")
    assert (ctx.cancel_reason, ctx.cancel_message, ctx.cancelled.is_set()) == ("CANCELLED", "first", True)


# -- outbox --------------------------------------------------------------------------------


def pong(sequence):
    return pb.ConnectRequest(pong=pb.Pong(sequence=sequence))


def drain(outbox):
    messages = []
    while (message := outbox.get(timeout=0)) is not None:
        messages.append(message)
    return messages


def test_outbox_keeps_one_queued_progress_per_task_in_place():
    outbox = Outbox()
    outbox.put_progress("a", 0.1, "one")
    outbox.put(pong(1))
    outbox.put_progress("a", 0.2, "two")  # replaces the queued one, keeps its place
    outbox.put_progress("b", 0.5, "b")
    outbox.put(result_message("a", "done"), "a")
    messages = drain(outbox)
    assert [m.WhichOneof("message") for m in messages] == ["progress", "pong", "progress", "result"]
    assert (messages[0].progress.task_id, messages[0].progress.fraction, messages[0].progress.message) == ("a", 0.2, "two")
    # Once written, a new update is queued anew.
    outbox.put_progress("a", 0.9, "later")
    assert [m.progress.message for m in drain(outbox)] == ["later"]


def test_outbox_discard_and_close():
    outbox = Outbox()
    outbox.put_progress("a", 0.1, "")
    outbox.put(result_message("a", "x"), "a")
    outbox.put(pong(3))
    outbox.discard("a")
    assert drain(outbox) == [pong(3)]
    outbox.put(pong(4))
    outbox.close()
    assert outbox.get() is None  # closed: dropped, and get() does not block
    assert outbox.put(pong(5)) is False
    assert outbox.put_progress("a", 1, "") is False


# -- admission ------------------------------------------------------------------------------


class FakeRun:
    """Compared by identity, as a real Run is."""

    def __init__(self, tool_name, tool_limit):
        self.tool_name = tool_name
        self.tool_limit = tool_limit


def run_of(tool, limit=0):
    return FakeRun(tool, limit)


def test_admission_applies_global_and_tool_limits_in_order():
    admission = Admission(2)
    a1, a2, b1, b2 = run_of("a", 1), run_of("a", 1), run_of("b"), run_of("b")
    assert admission.admit(a1) is True
    assert admission.admit(a2) is False  # a's own limit
    assert admission.admit(b1) is True
    assert admission.admit(b2) is False  # the worker's limit
    assert admission.release(b1) == [b2]  # a2 waited first, but a1 still holds a's only slot
    assert admission.release(a1) == [a2]
    assert admission.running == 2


def test_admission_withdraw_and_clear():
    admission = Admission(1)
    first, waiting, other = run_of("a"), run_of("a"), run_of("a")
    admission.admit(first)
    admission.admit(waiting)
    admission.admit(other)
    assert admission.withdraw(waiting) is True
    assert admission.withdraw(waiting) is False
    assert admission.release(first) == [other]
    assert admission.clear_waiting() == []


# -- backoff and errors ------------------------------------------------------------------------


def test_backoff_doubles_to_five_seconds_with_jitter():
    top = Backoff(random_fraction=lambda: 1.0)
    assert [round(top.next_delay(), 3) for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    bottom = Backoff(random_fraction=lambda: 0.0)
    assert [round(bottom.next_delay(), 3) for _ in range(3)] == [0.05, 0.1, 0.2]
    top.reset()
    assert round(top.next_delay(), 3) == 0.1


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
    ],
)
def test_configuration_errors_are_fatal(code):
    with pytest.raises(WorkerRejected) as caught:
        check_reconnectable(FakeRpcError(code, "what to fix"))
    assert caught.value.code == code and caught.value.details == "what to fix"


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN]
)
def test_transient_errors_are_retried(code):
    assert check_reconnectable(FakeRpcError(code, "gone")) == f"{code.name}: gone"


def test_silence_limit_follows_the_registration_answer():
    worker = Worker("127.0.0.1:1", name="w")
    assert worker._registered(pb.WorkerRegistered(worker_id="a", ping_interval_seconds=2, timeout_seconds=9)) == 9
    assert worker._registered(pb.WorkerRegistered(worker_id="b", ping_interval_seconds=2)) == 6
    assert worker._registered(pb.WorkerRegistered(worker_id="c")) is None
    assert worker.worker_id == "c"


# -- dispatcher ------------------------------------------------------------------------------


class Dispatched:
    """A Dispatcher on one outbox whose started runs are only recorded, never executed."""

    def __init__(self, make_context=ToolContext):
        worker = Worker("127.0.0.1:1", name="w")
        worker.tool(name="t")(plain)
        self.started = []
        self.outbox = Outbox()
        self.dispatcher = Dispatcher(worker._registry, 0, make_context=make_context, start=self.started.append)
        self.dispatcher.attach(self.outbox)

    def invoke(self, *task_ids):
        for task_id in task_ids:
            self.dispatcher.invoke(pb.Invocation(task_id=task_id, tool_name="t", arguments_json="{}"))
        return self.started[-len(task_ids):]


def test_a_queued_result_is_discarded_by_a_later_cancellation():
    d = Dispatched()
    [run] = d.invoke("x")
    run.ctx.progress(0.5)
    d.dispatcher.finish(run, result_message("x", "done"))
    d.dispatcher.cancel(pb.Cancellation(task_id="x", reason=task_pb2.FAILURE_REASON_CANCELLED))
    assert drain(d.outbox) == []


def test_nothing_is_sent_for_a_run_after_it_finished_or_was_cancelled():
    d = Dispatched()
    done, gone = d.invoke("done", "gone")
    d.dispatcher.finish(done, result_message("done", 1))
    done.ctx.progress(1.0, "after the result")
    d.dispatcher.cancel(pb.Cancellation(task_id="gone", reason=task_pb2.FAILURE_REASON_HARD_TIMEOUT, message="late"))
    gone.ctx.progress(0.3)
    d.dispatcher.finish(gone, result_message("gone", 2))
    assert [(m.result.task_id, m.result.result) for m in drain(d.outbox)] == [("done", "1")]
    assert (gone.ctx.cancel_reason, gone.ctx.cancel_message) == ("HARD_TIMEOUT", "late")


def test_detach_cancels_every_run_and_closes_the_outbox():
    d = Dispatched()
    [run] = d.invoke("a")
    d.dispatcher.detach("WORKER_LOST", "connection lost")
    assert (run.ctx.cancel_reason, run.ctx.cancel_message) == ("WORKER_LOST", "connection lost")
    assert d.outbox.closed
    d.dispatcher.invoke(pb.Invocation(task_id="b", tool_name="t"))  # no stream: ignored
    assert d.started == [run]


def test_a_duplicate_invocation_is_ignored():
    d = Dispatched()
    d.invoke("same")
    d.dispatcher.invoke(pb.Invocation(task_id="same", tool_name="t"))
    assert len(d.started) == 1


# -- questions -------------------------------------------------------------------------------


class Recorded(Question):
    """A question that records how it was settled."""

    def __init__(self):
        self.outcomes = []

    def settle(self, outcome):
        self.outcomes.append(outcome)


def only_refusal(question):
    [outcome] = question.outcomes
    assert isinstance(outcome, InputRequestError), outcome
    return outcome.error


def test_a_question_is_sent_while_its_run_runs_one_at_a_time_and_settled_by_its_answer():
    d = Dispatched()
    [run] = d.invoke("a")
    first, second = Recorded(), Recorded()

    d.dispatcher.ask(run, "Go?", {"type": "object"}, first)
    d.dispatcher.ask(run, "And now?", {"type": "object"}, second)

    [sent] = drain(d.outbox)
    assert sent.input_request == pb.InvocationInputRequest(task_id="a", message="Go?", schema_json='{"type": "object"}')
    assert first.outcomes == []
    assert only_refusal(second) == "another question of this invocation is still waiting"
    d.dispatcher.answer(pb.InvocationInput(task_id="b", response_json="{}"))  # no such run: ignored
    assert first.outcomes == []
    d.dispatcher.answer(pb.InvocationInput(task_id="a", response_json='{"go": true}'))
    d.dispatcher.answer(pb.InvocationInput(task_id="a", response_json='{"go": false}'))  # nothing open: ignored
    assert first.outcomes == [{"go": True}]

    third = Recorded()
    d.dispatcher.ask(run, "Once more?", {}, third)  # the slot is free again
    assert [m.input_request.message for m in drain(d.outbox)] == ["Once more?"]
    d.dispatcher.finish(run, result_message("a", "done"))  # e.g. asked by a thread the handler left behind
    assert only_refusal(third) == "the invocation returned before the answer came"
    late = Recorded()
    d.dispatcher.ask(run, "After?", {}, late)
    assert only_refusal(late) == "the invocation has already returned"
    assert [m.WhichOneof("message") for m in drain(d.outbox)] == ["result"]


def test_a_cancelled_or_detached_run_ends_its_question_and_asks_no_more():
    d = Dispatched()
    cancelled, lost = d.invoke("c", "l")
    on_cancel, on_detach = Recorded(), Recorded()
    d.dispatcher.ask(cancelled, "c?", {}, on_cancel)
    d.dispatcher.ask(lost, "l?", {}, on_detach)
    assert len(drain(d.outbox)) == 2

    d.dispatcher.cancel(pb.Cancellation(task_id="c", reason=task_pb2.FAILURE_REASON_INPUT_TIMEOUT, message="late"))
    assert on_cancel.outcomes == [None]
    assert cancelled.ctx.cancel_reason == "INPUT_TIMEOUT"  # set before the question ends: the handler reads it
    again = Recorded()
    d.dispatcher.ask(cancelled, "c again?", {}, again)
    assert again.outcomes == [None]
    assert drain(d.outbox) == []

    d.dispatcher.detach("WORKER_LOST", "connection lost")
    assert on_detach.outcomes == [None]


def test_an_unusable_answer_or_a_refusal_without_reason_is_an_input_request_error():
    d = Dispatched()
    questions = {"x": Recorded(), "y": Recorded()}
    for run in d.invoke("x", "y"):
        d.dispatcher.ask(run, "?", {}, questions[run.task_id])
    d.dispatcher.answer(pb.InvocationInput(task_id="x", response_json="[1, 2]"))
    d.dispatcher.answer(pb.InvocationInput(task_id="y"))  # neither an answer nor an error
    assert "the answer must be a JSON object, not list" in only_refusal(questions["x"])
    assert only_refusal(questions["y"]) == "the server refused it without a reason"


@pytest.mark.parametrize(
    "message, schema, error",
    [
        (42, {"type": "object"}, TypeError),
        ("Go?", "{'type': 'object'}", TypeError),
        ("Go?", ["object"], TypeError),
        ("Go?", {"maximum": math.nan}, ValueError),
        ("Go?", {"default": object()}, ValueError),
    ],
)
def test_a_question_that_cannot_be_encoded_raises_before_anything_is_sent(message, schema, error):
    d = Dispatched()
    [run] = d.invoke("a")
    question = Recorded()
    with pytest.raises(error):
        run.ctx.request_input(message, schema)
    with pytest.raises(error):
        d.dispatcher.ask(run, message, schema, question)
    assert question.outcomes == [] and drain(d.outbox) == []


def test_request_input_needs_the_context_of_a_running_worker():
    ctx = ToolContext(task_id="t", tool_name="x", origin=None, hard_timeout_seconds=0.0, report=lambda f, m: None)
    with pytest.raises(RuntimeError, match="running worker"):
        ctx.request_input("Go?", {"type": "object"})


def test_asking_after_the_cancellation_raises_it_at_once_in_both_context_kinds():
    """A handler that caught its cancellation and asks again must not wait for an answer that never comes."""

    def cancelled_run(make_context):
        d = Dispatched(make_context)
        [run] = d.invoke("c")
        d.dispatcher.cancel(pb.Cancellation(task_id="c", reason=task_pb2.FAILURE_REASON_CANCELLED, message="by a user"))
        return run, d.outbox

    run, outbox = cancelled_run(ToolContext)
    with pytest.raises(InvocationCancelled) as caught:
        run.ctx.request_input("Still?", {"type": "object"})
    assert (caught.value.task_id, caught.value.reason, caught.value.message) == ("c", "CANCELLED", "by a user")
    assert drain(outbox) == []

    async def ask_async():
        run, outbox = cancelled_run(AsyncToolContext)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(run.ctx.request_input("Still?", {"type": "object"}), 1.0)
        assert drain(outbox) == []

    asyncio.run(ask_async())


# -- output (ctx.output) -------------------------------------------------------------------------


def outputs(messages):
    return [(m.output.task_id, m.output.text) for m in messages if m.WhichOneof("message") == "output"]


def test_outbox_joins_output_still_queued_and_keeps_its_order_with_the_rest():
    outbox = Outbox()
    outbox.put_output("a", "one ")
    outbox.put_output("a", "two ")  # joins the queued piece
    outbox.put_output("b", "other")
    outbox.put_output("a", "three")  # after b's: a new message
    outbox.put_progress("a", 0.5, "")
    outbox.put_output("a", "four")
    outbox.put(result_message("a", "done"), "a")
    messages = drain(outbox)
    assert [m.WhichOneof("message") for m in messages] == ["output", "output", "output", "progress", "output", "result"]
    assert outputs(messages) == [("a", "one two "), ("b", "other"), ("a", "three"), ("a", "four")]
    # Once written, output is queued anew.
    outbox.put_output("a", "five")
    assert outputs(drain(outbox)) == [("a", "five")]


def test_outbox_splits_long_output_and_fills_a_queued_piece_first():
    outbox = Outbox()
    outbox.put_output("a", "x" * (OUTPUT_PIECE_CHARS - 2))
    outbox.put_output("a", "é" * (2 * OUTPUT_PIECE_CHARS + 5))
    pieces = [text for _, text in outputs(drain(outbox))]
    assert [len(text) for text in pieces] == [OUTPUT_PIECE_CHARS, OUTPUT_PIECE_CHARS, OUTPUT_PIECE_CHARS, 3]
    assert "".join(pieces) == "x" * (OUTPUT_PIECE_CHARS - 2) + "é" * (2 * OUTPUT_PIECE_CHARS + 5)
    assert max(len(text.encode()) for text in pieces) <= 4 * OUTPUT_PIECE_CHARS


def test_outbox_discards_and_drops_output_like_the_rest():
    outbox = Outbox()
    outbox.put_output("a", "gone")
    outbox.put(pong(1))
    outbox.put_output("b", "kept")
    outbox.discard("a")
    assert [m.WhichOneof("message") for m in drain(outbox)] == ["pong", "output"]
    outbox.close()
    assert outbox.put_output("a", "late") is False


def test_output_refuses_what_is_not_a_str_ignores_empty_text_and_needs_a_worker():
    written = []
    ctx = ToolContext(
        task_id="t", tool_name="x", origin=None, hard_timeout_seconds=0.0, report=lambda f, m: None, write=written.append
    )
    ctx.output("ünï ✓\n")
    ctx.output("")
    for bad in (b"bytes", 3, None):
        with pytest.raises(TypeError, match="must be a str"):
            ctx.output(bad)
    with pytest.raises(ValueError):
        ctx.output("lone \ud800 surrogate")
    assert written == ["ünï ✓\n"]
    bare = ToolContext(task_id="t", tool_name="x", origin=None, hard_timeout_seconds=0.0, report=lambda f, m: None)
    bare.output("")  # nothing to send: fine
    with pytest.raises(RuntimeError, match="running worker"):
        bare.output("text")


@pytest.mark.parametrize("make_context", [ToolContext, AsyncToolContext])
def test_output_is_queued_while_the_run_runs_and_ignored_once_it_ended(make_context):
    async def scenario():
        d = Dispatched(make_context)
        done, gone = d.invoke("done", "gone")
        done.ctx.output("before the result")
        d.dispatcher.finish(done, result_message("done", "r"))
        done.ctx.output("after the result")  # e.g. from a thread the handler left behind
        gone.ctx.output("queued, then discarded")
        d.dispatcher.cancel(pb.Cancellation(task_id="gone", reason=task_pb2.FAILURE_REASON_CANCELLED))
        gone.ctx.output("after the cancellation")
        messages = drain(d.outbox)
        assert [(m.WhichOneof("message"), outputs([m]) or m.result.task_id) for m in messages] == [
            ("output", [("done", "before the result")]),
            ("result", "done"),
        ]

    asyncio.run(scenario())  # an AsyncToolContext is made on a loop
