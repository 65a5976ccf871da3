"""What a tool handler is given besides its arguments.

A handler learns who called it (origin), reports progress, and finds out that
it should stop (cancelled). The two context classes differ only in the kind
of event ``cancelled`` is, so that a thread can block on it
(``ctx.cancelled.wait(0.1)``) and a coroutine can await it.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

# Sends one progress update (fraction already clamped); supplied by the worker.
ProgressSink = Callable[[float, str], None]


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

    def _new_event(self) -> threading.Event | asyncio.Event:
        raise NotImplementedError

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


class AsyncToolContext(BaseToolContext):
    """The context of an AsyncWorker (coroutine) handler; built on the worker's loop."""

    #: Set when the handler is cancelled; its task also receives CancelledError.
    cancelled: asyncio.Event

    def _new_event(self) -> asyncio.Event:
        return asyncio.Event()
