"""What Client and AsyncClient share: settings, channel, metadata, deadlines, retry decisions.

The two clients differ only in how they wait (a blocking call and
time.sleep, or an awaited call and asyncio.sleep), so the settings they are
built from and every decision that does not wait live here once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

import grpc

from ._calls import Call, StreamBroken
from .errors import from_rpc_error
from .models import Task
from .retry import Attempts, RetryPolicy

Metadata = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
ChannelOptions = Sequence[tuple[str, Any]]

#: The deadline of a unary call when the client is given none.
DEFAULT_TIMEOUT_S = 30.0
#: Execute's deadline is at least its budget plus this, so that the server
#: answers at the budget (with the envelope) rather than the deadline cutting
#: the call off.
EXECUTE_MARGIN_S = 5.0


class EndedEarly(StreamBroken):
    """A stream that ended OK before its last message.

    The server does not do that, but a proxy closing idle streams might; it
    is treated like UNAVAILABLE: reconnect, and fail as Unavailable if the
    reconnects are used up.
    """

    def __init__(self, details: str = "the AwaitResult stream ended before the task's terminal state") -> None:
        super().__init__(details)


class ClientBase:
    """The settings of a client and the decisions that do not wait."""

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        metadata: Metadata = None,
        options: ChannelOptions = (),
        interceptors: Sequence[Any] = (),
    ) -> None:
        """address: the server's "host:port".
        token: sent as "authorization: Bearer <token>" with every call.
        credentials: grpc.ssl_channel_credentials(...) for TLS (None: plaintext).
        retry: how UNAVAILABLE is retried (None: RetryPolicy(); NO_RETRY: never).
        timeout: the deadline of each unary call in seconds (None: none);
        Execute's is at least its budget plus 5 s.
        metadata: more pairs sent with every call.
        options: gRPC channel arguments; they win over the client's own.
        interceptors: gRPC client interceptors (of the sync or aio kind, to match the client).
        """
        if not isinstance(address, str) or not address:
            raise ValueError("address must be a non-empty 'host:port' string")
        if token is not None and (not isinstance(token, str) or not token or any(c.isspace() for c in token)):
            raise ValueError("token must be a non-empty string without whitespace")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        if timeout is not None and (not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
        self.address = address
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout = timeout
        self._credentials = credentials
        pairs = list(_pairs(metadata))
        if token is not None:
            pairs.append(("authorization", f"Bearer {token}"))
        self._metadata = tuple(pairs)
        self._options = _channel_options(self.retry, options)
        self._interceptors = tuple(interceptors)
        self._connect()

    def _connect(self) -> None:
        """Open the channel and make the stub, each of the subclass's kind; called last by __init__."""

    def _open_channel(self, api: Any, **extra: Any) -> Any:
        """A channel from api (grpc or grpc.aio), secure if credentials were given."""
        if self._credentials is None:
            return api.insecure_channel(self.address, options=self._options, **extra)
        return api.secure_channel(self.address, self._credentials, options=self._options, **extra)

    def _deadline(self, call: Call[Any]) -> float | None:
        if self.timeout is None or call.budget is None:
            return self.timeout
        return max(self.timeout, call.budget + EXECUTE_MARGIN_S)

    def _attempts(self, what: str, idempotent: bool = True) -> Attempts:
        return Attempts(self.retry if idempotent else RetryPolicy(max_attempts=1), what)

    @staticmethod
    def _retry_delay(attempts: Attempts, error: grpc.RpcError) -> float:
        """How long to wait before trying again; raises the mapped error when the call should fail."""
        delay = attempts.retry_after(error)
        if delay is None:
            raise from_rpc_error(error) from error
        return delay


def _pairs(metadata: Metadata) -> Iterable[tuple[str, str]]:
    if metadata is None:
        return ()
    items = metadata.items() if isinstance(metadata, Mapping) else metadata
    return [(str(key).lower(), str(value)) for key, value in items]


def _channel_options(policy: RetryPolicy, options: ChannelOptions) -> list[tuple[str, Any]]:
    """gRPC reconnects a failed channel after 1 s, growing to 120 s, and until then
    fails every call at once; the client's retries would all land inside that
    window. So the channel reconnects on the retry policy's schedule instead."""
    merged: dict[str, Any] = {
        "grpc.initial_reconnect_backoff_ms": max(1, int(policy.initial_backoff * 1000)),
        "grpc.min_reconnect_backoff_ms": max(1, int(policy.initial_backoff * 1000)),
        "grpc.max_reconnect_backoff_ms": max(1, int(policy.max_backoff * 1000)),
    }
    merged.update(dict(options))
    return list(merged.items())


@dataclass(frozen=True)
class HandleBase:
    """What TaskHandle and AsyncTaskHandle hold: a backgrounded call's task.

    Execute returns a Result or a handle; both have ``backgrounded`` (True
    here), ``text`` (for a handle, the envelope the model reads) and ``task``.
    """

    #: The task as Execute returned it (RUNNING).
    task: Task
    #: The envelope: JSON with the task_id, exactly as the server wrote it for the model.
    text: str
    #: The user_id of the Execute call; the handle's calls act for it.
    user_id: str
    _client: Any = field(repr=False, compare=False)
    backgrounded: ClassVar[Literal[True]] = True

    @property
    def task_id(self) -> str:
        return self.task.task_id
