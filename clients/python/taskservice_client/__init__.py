"""Call TaskService from Python: run tools, await, answer, cancel and redirect their tasks.

    from taskservice_client import Client

    with Client("127.0.0.1:50051") as client:
        outcome = client.execute("sleep", {"seconds": 3}, budget_seconds=1)
        print(outcome.text)                 # what a model would read
        if outcome.backgrounded:            # a TaskHandle: the tool runs on
            print(outcome.wait().text)      # its result, once it completed

Client blocks (thread-safe); AsyncClient is the same API for asyncio.
Failures raise TaskServiceError subclasses (NotFound, InvalidArgument, ...);
UNAVAILABLE is retried for idempotent calls. See README.md for the whole API.
"""

from .async_client import AsyncClient, AsyncTaskHandle
from .client import Client, TaskHandle
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
    "AsyncTaskHandle",
    "Cancelled",
    "Client",
    "DeadlineExceeded",
    "DeliveryState",
    "FailedPrecondition",
    "FailureReason",
    "InputRequest",
    "Internal",
    "InvalidArgument",
    "NO_RETRY",
    "NotFound",
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
