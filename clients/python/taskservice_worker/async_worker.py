"""AsyncWorker: hosts ``async def`` tools, each invocation an asyncio task.

Everything runs on the loop that awaits run(): the receiving loop (which
answers Pings), one writer task per stream, and a task per invocation. A
Cancellation from the server cancels the invocation's task, so the handler
sees CancelledError at its next await (and ctx.cancelled is set first).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Callable
from typing import Any

import grpc
import grpc.aio

from ._proto import tool_worker_pb2_grpc
from .base import LOST, REGISTRATION_TIMEOUT_S, STOPPING, WorkerBase, is_coroutine_function, silence_message
from .context import AsyncToolContext
from .dispatch import Run
from .errors import check_reconnectable
from .messages import ConnectRequest, error_message, result_message
from .outbox import AsyncOutbox

logger = logging.getLogger("taskservice_worker")

_NEW, _RUNNING, _STOPPED = "new", "running", "stopped"
# grpc.aio's per-call tasks run methods of its Cython _AioCall class.
_GRPC_CALL_TASK_PREFIX = "_AioCall."
# How long run() waits for them at the end; they normally finish at once.
GRPC_SETTLE_S = 2.0


class AsyncWorker(WorkerBase):
    """A tool worker whose handlers are coroutines, served on one event loop.

    ``async def handler(args: dict, ctx: AsyncToolContext)``; results and
    errors as for Worker. max_concurrency 0 (the default) means no limit of
    the worker's own; each tool's concurrency still applies. Constructor
    arguments: see WorkerBase.__init__.
    """

    _context_class = AsyncToolContext
    _awaits_callbacks = True

    def _init_state(self) -> None:
        self._state = _NEW
        self._stopped_before_run = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._finished: asyncio.Event | None = None
        self._call: Any = None
        self._cancelled_call: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _check_handler(fn: Callable[..., Any]) -> None:
        if not is_coroutine_function(fn):
            raise TypeError(
                f"{getattr(fn, '__name__', fn)!r} is not a coroutine function: AsyncWorker runs async def "
                "handlers (use Worker for plain functions, or asyncio.to_thread inside an async def)"
            )

    # -- public API -------------------------------------------------------------

    async def run(self) -> None:
        """Connect, register and serve invocations until stop() is awaited.

        Reconnects (with backoff) whenever the stream ends for a transient
        reason; raises WorkerRejected when the server turns the worker away.
        Every task it started has finished and the channel is closed before
        it returns or raises (also when the task running it is cancelled).
        An AsyncWorker runs once.
        """
        register = self._registration()
        if self._stopped_before_run:
            return
        if self._state != _NEW:
            raise RuntimeError("this AsyncWorker already ran; create a new one")
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._finished = asyncio.Event()
        self._state = _RUNNING
        others = _grpc_call_tasks()
        channel = None
        try:
            channel = self._open_channel(grpc.aio)
            await self._serve(tool_worker_pb2_grpc.ToolWorkerServiceStub(channel), register)
        finally:
            self._dispatcher.detach(*STOPPING)
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if channel is not None:
                await channel.close()
            ours = _grpc_call_tasks() - others
            if ours:
                await asyncio.wait(ours, timeout=GRPC_SETTLE_S)
            self._state = _STOPPED
            self._finished.set()

    async def stop(self) -> None:
        """Stop serving: close the stream and channel, wait for run() to return.

        Running handlers are cancelled (CancelledError, ctx.cancelled set,
        reason "SHUTDOWN") and their results dropped. Idempotent; must be
        awaited on the worker's loop. From inside a handler it only requests
        the stop (waiting there would wait for itself).
        """
        if self._state == _NEW:
            self._state = _STOPPED
            self._stopped_before_run = True
            return
        if self._state == _STOPPED:
            return
        if self._loop is not asyncio.get_running_loop():
            raise RuntimeError("await stop() on the event loop the worker runs on")
        self._request_stop()
        assert self._finished is not None
        if asyncio.current_task() not in self._tasks:
            await self._finished.wait()

    async def run_forever(self) -> None:
        """run() with SIGINT and SIGTERM stopping the worker cleanly.

        Uses loop.add_signal_handler, so it needs the main thread's loop on
        Unix; elsewhere it runs without signal handling.
        """
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._request_stop)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            installed.append(sig)
        try:
            await self.run()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    def _request_stop(self) -> None:
        """The non-waiting half of stop(); safe from a signal handler on the loop."""
        if self._stop_event is None or self._stop_event.is_set():
            return
        logger.info("stopping worker %r", self.name)
        self._stop_event.set()
        if self._call is not None:
            self._cancelled_call = self._call
            self._call.cancel()

    # -- the connection loop -------------------------------------------------------

    async def _serve(self, stub: tool_worker_pb2_grpc.ToolWorkerServiceStub, register: ConnectRequest) -> None:
        assert self._stop_event is not None
        while not self._stop_event.is_set():
            why = await self._session(stub, register)
            if self._stop_event.is_set():
                return
            delay = self._retry_delay(why)
            try:
                await asyncio.wait_for(self._stop_event.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass

    async def _session(self, stub: tool_worker_pb2_grpc.ToolWorkerServiceStub, register: ConnectRequest) -> str:
        """One Connect stream, from registration to its end; returns why it ended."""
        assert self._loop is not None and self._stop_event is not None
        outbox = AsyncOutbox(self._loop)
        outbox.put(register)
        self._dispatcher.attach(outbox)
        call = stub.Connect(metadata=self._metadata)
        self._call = call
        writer = asyncio.create_task(_write(call, outbox), name="taskservice-worker-writer")
        limit: float | None = REGISTRATION_TIMEOUT_S
        try:
            while True:
                try:
                    response = await asyncio.wait_for(call.read(), limit)
                except asyncio.TimeoutError:
                    return silence_message(limit or 0.0)
                if response is grpc.aio.EOF:
                    return "the server closed the stream"
                registered = self._route(response, outbox)
                if registered is not None:
                    limit = self._registered(registered)
                    announced = self._announce()
                    if inspect.isawaitable(announced):
                        await announced
        except asyncio.CancelledError:
            # stop() cancelling the call makes read() raise CancelledError too;
            # anything else is the task running the worker being cancelled.
            task = asyncio.current_task()
            if self._cancelled_call is not call or (task is not None and _cancelling(task)):
                self._stop_event.set()  # handlers are told SHUTDOWN, and no reconnect follows
                raise
            return "stopped"
        except grpc.RpcError as error:
            if self._stop_event.is_set():
                return "stopped"
            return check_reconnectable(error)
        finally:
            self._call = self._cancelled_call = None
            self._dispatcher.detach(*(STOPPING if self._stop_event.is_set() else LOST))
            call.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    # -- handlers --------------------------------------------------------------------

    def _start_run(self, run: Run) -> None:
        assert self._loop is not None
        task = self._loop.create_task(self._execute(run), name=f"taskservice-worker:{run.tool.name}:{run.task_id}")
        run.handle = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _interrupt_run(self, run: Run) -> None:
        run.handle.cancel()

    async def _execute(self, run: Run) -> None:
        outcome = None
        try:
            outcome = result_message(run.task_id, await run.tool.handler(run.args, run.ctx))
        except asyncio.CancelledError:
            if not run.cancelled_by_worker:
                # Not our cancellation: something inside the handler was cancelled and it let that escape.
                outcome = error_message(run.task_id, "the tool handler was cancelled")
        except Exception as exc:
            logger.info("tool %s (task %s) failed: %s", run.tool.name, run.task_id, exc, exc_info=True)
            outcome = error_message(run.task_id, exc)
        finally:
            self._dispatcher.finish(run, outcome)


def _grpc_call_tasks() -> set[asyncio.Task[Any]]:
    """The tasks grpc.aio runs for its calls' status bookkeeping.

    Such a task can still be pending for a moment after its call was
    cancelled and the channel closed; run() waits for the ones its own calls
    started, so that it leaves no task behind.
    """
    return {
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith(_GRPC_CALL_TASK_PREFIX)
    }


def _cancelling(task: asyncio.Task[Any]) -> bool:
    """Whether someone asked to cancel task (Python 3.11+; always False before)."""
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


async def _write(call: Any, outbox: AsyncOutbox) -> None:
    """Write queued messages in order until the outbox closes or the call ends."""
    try:
        while True:
            message = await outbox.get_async()
            if message is None:
                return
            await call.write(message)
    except (grpc.RpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as exc:
        # The reading side learns (and reports) why the stream ended.
        logger.debug("writer stopped: %r", exc)
