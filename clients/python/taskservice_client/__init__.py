"""Call TaskService from Python: run tools, await, answer, cancel and redirect their tasks.

    from taskservice_client import Client

    with Client("127.0.0.1:50051") as client:
        outcome = client.execute("sleep", {"seconds": 3}, budget_seconds=1)
        print(outcome.text)                 # what a model would read
        if outcome.backgrounded:            # a TaskHandle: the tool runs on
            print(outcome.wait().text)      # its result, once it completed

To run a tool and follow it to its end (its output, progress, answer and
updates), iterate ``client.execute_stream(...)``; ``await_result(output=True)``
follows a task's output, ``read_output`` reads it. Broken streams are resumed
where they stopped: nothing is lost or repeated.

Client blocks (thread-safe); AsyncClient is the same API for asyncio.
Failures raise TaskServiceError subclasses (NotFound, InvalidArgument, ...);
UNAVAILABLE is retried for idempotent calls. See README.md for the whole API.
"""

from .async_client import AsyncClient, AsyncExecuteEvent, AsyncTaskHandle
from .client import Client, ExecuteEvent, TaskHandle
from .errors import (
    AlreadyExists,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    TaskServiceError,
    ToolFailed,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    WaitTimedOut,
)
from .models import (
    DeliveryState,
    FailureReason,
    InputRequest,
    OutputChunk,
    OutputRedirect,
    Progress,
    RedirectTarget,
    Result,
    ServerInfo,
    Task,
    TaskPage,
    TaskStatus,
    TaskUpdate,
    ToolInfo,
    UpdateKind,
)
from .retry import NO_RETRY, RetryPolicy

__all__ = [
    "AlreadyExists",
    "AsyncClient",
    "AsyncExecuteEvent",
    "AsyncTaskHandle",
    "Cancelled",
    "Client",
    "DeadlineExceeded",
    "DeliveryState",
    "ExecuteEvent",
    "FailedPrecondition",
    "FailureReason",
    "InputRequest",
    "Internal",
    "InvalidArgument",
    "NO_RETRY",
    "NotFound",
    "OutputChunk",
    "OutputRedirect",
    "PermissionDenied",
    "Progress",
    "RedirectTarget",
    "ResourceExhausted",
    "Result",
    "RetryPolicy",
    "ServerInfo",
    "Task",
    "TaskHandle",
    "TaskPage",
    "TaskServiceError",
    "TaskStatus",
    "TaskUpdate",
    "ToolFailed",
    "ToolInfo",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "UpdateKind",
    "WaitTimedOut",
    "__version__",
]

from ._version import __version__
