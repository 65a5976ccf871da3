"""Which stream errors end the worker and which ones it reconnects after.

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
