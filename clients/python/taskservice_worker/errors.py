"""Which stream errors end the worker and which ones it reconnects after,
and what a handler's question (ctx.request_input) can raise.

A status in FATAL_CODES means the server understood the worker and said no
(a bad tool name, a schema clash with another worker, bad credentials, a
server without ToolWorkerService): retrying cannot help, so run() raises
WorkerRejected. Anything else (UNAVAILABLE, a reset connection, the server
closing the stream on shutdown) is worth reconnecting after.
"""

from __future__ import annotations

import grpc

FATAL_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class WorkerRejected(Exception):
    """The server turned the worker away; the details say what to fix."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"TaskService rejected the worker ({code.name}): {details}")
        self.code = code
        self.details = details


def status_of(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    """The status code and details of a failed call (sync and aio errors alike)."""
    code = error.code() if callable(getattr(error, "code", None)) else None
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN, details or ""


def check_reconnectable(error: grpc.RpcError) -> str:
    """Raise WorkerRejected if error is fatal; else describe it for the reconnect log line."""
    code, details = status_of(error)
    if code in FATAL_CODES:
        raise WorkerRejected(code, details) from None
    return f"{code.name}: {details}" if details else code.name


class InputRequestError(Exception):
    """ctx.request_input could not ask: the server refused the question (a bad
    schema, an empty message, a no_background tool, ...), another question of
    the invocation is still waiting, or the invocation has already returned.

    Left uncaught, it fails the invocation with its message, like any exception.
    """

    def __init__(self, task_id: str, error: str) -> None:
        super().__init__(f"the question of task {task_id} could not be asked: {error}")
        #: The task whose question it was.
        self.task_id = task_id
        #: Why, as the server (or the worker) said it.
        self.error = error


class InvocationCancelled(BaseException):
    """The invocation was cancelled while a Worker (thread) handler waited in
    ctx.request_input: the task was cancelled, its question or hard limit timed
    out, the server or the worker is shutting down, or the stream was lost.

    ``reason`` and ``message`` are ctx.cancel_reason and ctx.cancel_message.
    Like asyncio.CancelledError (which an AsyncWorker handler gets instead) it
    is a BaseException, so ``except Exception`` does not swallow it; nothing
    the handler returns or raises afterwards is sent.
    """

    def __init__(self, task_id: str, reason: str, message: str) -> None:
        super().__init__(f"task {task_id} was cancelled ({reason})" + (f": {message}" if message else ""))
        #: The task whose invocation was cancelled.
        self.task_id = task_id
        #: "CANCELLED", "INPUT_TIMEOUT", "HARD_TIMEOUT", "SHUTDOWN", "WORKER_LOST", ...
        self.reason = reason
        #: The explanation that came with it.
        self.message = message
