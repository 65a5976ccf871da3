"""Runs a Worker or an AsyncWorker in the background with the same test tools.

The behaviour tests are written once and run against both worker kinds: the
harness hides how each is started and stopped (a thread calling run(), or a
thread running an event loop that awaits run()), and the tools below exist
in a thread flavour and a coroutine flavour that record the same events.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from taskservice_worker import AsyncWorker, Worker

WAIT_S = 5.0
ECHO_SCHEMA = {"type": "object", "properties": {"value": {}}}


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S, what: str = "condition") -> None:
    """Poll condition until true; fail the test after timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.01)


class Probe:
    """What the handlers saw, recorded from any thread; the test waits on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.events: list[tuple[Any, ...]] = []
        #: Releases every 'block' handler.
        self.gate = threading.Event()
        #: One permit lets a 'progress' handler go past one step.
        self.permits = threading.Semaphore(0)
        self.active = 0
        self.max_active = 0

    def record(self, *event: Any) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def enter(self, task_id: str) -> None:
        with self._cond:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.record("started", task_id)

    def leave(self) -> None:
        with self._cond:
            self.active -= 1

    def of_kind(self, kind: str) -> list[tuple[Any, ...]]:
        with self._cond:
            return [event for event in self.events if event[0] == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = WAIT_S) -> list[tuple[Any, ...]]:
        """The first count events of kind, waiting up to timeout for them."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.of_kind(kind)) >= count, timeout)
            assert ok, f"expected {count} {kind!r} events within {timeout} s; got {self.events}"
            return self.of_kind(kind)[:count]

    def cancellation_of(self, task_id: str, timeout: float = WAIT_S) -> tuple[Any, ...]:
        """The ('cancelled', task_id, reason, message, event_set) a handler recorded."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._find("cancelled", task_id) is not None, timeout)
            assert ok, f"the handler of {task_id} saw no cancellation within {timeout} s; got {self.events}"
            return self._find("cancelled", task_id)  # type: ignore[return-value]

    def _find(self, kind: str, task_id: str) -> tuple[Any, ...] | None:
        return next((e for e in self.events if e[0] == kind and e[1] == task_id), None)


# -- the test tools -------------------------------------------------------------------
# echo: returns args["value"]; fail: raises ValueError(args["message"]);
# progress: reports steps one by one, each after a permit; block: runs until
# the gate opens (result "released") or it is cancelled (it then records the
# cancellation and still returns "late result", which must not be sent).


def _echo(probe: Probe, args: dict[str, Any], ctx: Any) -> Any:
    probe.record("echo", ctx.task_id, ctx.tool_name, ctx.origin, ctx.hard_timeout_seconds)
    probe.record("trace", ctx.task_id, ctx.traceparent, ctx.tracestate)
    return args.get("value")


def _fail(args: dict[str, Any]) -> None:
    raise ValueError(args.get("message", ""))


def _record_cancel(probe: Probe, ctx: Any) -> str:
    probe.record("cancelled", ctx.task_id, ctx.cancel_reason, ctx.cancel_message, ctx.cancelled.is_set())
    return "late result"


def define_sync_tools(worker: Worker, probe: Probe, block_concurrency: int = 0) -> None:
    @worker.tool(parameters=ECHO_SCHEMA)
    def echo(args: dict[str, Any], ctx: Any) -> Any:
        return _echo(probe, args, ctx)

    @worker.tool
    def fail(args: dict[str, Any], ctx: Any) -> None:
        _fail(args)

    @worker.tool
    def progress(args: dict[str, Any], ctx: Any) -> str:
        steps = int(args["steps"])
        for step in range(1, steps + 1):
            ctx.progress(step / steps, f"step {step}/{steps}")
            assert probe.permits.acquire(timeout=WAIT_S)
        return "progressed"

    @worker.tool(concurrency=block_concurrency)
    def block(args: dict[str, Any], ctx: Any) -> str:
        probe.enter(ctx.task_id)
        try:
            while not probe.gate.is_set():
                if ctx.cancelled.wait(0.01):
                    return _record_cancel(probe, ctx)
            return "released"
        finally:
            probe.leave()


def define_async_tools(worker: AsyncWorker, probe: Probe, block_concurrency: int = 0) -> None:
    @worker.tool(parameters=ECHO_SCHEMA)
    async def echo(args: dict[str, Any], ctx: Any) -> Any:
        return _echo(probe, args, ctx)

    @worker.tool
    async def fail(args: dict[str, Any], ctx: Any) -> None:
        _fail(args)

    @worker.tool
    async def progress(args: dict[str, Any], ctx: Any) -> str:
        steps = int(args["steps"])
        for step in range(1, steps + 1):
            ctx.progress(step / steps, f"step {step}/{steps}")
            await _poll(lambda: probe.permits.acquire(blocking=False))
        return "progressed"

    @worker.tool(concurrency=block_concurrency)
    async def block(args: dict[str, Any], ctx: Any) -> str:
        probe.enter(ctx.task_id)
        try:
            await _poll(probe.gate.is_set)
            return "released"
        except asyncio.CancelledError:
            return _record_cancel(probe, ctx)
        finally:
            probe.leave()


def add_question_tool(worker: Any, kind: str, probe: Probe, name: str = "question") -> None:
    """A tool that asks args["message"] with args["schema"] (default: any object).

    It returns 'answered <answer as JSON>', or 'refused: <error>' when the
    question cannot be asked; probe gets ("answer", task_id, answer) or
    ("refused", task_id, error). A cancellation while waiting is recorded as
    ("cancelled", task_id, reason, message, event_set), as _record_cancel
    does, plus ("caught", task_id, exception class name), and re-raised.
    """
    from taskservice_worker import InputRequestError, InvocationCancelled

    def asked(args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return args.get("message", "Go on?"), args.get("schema", {"type": "object"})

    def answered(ctx: Any, answer: dict[str, Any]) -> str:
        probe.record("answer", ctx.task_id, answer)
        return f"answered {json.dumps(answer, sort_keys=True)}"

    def refused(ctx: Any, exc: InputRequestError) -> str:
        probe.record("refused", ctx.task_id, exc.error)
        return f"refused: {exc.error}"

    def cancelled(ctx: Any, exc: BaseException) -> None:
        probe.record("caught", ctx.task_id, type(exc).__name__)
        probe.record("cancelled", ctx.task_id, ctx.cancel_reason, ctx.cancel_message, ctx.cancelled.is_set())

    if kind == "sync":

        def handler(args: dict[str, Any], ctx: Any) -> str:
            try:
                return answered(ctx, ctx.request_input(*asked(args)))
            except InputRequestError as exc:
                return refused(ctx, exc)
            except InvocationCancelled as exc:
                cancelled(ctx, exc)
                raise

    else:

        async def handler(args: dict[str, Any], ctx: Any) -> str:
            try:
                return answered(ctx, await ctx.request_input(*asked(args)))
            except InputRequestError as exc:
                return refused(ctx, exc)
            except asyncio.CancelledError as exc:
                cancelled(ctx, exc)
                raise

    worker.tool(name=name)(handler)


async def _poll(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Await condition() without blocking the loop (the events are threading ones)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.005)


# -- harnesses -------------------------------------------------------------------------


class Harness:
    """A worker whose run() happens on a background thread; join() waits for it."""

    kind: str
    worker_class: Any
    define_tools: Callable[..., None]

    def __init__(self, target: str, probe: Probe, tools: bool = True, block_concurrency: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("name", "test-worker")
        self.worker = self.worker_class(target, **kwargs)
        if tools:
            self.define_tools(self.worker, probe, block_concurrency)
        self.error: BaseException | None = None
        #: Tasks still pending on the worker's loop after run() returned (async only).
        self.leftover_tasks: list[Any] = []
        self._thread = threading.Thread(target=self._thread_main, name=f"test-run-{self.kind}")

    def add_tool(self, doc: str | None = None, **options: Any) -> None:
        """A tool that does nothing, declared with options (and doc as its docstring)."""
        handler = self.new_noop()
        handler.__doc__ = doc
        self.worker.tool(**options)(handler)

    def join(self, timeout: float = 10.0) -> BaseException | None:
        """Wait for run() to end; returns what it raised."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
            assert not self._thread.is_alive(), f"run() did not return within {timeout} s"
        return self.error

    @staticmethod
    def new_noop() -> Callable[..., Any]:
        raise NotImplementedError

    def _thread_main(self) -> None:
        raise NotImplementedError


