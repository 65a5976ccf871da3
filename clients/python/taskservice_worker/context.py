"""What a tool handler is given besides its arguments.

A handler learns who called it (origin), reports progress, writes output
(output), asks a person a question (request_input), and finds out that it
should stop (cancelled). The
two context classes differ only in how they wait: ``cancelled`` is an event a
thread can block on (``ctx.cancelled.wait(0.1)``) or a coroutine can await,
and request_input blocks the handler's thread or is awaited.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from .errors import InputRequestError, InvocationCancelled

# Sends one progress update (fraction already clamped); supplied by the worker.
ProgressSink = Callable[[float, str], None]
# Queues output the handler wrote (a non-empty str that UTF-8 can encode); supplied by the worker.
OutputSink = Callable[[str], None]

#: How a question ends: the answer object, why it could not be asked, or None
#: when the invocation ended first (cancelled, stream lost, worker stopping).
QuestionOutcome = Union[dict[str, Any], InputRequestError, None]


class Question:
    """One question of a handler, waiting for its outcome.

    Settled exactly once, by the worker (under its dispatcher's lock), from
    the receiving loop or, for a question refused on the spot, from the
    handler's own thread or task.
    """

    def settle(self, outcome: QuestionOutcome) -> None:
        raise NotImplementedError


# Sends a handler's question (message, answer schema) and settles question
# with its outcome later; supplied by the worker. Raises TypeError or
# ValueError for a message or schema that cannot be sent.
AskSink = Callable[[str, Mapping[str, Any], Question], None]


@dataclass(frozen=True)
class Origin:
    """Who the call was made for, as the server's Execute received it."""

    user_id: str = ""
    channel_id: str = ""
    platform: str = ""


def clamp_fraction(fraction: float) -> float:
    """0..1; a non-finite value becomes 0 so a bad computation never breaks a report."""
    value = float(fraction)
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, value))


class BaseToolContext:
    """The part of the context both worker kinds share."""

    def __init__(
        self,
        *,
        task_id: str,
        tool_name: str,
        origin: Origin,
        hard_timeout_seconds: float,
        report: ProgressSink,
        traceparent: str = "",
        tracestate: str = "",
        ask: AskSink | None = None,
        write: OutputSink | None = None,
    ) -> None:
        #: The task this invocation runs.
        self.task_id = task_id
        #: The tool invoked (useful when one function serves several tools).
        self.tool_name = tool_name
        #: Who the call was made for.
        self.origin = origin
        #: The server stops waiting after this long (0: unknown). It sends a
        #: Cancellation with reason HARD_TIMEOUT when the limit passes.
        self.hard_timeout_seconds = hard_timeout_seconds
        #: The W3C trace context of the Execute call that started the task
        #: ("" when the caller sent none). Pass it on with the tool's own
        #: outgoing calls, or start a child span from it, so that the tool's
        #: work shows up in the caller's trace.
        self.traceparent = traceparent
        #: The vendor part of that trace context ("" when none).
        self.tracestate = tracestate
        self._report = report
        self._ask = ask
        self._write = write
        self._cancel_reason: str | None = None
        self._cancel_message = ""
        self.cancelled = self._new_event()

    @property
    def cancel_reason(self) -> str | None:
        """Why the invocation was cancelled ("CANCELLED", "HARD_TIMEOUT", "SHUTDOWN",
        "WORKER_LOST", ...), or None while it is not."""
        return self._cancel_reason

    @property
    def cancel_message(self) -> str:
        """The server's (or the worker's) explanation of the cancellation; "" while none."""
        return self._cancel_message

    def progress(self, fraction: float, message: str = "") -> None:
        """Report how far along the invocation is.

        Safe from any thread and cheap: the update is queued, and an update
        still waiting to be written is replaced by a newer one for the same
        task, so a tight loop cannot flood the stream. Ignored once the
        invocation has finished or been cancelled.
        """
        self._report(clamp_fraction(fraction), str(message))

    def output(self, text: str) -> None:
        """Append text to the task's output, which callers read or stream as it grows.

        Written in order with the invocation's other messages: whatever was
        written before the handler returns reaches the server before its
        result. Safe from any thread, never blocks (the text is queued), and
        the same for Worker and AsyncWorker handlers (not awaited). An empty
        string is ignored, and so is anything written once the invocation has
        finished or been cancelled. The server keeps at most
        TASKSERVICE_MAX_OUTPUT_BYTES of a task's output (then a marker line,
        and later writes are dropped).

        Raises TypeError unless text is a str, ValueError (UnicodeEncodeError)
        for a str UTF-8 cannot encode (lone surrogates).
        """
        if not isinstance(text, str):
            raise TypeError(f"output must be a str, not {type(text).__name__}")
        if not text:
            return
        text.encode("utf-8")  # a lone surrogate would otherwise break the stream when it is written
        if self._write is None:
            raise RuntimeError("output needs a context made by a running worker for an invocation")
        self._write(text)

    def _new_event(self) -> threading.Event | asyncio.Event:
        raise NotImplementedError

    def _send_question(self, message: str, schema: Mapping[str, Any], question: Question) -> None:
        if self._ask is None:
            raise RuntimeError("request_input needs a context made by a running worker for an invocation")
        self._ask(message, schema, question)

    def _cancel(self, reason: str, message: str) -> None:
        """Record the first cancellation, then set ``cancelled`` (on the worker's
        thread or loop); later cancellations of the same invocation are ignored."""
        if self._cancel_reason is not None:
            return
        self._cancel_message = message
        self._cancel_reason = reason
        self.cancelled.set()


