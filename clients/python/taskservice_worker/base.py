"""What Worker and AsyncWorker have in common apart from how they wait.

The constructor checks, the tool decorator, the registration message, the
routing of server messages, what a WorkerRegistered changes and how long the
server may stay silent: all of this is the same for threads and coroutines,
so it lives here once. The subclasses add the loop that reads the stream,
the writer and the way handlers are run.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Union

import grpc

from ._proto import tool_worker_pb2
from .backoff import Backoff
from .context import BaseToolContext
from .dispatch import Dispatcher, Run
from .messages import ConnectRequest, pong_message, registration
from .outbox import Outbox
from .registry import Tool, ToolRegistry

logger = logging.getLogger("taskservice_worker")

Metadata = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
ChannelOptions = Sequence[tuple[str, Any]]

# How long to wait for WorkerRegistered before giving up on a connection.
REGISTRATION_TIMEOUT_S = 30.0
# Without a timeout from the server, this many ping intervals of silence mean the stream is dead.
SILENT_PINGS = 3.0

# (reason, message) given to handlers whose stream ended under them.
LOST = ("WORKER_LOST", "connection lost")
# ... and to handlers still running when the worker is stopped.
STOPPING = ("SHUTDOWN", "worker stopping")


def is_coroutine_function(fn: Callable[..., Any]) -> bool:
    """True for ``async def`` functions, also behind functools.partial or __call__."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