class SyncHarness(Harness):
    """A Worker whose run() is on a background thread."""

    kind = "sync"
    worker_class = Worker
    define_tools = staticmethod(define_sync_tools)

    @staticmethod
    def new_noop() -> Callable[..., Any]:
        def handler(args: dict[str, Any], ctx: Any) -> None:
            return None

        return handler

    def start(self) -> "SyncHarness":
        self._thread.start()
        return self

    def _thread_main(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:
            self.error = exc

    def stop(self, timeout: float = 10.0) -> None:
        stopper = threading.Thread(target=self.worker.stop, name="test-stop")
        stopper.start()
        stopper.join(timeout)
        assert not stopper.is_alive(), f"stop() did not return within {timeout} s"
        self.join(timeout)


class AsyncHarness(Harness):
    """An AsyncWorker on its own event loop in a background thread.

    stop() asks the loop to await worker.stop(); afterwards the loop records
    which tasks besides its own are still pending (there must be none).
    """

    kind = "async"
    worker_class = AsyncWorker
    define_tools = staticmethod(define_async_tools)

    @staticmethod
    def new_noop() -> Callable[..., Any]:
        async def handler(args: dict[str, Any], ctx: Any) -> None:
            return None

        return handler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> "AsyncHarness":
        self._thread.start()
        assert self._ready.wait(WAIT_S)
        return self

    def _thread_main(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        self._ready.set()
        run = asyncio.create_task(self.worker.run())
        stop = asyncio.create_task(self._stop_requested.wait())
        await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
        if stop.done():
            await self.worker.stop()
        else:
            stop.cancel()
        await asyncio.gather(stop, return_exceptions=True)
        try:
            await run
        except BaseException as exc:
            self.error = exc
        self.leftover_tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop_requested.set)  # type: ignore[union-attr]
            except RuntimeError:
                pass  # the loop already finished
        self.join(timeout)


HARNESSES = {"sync": SyncHarness, "async": AsyncHarness}