class ToolContext(BaseToolContext):
    """The context of a Worker (thread) handler."""

    #: Set when the handler should stop; no result is sent after it.
    cancelled: threading.Event

    def _new_event(self) -> threading.Event:
        return threading.Event()

    def request_input(self, message: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Ask a person a question and block until they answer; returns the answer object.

        message: what is asked, for a person (or a model) to read. schema: the
        JSON Schema the answer must match, an object schema as a dict
        (``{"type": "object", "properties": {...}, "required": [...]}``).
        Meanwhile the task is INPUT_REQUIRED with the question, which an
        Execute caller sees at once; the server checks the answer against the
        schema before it comes back here. One question at a time per invocation.

        Raises InputRequestError when the question cannot be asked (a schema
        the server refuses, an empty message, a no_background tool, another
        question of this invocation still waiting), InvocationCancelled when
        the invocation is cancelled while waiting (the task was cancelled, the
        question timed out, the worker is stopping or lost its stream),
        TypeError or ValueError for a schema that is not a JSON-serializable dict.
        """
        question = _ThreadQuestion()
        self._send_question(message, schema, question)
        outcome = question.wait()
        if outcome is None:
            raise InvocationCancelled(self.task_id, self._cancel_reason or "CANCELLED", self._cancel_message)
        if isinstance(outcome, InputRequestError):
            raise outcome
        return outcome


class AsyncToolContext(BaseToolContext):
    """The context of an AsyncWorker (coroutine) handler; built on the worker's loop."""

    #: Set when the handler is cancelled; its task also receives CancelledError.
    cancelled: asyncio.Event

    def _new_event(self) -> asyncio.Event:
        return asyncio.Event()

    async def request_input(self, message: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Ask a person a question and wait for the answer object (see ToolContext.request_input).

        A cancellation of the invocation while waiting raises CancelledError
        here, as at any other await (ctx.cancelled and cancel_reason are set
        first). Raises InputRequestError when the question cannot be asked.
        A question cannot be withdrawn: if the handler stops waiting itself
        (asyncio.wait_for), it stays open until answered or timed out, and
        another request_input raises InputRequestError meanwhile.
        """
        question = _LoopQuestion(asyncio.get_running_loop())
        self._send_question(message, schema, question)
        outcome = await question.future
        if outcome is None:
            raise asyncio.CancelledError()
        if isinstance(outcome, InputRequestError):
            raise outcome
        return outcome


class _ThreadQuestion(Question):
    """A question a handler thread blocks on."""

    def __init__(self) -> None:
        self._settled = threading.Event()
        self._outcome: QuestionOutcome = None

    def settle(self, outcome: QuestionOutcome) -> None:
        if not self._settled.is_set():
            self._outcome = outcome
            self._settled.set()

    def wait(self) -> QuestionOutcome:
        self._settled.wait()
        return self._outcome


class _LoopQuestion(Question):
    """A question a handler coroutine awaits; settled on its loop whichever thread settles it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.future: asyncio.Future[QuestionOutcome] = loop.create_future()

    def settle(self, outcome: QuestionOutcome) -> None:
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._set(outcome)
            return
        try:
            self._loop.call_soon_threadsafe(self._set, outcome)
        except RuntimeError:  # the loop is closed: nobody is left waiting
            pass

    def _set(self, outcome: QuestionOutcome) -> None:
        # Already done when the handler's task was cancelled while awaiting it.
        if not self.future.done():
            self.future.set_result(outcome)