class WorkerBase:
    """Configuration, tools and registration state of a worker."""

    _context_class: type[BaseToolContext]
    #: max_concurrency when none is given.
    default_max_concurrency = 0
    #: The smallest max_concurrency this kind of worker can run with.
    min_max_concurrency = 0
    #: Whether on_registered may be a coroutine function (awaited on the loop).
    _awaits_callbacks = False

    def __init__(
        self,
        target: str,
        *,
        name: str,
        max_concurrency: int | None = None,
        channel_credentials: grpc.ChannelCredentials | None = None,
        metadata: Metadata = None,
        on_registered: Callable[[str], Any] | None = None,
        channel_options: ChannelOptions = (),
    ) -> None:
        """target: the server's "host:port". name: shown in the server's logs.
        max_concurrency: invocations at once across tools (None: the class's
        default_max_concurrency), also declared to the server.
        channel_credentials: for a TLS channel (None: plaintext).
        metadata: sent with every Connect (e.g. an authorization header).
        on_registered(worker_id): called after every registration.
        channel_options: gRPC channel arguments.
        """
        if max_concurrency is None:
            max_concurrency = self.default_max_concurrency
        if not isinstance(target, str) or not target:
            raise ValueError("target must be a non-empty 'host:port' string")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name must be a non-empty string (it is shown in the server's logs)")
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < self.min_max_concurrency
        ):
            raise ValueError(
                f"max_concurrency of {type(self).__name__} must be an int >= {self.min_max_concurrency}, "
                f"not {max_concurrency!r}"
            )
        if on_registered is not None and (
            not callable(on_registered) or (is_coroutine_function(on_registered) and not self._awaits_callbacks)
        ):
            raise TypeError(
                f"on_registered of {type(self).__name__} must be a function taking the worker id"
                + ("" if self._awaits_callbacks else ", not a coroutine function (use AsyncWorker)")
            )
        self.target = target
        self.name = name
        self.max_concurrency = max_concurrency
        #: The id the server assigned at the last registration; None before the first.
        self.worker_id: str | None = None
        self._credentials = channel_credentials
        self._metadata = _metadata_pairs(metadata)
        self._channel_options = tuple(channel_options)
        self._on_registered = on_registered
        self._backoff = Backoff()
        self._failed_attempts = 0
        self._registry = ToolRegistry(self._check_handler)
        self._dispatcher = Dispatcher(
            self._registry,
            max_concurrency,
            make_context=self._context_class,
            start=self._start_run,
            interrupt=self._interrupt_run,
        )
        #: Declares a tool: ``@worker.tool`` or ``@worker.tool(name=..., parameters=...)``;
        #: see ToolRegistry.tool for the options.
        self.tool = self._registry.tool
        self._init_state()

    @property
    def tools(self) -> list[Tool]:
        """The declared tools, in declaration order."""
        return list(self._registry)

    # -- supplied by the subclasses ----------------------------------------------

    def _init_state(self) -> None:
        """Create the subclass's run-time state (locks, events); called by __init__."""

    @staticmethod
    def _check_handler(fn: Callable[..., Any]) -> None:
        """Raise TypeError if fn is the wrong kind of function for this worker."""
        raise NotImplementedError

    def _start_run(self, run: Run) -> None:
        raise NotImplementedError

    def _interrupt_run(self, run: Run) -> None:
        """Called after run.ctx.cancelled was set; by default nothing more."""

    # -- shared steps ---------------------------------------------------------------

    def _open_channel(self, api: Any) -> Any:
        """A channel from api (grpc or grpc.aio), secure if credentials were given."""
        if self._credentials is None:
            return api.insecure_channel(self.target, options=self._channel_options)
        return api.secure_channel(self.target, self._credentials, options=self._channel_options)

    def _registration(self) -> ConnectRequest:
        """Freeze the tools and build RegisterWorker (the first message of every stream)."""
        if not len(self._registry):
            raise ValueError("the worker declares no tools: add at least one with @worker.tool before run()")
        self._registry.freeze()
        return registration(self.name, self._registry, self.max_concurrency)

    def _route(self, response: tool_worker_pb2.ConnectResponse, outbox: Outbox) -> tool_worker_pb2.WorkerRegistered | None:
        """Act on one server message; a WorkerRegistered is returned for the caller to handle.

        A Ping is answered here, on the receiving loop, whatever the handlers are doing;
        an InvocationInput wakes the handler waiting for it.
        """
        kind = response.WhichOneof("message")
        if kind == "ping":
            outbox.put(pong_message(response.ping.sequence))
        elif kind == "invocation":
            self._dispatcher.invoke(response.invocation)
        elif kind == "cancellation":
            self._dispatcher.cancel(response.cancellation)
        elif kind == "input":
            self._dispatcher.answer(response.input)
        elif kind == "registered":
            return response.registered
        else:
            logger.debug("ignoring a server message of unknown kind %r", kind)
        return None

    def _registered(self, answer: tool_worker_pb2.WorkerRegistered) -> float | None:
        """Record a registration; returns how long the server may now stay silent (None: no limit)."""
        self.worker_id = answer.worker_id
        self._backoff.reset()
        self._failed_attempts = 0
        logger.info("worker %r registered as %s with %d tools", self.name, answer.worker_id, len(self._registry))
        if answer.timeout_seconds > 0:
            return answer.timeout_seconds
        if answer.ping_interval_seconds > 0:
            return answer.ping_interval_seconds * SILENT_PINGS
        return None

    def _retry_delay(self, why: str) -> float:
        """The wait before reconnecting after a stream ended because of why.

        The first failure after a registration is a warning; the attempts
        that follow while the server stays away are logged at INFO only.
        """
        delay = self._backoff.next_delay()
        level = logging.WARNING if self._failed_attempts == 0 else logging.INFO
        self._failed_attempts += 1
        logger.log(level, "worker %r: stream to %s ended (%s); reconnecting in %.2f s", self.name, self.target, why, delay)
        return delay

    def _announce(self) -> Any:
        """Call on_registered(worker_id); its errors are logged, never fatal to the stream."""
        if self._on_registered is None or self.worker_id is None:
            return None
        try:
            return self._on_registered(self.worker_id)
        except Exception:
            logger.exception("on_registered callback failed")
            return None


def _metadata_pairs(metadata: Metadata) -> tuple[tuple[str, str], ...] | None:
    if metadata is None:
        return None
    pairs = metadata.items() if isinstance(metadata, Mapping) else metadata
    return tuple((str(key), str(value)) for key, value in pairs)


def silence_message(limit: float) -> str:
    return f"no message from the server for {limit:.1f} s"
