"""Worker: hosts plain-function tools, each invocation on a pool thread.

Threads of a running Worker, and why each exists:

* the thread that called run(): it reads the stream (the receiving loop),
  so a Ping is answered the moment it arrives whatever the handlers do;
* a ThreadPoolExecutor of max_concurrency threads for the handlers;
* gRPC's own thread that writes the request iterator (fed by the Outbox);
* a watchdog that cancels the stream when the server goes silent, because a
  blocked read has no timeout of its own.

All of them are gone when run() returns.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from ._proto import tool_worker_pb2_grpc
from .base import LOST, REGISTRATION_TIMEOUT_S, STOPPING, WorkerBase, is_coroutine_function, silence_message
from .context import ToolContext
from .dispatch import Run
from .errors import InvocationCancelled, check_reconnectable
from .messages import ConnectRequest, error_message, result_message
from .outbox import Outbox

logger = logging.getLogger("taskservice_worker")

_NEW, _RUNNING, _STOPPED = "new", "running", "stopped"


class Worker(WorkerBase):
    """A tool worker whose handlers are plain functions run on threads.

    ``def handler(args: dict, ctx: ToolContext)``; the return value is the
    result (str as is, None as "", anything else as JSON) and an exception
    the error. At most max_concurrency handlers (default 8, at least 1: the
    size of the thread pool) run at once; it is also the limit declared to
    the server. Constructor arguments: see WorkerBase.__init__.
    """

    _context_class = ToolContext

    default_max_concurrency = 8  # handler threads
    min_max_concurrency = 1

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._state = _NEW
        self._stop_requested = threading.Event()
        self._finished = threading.Event()
        self._run_thread: int | None = None
        self._call: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._in_handler = threading.local()

    @staticmethod
    def _check_handler(fn: Callable[..., Any]) -> None:
        if is_coroutine_function(fn):
            raise TypeError(
                f"{getattr(fn, '__name__', fn)!r} is a coroutine function: Worker runs plain functions; "
                "use AsyncWorker for async def handlers"
            )

    # -- public API -------------------------------------------------------------

    def run(self) -> None:
        """Connect, register and serve invocations until stop() is called.

        Reconnects (with backoff) whenever the stream ends for a transient
        reason; raises WorkerRejected when the server turns the worker away.
        Everything the worker started is stopped before it returns or raises.
        A Worker runs once.
        """
        register = self._registration()
        with self._lock:
            if self._stop_requested.is_set() and self._run_thread is None:
                return  # stopped before it ran
            if self._state != _NEW:
                raise RuntimeError("this Worker already ran; create a new one")
            self._state = _RUNNING
            self._run_thread = threading.get_ident()
            self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="taskservice-worker")
        channel = None
        try:
            channel = self._open_channel(grpc)
            self._serve(tool_worker_pb2_grpc.ToolWorkerServiceStub(channel), register)
        finally:
            self._dispatcher.detach(*STOPPING)
            self._executor.shutdown(wait=True, cancel_futures=True)
            if channel is not None:
                channel.close()
            with self._lock:
                self._state = _STOPPED
            self._finished.set()

    def stop(self) -> None:
        """Stop serving: close the stream and channel, wait for run() to return.

        Running handlers see ctx.cancelled set (reason "SHUTDOWN") and their
        results are dropped; stop() returns once they have all returned, so a
        handler should honour ctx.cancelled. Idempotent, callable from any
        thread; from a handler or the run() thread itself it only requests
        the stop (waiting there would wait for itself).
        """
        self._stop_requested.set()
        with self._lock:
            if self._state == _NEW:
                self._state = _STOPPED
                self._finished.set()
            call = self._call
        if call is not None:
            call.cancel()
        if threading.get_ident() != self._run_thread and not getattr(self._in_handler, "active", False):
            self._finished.wait()

    def run_forever(self) -> None:
        """run() with SIGINT and SIGTERM stopping the worker cleanly; main thread only.

        The signal handler hands stop() to a short-lived thread: stop() waits
        for run() to finish, and run() is on the thread the signal interrupted.
        The previous signal handlers are restored on return.
        """
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("run_forever() installs signal handlers, so it must run on the main thread")
        stoppers: list[threading.Thread] = []

        def on_signal(signum: int, frame: object) -> None:
            if not stoppers:
                logger.info("signal %d: stopping worker %r", signum, self.name)
                stopper = threading.Thread(target=self.stop, name="taskservice-worker-stop")
                stoppers.append(stopper)
                stopper.start()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for stopper in stoppers:
                stopper.join()

    # -- the connection loop -------------------------------------------------------

    def _serve(self, stub: tool_worker_pb2_grpc.ToolWorkerServiceStub, register: ConnectRequest) -> None:
        while not self._stop_requested.is_set():
            why = self._session(stub, register)
            if self._stop_requested.is_set():
                return
            delay = self._retry_delay(why)
            if self._stop_requested.wait(delay):
                return

    def _session(self, stub: tool_worker_pb2_grpc.ToolWorkerServiceStub, register: ConnectRequest) -> str:
        """One Connect stream, from registration to its end; returns why it ended."""
        outbox = Outbox()
        outbox.put(register)
        self._dispatcher.attach(outbox)
        call = stub.Connect(_drain(outbox), metadata=self._metadata)
        watchdog = _Watchdog(call, REGISTRATION_TIMEOUT_S)
        with self._lock:
            self._call = call
        try:
            if self._stop_requested.is_set():
                call.cancel()  # stop() ran before the call was visible to it
            for response in call:
                watchdog.heard()
                registered = self._route(response, outbox)
                if registered is not None:
                    watchdog.limit = self._registered(registered)
                    self._announce()
            return "the server closed the stream"
        except grpc.RpcError as error:
            if self._stop_requested.is_set():
                return "stopped"
            if watchdog.fired:
                return silence_message(watchdog.limit or 0.0)
            return check_reconnectable(error)
        finally:
            with self._lock:
                self._call = None
            watchdog.stop()
            self._dispatcher.detach(*(STOPPING if self._stop_requested.is_set() else LOST))
            call.cancel()

    # -- handlers --------------------------------------------------------------------

    def _start_run(self, run: Run) -> None:
        assert self._executor is not None
        run.handle = self._executor.submit(self._execute, run)

    def _execute(self, run: Run) -> None:
        self._in_handler.active = True
        outcome: ConnectRequest | None
        try:
            outcome = result_message(run.task_id, run.tool.handler(run.args, run.ctx))
        except InvocationCancelled as exc:
            # From request_input once the run was cancelled: nothing is sent, and it is no failure to log.
            outcome = None if run.cancelled_by_worker else error_message(run.task_id, exc)
        except BaseException as exc:  # a handler's SystemExit is still just its failure
            logger.info("tool %s (task %s) failed: %s", run.tool.name, run.task_id, exc, exc_info=True)
            outcome = error_message(run.task_id, exc)
        finally:
            self._in_handler.active = False
        self._dispatcher.finish(run, outcome)


def _drain(outbox: Outbox) -> Iterator[ConnectRequest]:
    """The request iterator gRPC writes from; ends (half-closing the stream) when the outbox closes."""
    while True:
        message = outbox.get()
        if message is None:
            return
        yield message


class _Watchdog:
    """Cancels a call once the server has been silent for ``limit`` seconds.

    A blocked read of a gRPC stream has no timeout, and a network that drops
    packets without resetting the connection would leave the worker waiting
    forever while the server has long declared it lost.
    """

    def __init__(self, call: Any, limit: float | None) -> None:
        self._call = call
        #: Seconds of silence allowed; None: no limit.
        self.limit = limit
        #: True once the watchdog cancelled the call.
        self.fired = False
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="taskservice-worker-watchdog", daemon=True)
        self._thread.start()

    def heard(self) -> None:
        self._last = time.monotonic()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(self._poll_interval()):
            limit = self.limit
            if limit is not None and time.monotonic() - self._last > limit:
                self.fired = True
                self._call.cancel()
                return

    def _poll_interval(self) -> float:
        return 0.5 if self.limit is None else min(0.5, max(0.01, self.limit / 10))
