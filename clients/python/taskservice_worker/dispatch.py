"""The bookkeeping of invocations, shared by the thread and asyncio workers.

The Dispatcher turns Invocation and Cancellation messages into runs, decides
whether a result may still be sent, and tells handlers when their connection
is gone. How a run is actually executed (a pool thread or an asyncio task)
and interrupted is supplied by the worker as two callbacks, so both worker
kinds follow exactly the same rules:

* a result, progress update or output is sent only while the run is RUNNING
  on a live connection (output goes through the same outbox as the result,
  so what a handler wrote before returning is sent before its result); a cancellation (from the server, a lost stream or stop())
  makes it CANCELLED first, and discards anything still queued for it;
* an invocation that does not fit the concurrency limits waits (Admission);
* the arguments are parsed and the tool looked up here, so a bad invocation
  gets an error result instead of reaching the handler;
* a handler's question (ctx.request_input) is sent only while its run is
  RUNNING, one at a time per run; the server's InvocationInput settles it,
  and so does whatever ends the run first (a Cancellation, a lost stream,
  stop(), the handler returning), so no handler is left waiting.

All state is guarded by one lock, because results and progress arrive from
handler threads while messages arrive on the receiving loop.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ._proto import tool_worker_pb2
from .admission import Admission
from .context import BaseToolContext, Question, QuestionOutcome
from .errors import InputRequestError
from .messages import (
    ConnectRequest,
    encode_schema,
    error_message,
    input_request_message,
    origin_of,
    parse_answer,
    parse_arguments,
    reason_name,
)
from .outbox import Outbox
from .registry import Tool, ToolRegistry

logger = logging.getLogger("taskservice_worker")


class RunState(enum.Enum):
    WAITING = "waiting"  # admitted later, when a slot frees
    RUNNING = "running"  # the handler runs; its outcome will be sent
    DONE = "done"  # the outcome was queued
    CANCELLED = "cancelled"  # the handler is told to stop; nothing more is sent


class Run:
    """One invocation: the tool, its arguments, its context and its stream."""

    def __init__(self, tool: Tool, task_id: str, args: dict[str, Any], outbox: Outbox) -> None:
        self.tool = tool
        self.task_id = task_id
        self.args = args
        self.outbox = outbox
        self.state = RunState.WAITING
        self.ctx: Any = None  # the worker's context class, set by the Dispatcher
        self.handle: Any = None  # the worker's Future or Task
        self.question: Question | None = None  # the question sent and not yet answered

    @property
    def tool_name(self) -> str:
        return self.tool.name

    @property
    def tool_limit(self) -> int:
        return self.tool.concurrency

    @property
    def cancelled_by_worker(self) -> bool:
        """True once the run was cancelled on purpose (its CancelledError is expected)."""
        return self.state is RunState.CANCELLED


ContextFactory = Callable[..., BaseToolContext]


class Dispatcher:
    def __init__(
        self,
        registry: ToolRegistry,
        max_concurrency: int,
        *,
        make_context: ContextFactory,
        start: Callable[[Run], None],
        interrupt: Callable[[Run], None] = lambda run: None,
    ) -> None:
        self._registry = registry
        self._make_context = make_context
        self._start = start
        self._interrupt = interrupt
        self._lock = threading.Lock()
        self._admission: Admission[Run] = Admission(max_concurrency)
        self._runs: dict[str, Run] = {}
        self._outbox: Outbox | None = None

    # -- connection lifecycle (receiving loop) ---------------------------------

    def attach(self, outbox: Outbox) -> None:
        """A new stream: invocations from now on answer through outbox."""
        with self._lock:
            self._outbox = outbox

    def detach(self, reason: str, message: str) -> None:
        """The stream is gone: cancel every run of it and close its outbox.

        Running handlers are told (reason, message) and their outcome will be
        dropped; runs still waiting for a slot never start.
        """
        with self._lock:
            outbox, self._outbox = self._outbox, None
            self._admission.clear_waiting()
            for run in self._runs.values():
                self._cancel(run, reason, message)
            self._runs.clear()
        if outbox is not None:
            outbox.close()

    # -- server messages (receiving loop) --------------------------------------

    def invoke(self, invocation: tool_worker_pb2.Invocation) -> None:
        task_id = invocation.task_id
        with self._lock:
            outbox = self._outbox
            if outbox is None:
                return
            if task_id in self._runs:
                logger.warning("ignoring a second invocation of task %s, which is still running", task_id)
                return
            tool = self._registry.get(invocation.tool_name)
            if tool is None:
                hosted = ", ".join(self._registry.names())
                outbox.put(
                    error_message(task_id, f"unknown tool {invocation.tool_name!r} (this worker hosts: {hosted})"),
                    task_id,
                )
                return
            try:
                args = parse_arguments(invocation.arguments_json)
            except ValueError as exc:
                outbox.put(error_message(task_id, str(exc)), task_id)
                return
            run = Run(tool, task_id, args, outbox)
            run.ctx = self._make_context(
                task_id=task_id,
                tool_name=tool.name,
                origin=origin_of(invocation),
                hard_timeout_seconds=invocation.hard_timeout_seconds,
                traceparent=invocation.traceparent,
                tracestate=invocation.tracestate,
                report=lambda fraction, text: self._report(run, fraction, text),
                ask=lambda message, schema, question: self.ask(run, message, schema, question),
                write=lambda text: self._write(run, text),
            )
            self._runs[task_id] = run
            if self._admission.admit(run):
                self._launch(run)

    def cancel(self, cancellation: tool_worker_pb2.Cancellation) -> None:
        task_id = cancellation.task_id
        with self._lock:
            if self._outbox is not None:
                # Also covers a run that already finished and whose result is still queued.
                self._outbox.discard(task_id)
            run = self._runs.pop(task_id, None)
            if run is not None:
                self._cancel(run, reason_name(cancellation.reason), cancellation.message)

    def answer(self, message: tool_worker_pb2.InvocationInput) -> None:
        """The server's InvocationInput: settle the run's open question with the answer or the refusal."""
        task_id = message.task_id
        with self._lock:
            run = self._runs.get(task_id)
            if run is None or run.question is None:
                logger.debug("ignoring an input for task %s, which has no open question here", task_id)
                return
            kind = message.WhichOneof("outcome")
            outcome: QuestionOutcome
            if kind == "response_json":
                try:
                    outcome = parse_answer(message.response_json)
                except ValueError as exc:
                    outcome = InputRequestError(task_id, f"the server sent an unusable answer: {exc}")
            else:
                outcome = InputRequestError(task_id, message.error or "the server refused it without a reason")
            self._settle_question(run, outcome)

    # -- handlers (any thread) ---------------------------------------------------

    def ask(self, run: Run, message: str, schema: Mapping[str, Any], question: Question) -> None:
        """A handler's question: send it, and settle question when its outcome is known.

        Raises TypeError or ValueError (nothing sent) for a message that is not
        a str or a schema that is not a JSON-serializable mapping.
        """
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, not {type(message).__name__}")
        schema_json = encode_schema(schema)
        task_id = run.task_id
        with self._lock:
            if run.state is RunState.CANCELLED:
                question.settle(None)
            elif run.state is not RunState.RUNNING:
                question.settle(InputRequestError(task_id, "the invocation has already returned"))
            elif run.question is not None:
                # The server takes one open question per invocation, and its
                # answer names only the task: a second one could get the first's answer.
                question.settle(InputRequestError(task_id, "another question of this invocation is still waiting"))
            elif not run.outbox.put(input_request_message(task_id, message, schema_json), task_id):
                question.settle(None)  # the stream is gone; its detach cancels the run
            else:
                run.question = question

    def finish(self, run: Run, outcome: ConnectRequest | None) -> None:
        """The handler returned: send outcome if the run still may, free its slot."""
        with self._lock:
            # A question asked by a thread or task the handler left behind.
            self._settle_question(run, InputRequestError(run.task_id, "the invocation returned before the answer came"))
            if run.state is RunState.RUNNING:
                run.state = RunState.DONE
                if outcome is not None:
                    run.outbox.put(outcome, run.task_id)
            if self._runs.get(run.task_id) is run:
                del self._runs[run.task_id]
            for waiter in self._admission.release(run):
                self._launch(waiter)

    def _report(self, run: Run, fraction: float, text: str) -> None:
        with self._lock:
            if run.state is RunState.RUNNING:
                run.outbox.put_progress(run.task_id, fraction, text)

    def _write(self, run: Run, text: str) -> None:
        with self._lock:
            if run.state is RunState.RUNNING:
                run.outbox.put_output(run.task_id, text)

    # -- internals (lock held) ---------------------------------------------------

    def _launch(self, run: Run) -> None:
        run.state = RunState.RUNNING
        self._start(run)

    def _cancel(self, run: Run, reason: str, message: str) -> None:
        was_running = run.state is RunState.RUNNING
        if run.state is RunState.WAITING:
            self._admission.withdraw(run)
        run.state = RunState.CANCELLED
        run.ctx._cancel(reason, message)
        self._settle_question(run, None)  # after _cancel: the handler reads the reason when it wakes
        if was_running:
            self._interrupt(run)

    @staticmethod
    def _settle_question(run: Run, outcome: QuestionOutcome) -> None:
        question, run.question = run.question, None
        if question is not None:
            question.settle(outcome)
