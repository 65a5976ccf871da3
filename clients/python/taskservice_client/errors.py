"""What the client raises: one exception class per gRPC status worth telling apart.

A caller should be able to write ``except NotFound`` instead of comparing
``error.code()`` with grpc.StatusCode values, and a program should not need
to know which statuses this service uses: README.md ("Errors") lists them,
and each has a class here. A status without a class of its own still raises
TaskServiceError with its code.

Two errors do not come from a status but from the task: ToolFailed (the task
ended FAILED) and WaitTimedOut (the wait limit passed first). They share the
base class so that ``except TaskServiceError`` catches everything the client
raises; their ``code`` is None.
"""

from __future__ import annotations

from typing import Any

import grpc

from .models import FailureReason, Result, Task, TaskUpdate

# The trailer in which the server names its error class ("TaskNotFound", "ToolNotFound", ...).
REASON_TRAILER = "error-reason"


class TaskServiceError(Exception):
    """A call failed. code: the gRPC status (None for ToolFailed and WaitTimedOut);
    message: the server's explanation, which says what to fix; reason: the
    server's error class from the error-reason trailer ("" when not sent)."""

    def __init__(self, code: grpc.StatusCode | None, message: str, reason: str = "") -> None:
        super().__init__(f"{code.name}: {message}" if code is not None else message)
        self.code = code
        self.message = message
        self.reason = reason


class InvalidArgument(TaskServiceError):
    """A request field is malformed: bad arguments for the tool, an answer its question's
    schema refuses, a malformed id, a bad budget."""


class NotFound(TaskServiceError):
    """An unknown tool, or a task that does not exist or belongs to another user."""


class AlreadyExists(TaskServiceError):
    pass


class PermissionDenied(TaskServiceError):
    """The token may not act for that user."""


class Unauthenticated(TaskServiceError):
    """No token, a malformed one or an unknown one."""


class ResourceExhausted(TaskServiceError):
    """A server limit was reached (tools running, open streams); later may work."""


class FailedPrecondition(TaskServiceError):
    """The task's state does not allow it (cancelling a finished task, moving a delivered redirect,
    answering a question that is not the task's open one)."""


class Unavailable(TaskServiceError):
    """The server could not be reached, is shutting down, or lost its store (after the retries)."""


class DeadlineExceeded(TaskServiceError):
    """The call's deadline passed before the server answered."""


class Cancelled(TaskServiceError):
    """The call was cancelled on the client's side (not a task cancellation: see ToolFailed)."""


class Unimplemented(TaskServiceError):
    """The server does not offer this RPC (not a TaskService server, or an older one)."""


class Internal(TaskServiceError):
    """A bug in the server; its log has the cause."""


_BY_CODE: dict[grpc.StatusCode, type[TaskServiceError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
}


def error_class(code: grpc.StatusCode) -> type[TaskServiceError]:
    """The exception class raised for a status code (TaskServiceError when it has none of its own)."""
    return _BY_CODE.get(code, TaskServiceError)


def status_code(error: BaseException) -> grpc.StatusCode:
    """The status code of a failed call (sync and aio errors alike); UNKNOWN if it has none."""
    method = getattr(error, "code", None)
    code = method() if callable(method) else None
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def from_rpc_error(error: grpc.RpcError) -> TaskServiceError:
    """The TaskServiceError for a failed gRPC call."""
    code = status_code(error)
    details = error.details() if callable(getattr(error, "details", None)) else ""
    return error_class(code)(code, details or str(error) or code.name, _reason(error))


def _reason(error: Any) -> str:
    trailers = error.trailing_metadata() if callable(getattr(error, "trailing_metadata", None)) else None
    for key, value in trailers or ():
        if key == REASON_TRAILER:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


class ToolFailed(TaskServiceError):
    """The awaited task ended FAILED: the tool raised, or it was cancelled, timed
    out, lost its worker or the server shut down (see failure_reason)."""

    def __init__(self, task: Task, text: str) -> None:
        reason = task.failure_reason
        super().__init__(None, f"task {task.task_id} ({task.tool_name}) failed ({reason.name}): {task.error}")
        self.task = task
        #: The JSON status a model would read for this task.
        self.text = text
        self.failure_reason: FailureReason = reason
        self.error = task.error


class WaitTimedOut(TaskServiceError):
    """The wait limit passed with the task still running or waiting for input (it goes on)."""

    def __init__(self, task: Task, text: str) -> None:
        state = "waiting for input" if task.input_required else "still running"
        super().__init__(None, f"task {task.task_id} ({task.tool_name}) is {state} after the wait limit")
        self.task = task
        self.text = text


def settled(update: TaskUpdate) -> Result:
    """The Result of a stream's last update; ToolFailed or WaitTimedOut unless it completed."""
    if update.task.failed:
        raise ToolFailed(update.task, update.text)
    if not update.task.completed:
        raise WaitTimedOut(update.task, update.text)
    return Result(text=update.text, task=update.task)
