"""AsyncClient: the TaskService API over a grpc.aio channel, for asyncio programs.

The same methods as Client, as coroutines (await_result and iter_tasks are
async iterators). A grpc.aio channel belongs to one event loop, so the
client opens its channel at its first call, on that call's loop: it can be
created anywhere (at import time too), but used on one loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar, Union

import grpc
import grpc.aio

from . import _calls
from ._calls import Answer, Answered, Arguments, AwaitPlan, Call, ExecuteFlow, FlowEvent
from ._proto import task_service_pb2_grpc
from .base import ClientBase, EndedEarly, HandleBase
from .errors import settled
from .models import (
    OutputChunk,
    Progress,
    RedirectTarget,
    Result,
    ServerInfo,
    Task,
    TaskPage,
    TaskStatus,
    TaskUpdate,
    ToolInfo,
)
from .retry import Attempts

T = TypeVar("T")

#: What AsyncClient.execute_stream yields (see client.ExecuteEvent): the answer is an AsyncTaskHandle when backgrounded.
AsyncExecuteEvent = Union[OutputChunk, Progress, Result, "AsyncTaskHandle", TaskUpdate]


class AsyncClient(ClientBase):
    """A TaskService client for asyncio; arguments as for Client (see ClientBase.__init__).

    Interceptors must be grpc.aio client interceptors.
    """

    def _connect(self) -> None:
        self._channel: grpc.aio.Channel | None = None
        self._stub: task_service_pb2_grpc.TaskServiceStub | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _stub_here(self) -> task_service_pb2_grpc.TaskServiceStub:
        """The stub, its channel opened on the running loop at the first call."""
        loop = asyncio.get_running_loop()
        if self._stub is None:
            self._channel = self._open_channel(grpc.aio, interceptors=self._interceptors or None)
            self._stub = task_service_pb2_grpc.TaskServiceStub(self._channel)
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("this AsyncClient is bound to the event loop of its first call; create one per loop")
        return self._stub

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; calls still under way fail with Cancelled."""
        if self._channel is not None:
            await self._channel.close()

    # -- the API -------------------------------------------------------------------

    async def execute(
        self,
        tool: str,
        arguments: Arguments = None,
        *,
        user_id: str = "",
        channel_id: str = "",
        platform: str = "",
        budget_seconds: float | None = None,
        request_id: str = "",
        redirect: RedirectTarget | None = None,
        timeout_seconds: float | None = None,
    ) -> Result | AsyncTaskHandle:
        """Run a tool: a Result if it settled within the budget, else an AsyncTaskHandle (see Client.execute)."""
        call = _calls.execute(
            tool,
            arguments,
            user_id=user_id,
            channel_id=channel_id,
            platform=platform,
            budget_seconds=_calls.budget_from(budget_seconds, timeout_seconds),
            request_id=request_id,
            redirect=redirect,
        )
        backgrounded, result = await self._unary(call)
        if not backgrounded:
            return result
        return AsyncTaskHandle(task=result.task, text=result.text, user_id=user_id, _client=self)

    async def execute_stream(
        self,
        tool: str,
        arguments: Arguments = None,
        *,
        user_id: str = "",
        channel_id: str = "",
        platform: str = "",
        budget_seconds: float | None = None,
        request_id: str = "",
        redirect: RedirectTarget | None = None,
    ) -> AsyncIterator[AsyncExecuteEvent]:
        """Run a tool and follow it to its end: the events as they come (see Client.execute_stream).

        The answer is a Result, or an AsyncTaskHandle when backgrounded.
        Leaving an ``async for`` early cancels the stream only when the
        generator is closed: use ``contextlib.aclosing`` for that.
        """
        call = _calls.execute(
            tool,
            arguments,
            user_id=user_id,
            channel_id=channel_id,
            platform=platform,
            budget_seconds=budget_seconds,
            request_id=request_id,
            redirect=redirect,
        )
        flow = ExecuteFlow(call.request)
        attempts = self._attempts(f"ExecuteStream {tool}", call.idempotent)
        while True:
            stream = self._stub_here().ExecuteStream(call.request, metadata=self._metadata)
            failure: grpc.RpcError = EndedEarly("the ExecuteStream stream ended before its last event")
            try:
                count = 0
                async for response in stream:
                    event, new = flow.accept(response)
                    if new or count:
                        attempts.reset()
                    count += 1
                    if event is not None:
                        yield self._event(event, user_id)
                    if flow.done:
                        return
            except grpc.RpcError as error:
                failure = error
            finally:
                stream.cancel()
            if flow.plan is not None:
                break
            await asyncio.sleep(self._retry_delay(attempts, failure))
        # Backgrounded: the rest through AwaitResult, from where the stream stopped.
        plan = flow.plan
        attempts = self._attempts(f"AwaitResult {plan.task_id}")
        await asyncio.sleep(self._retry_delay(attempts, failure))
        async for update in self._follow(plan, attempts):
            event = flow.unwrap(update)
            if event is not None:
                yield event

    async def get_result(self, task_id: str, user_id: str = "", *, output_offset: int | None = None) -> Result:
        """The task now, without waiting; with output_offset its output from there (see Client.get_result)."""
        return await self._unary(_calls.get_result(task_id, user_id, output_offset))

    async def read_output(self, task_id: str, user_id: str = "", *, offset: int = 0) -> OutputChunk:
        """The task's output from byte offset up to what it has written so far (see Client.read_output)."""
        cursor = _calls.OutputCursor(offset)
        parts: list[str] = []
        while True:
            result = await self.get_result(task_id, user_id, output_offset=cursor.offset)
            if not _calls.read_more(cursor, result, parts):
                return OutputChunk(offset=offset, text="".join(parts))

    def await_result(
        self,
        task_id: str,
        user_id: str = "",
        *,
        timeout_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
        output: bool = False,
        output_offset: int | None = None,
        after_version: int = 0,
    ) -> AsyncIterator[TaskUpdate]:
        """The task's updates until its last, resumed where it stopped after UNAVAILABLE, its output
        too with output=True (see Client.await_result).

        Leaving an ``async for`` early cancels the stream only when the
        generator is closed: use ``contextlib.aclosing`` for that.
        """
        if output and output_offset is None:
            output_offset = 0
        plan = AwaitPlan(
            task_id, user_id, timeout_seconds, heartbeat_seconds, after_version=after_version, output_offset=output_offset
        )
        return self._follow(plan, self._attempts(f"AwaitResult {task_id}"))

    async def wait(self, task_id: str, user_id: str = "", *, timeout_seconds: float | None = None) -> Result:
        """Await the task's end: its Result, or ToolFailed / WaitTimedOut (see Client.wait)."""
        async for update in self.await_result(task_id, user_id, timeout_seconds=timeout_seconds):
            if update.last:
                return settled(update)
        raise AssertionError("unreachable: await_result ends with a last update or raises")

    async def list_tasks(
        self,
        user_id: str = "",
        *,
        status: TaskStatus | None = None,
        tool_name: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> TaskPage:
        """One page of tasks, newest first (see Client.list_tasks)."""
        return await self._unary(_calls.list_tasks(user_id, status, tool_name, page_size, page_token))

    async def iter_tasks(
        self, user_id: str = "", *, status: TaskStatus | None = None, tool_name: str = "", page_size: int = 0
    ) -> AsyncIterator[Task]:
        """Every matching task, newest first, page after page (see Client.iter_tasks)."""
        token = ""
        while True:
            page = await self.list_tasks(
                user_id, status=status, tool_name=tool_name, page_size=page_size, page_token=token
            )
            for task in page.tasks:
                yield task
            token = page.next_page_token
            if not token:
                return

    async def cancel(self, task_id: str, user_id: str = "") -> Task:
        """Stop a running task (see Client.cancel)."""
        return await self._unary(_calls.cancel(task_id, user_id))

    async def set_output_redirect(
        self, task_id: str, channel_id: str, platform: str, *, max_chars: int = 0, user_id: str = ""
    ) -> Task:
        """Deliver the task's result to a channel when it finishes (see Client.set_output_redirect)."""
        return await self._unary(_calls.set_output_redirect(task_id, channel_id, platform, max_chars, user_id))

    async def provide_input(self, task_id: str, input_request_id: str, answer: Answer, *, user_id: str = "") -> Task:
        """Answer the question a task waits on; never retried (see Client.provide_input)."""
        return await self._unary(_calls.provide_input(task_id, input_request_id, answer, user_id))

    async def list_tools(self) -> list[ToolInfo]:
        """Every tool the server can run, meta-tools included."""
        return await self._unary(_calls.list_tools())

    async def server_info(self) -> ServerInfo:
        """The server's release and the API packages it serves (see Client.server_info)."""
        return await self._unary(_calls.server_info())

    # -- calls and retries ---------------------------------------------------------

    async def _follow(self, plan: AwaitPlan, attempts: Attempts) -> AsyncIterator[TaskUpdate]:
        """AwaitResult streams, one after another, until the plan's last update."""
        while True:
            stream = self._stub_here().AwaitResult(plan.request(), metadata=self._metadata)
            failure: grpc.RpcError = EndedEarly()
            try:
                count = 0
                async for response in stream:
                    update, new = plan.accept(response)
                    if new or count:
                        attempts.reset()
                    count += 1
                    if update is None:
                        continue
                    yield update
                    if update.last:
                        return
            except grpc.RpcError as error:
                failure = error
            finally:
                stream.cancel()
            await asyncio.sleep(self._retry_delay(attempts, failure))

    def _event(self, event: FlowEvent, user_id: str) -> AsyncExecuteEvent:
        if not isinstance(event, Answered):
            return event
        if not event.backgrounded:
            return event.result
        return AsyncTaskHandle(task=event.result.task, text=event.result.text, user_id=user_id, _client=self)

    async def _unary(self, call: Call[T]) -> T:
        attempts = self._attempts(call.method, call.idempotent)
        method = getattr(self._stub_here(), call.method)
        while True:
            try:
                response = await method(call.request, timeout=self._deadline(call), metadata=self._metadata)
            except grpc.RpcError as error:
                await asyncio.sleep(self._retry_delay(attempts, error))
                continue
            return call.convert(response)


@dataclass(frozen=True)
class AsyncTaskHandle(HandleBase):
    """A backgrounded call of an AsyncClient; the methods of TaskHandle, as coroutines."""

    _client: AsyncClient = field(repr=False, compare=False)

    async def get(self) -> Result:
        return await self._client.get_result(self.task_id, self.user_id)

    def await_result(
        self,
        *,
        timeout_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
        output: bool = False,
        output_offset: int | None = None,
        after_version: int = 0,
    ) -> AsyncIterator[TaskUpdate]:
        return self._client.await_result(
            self.task_id,
            self.user_id,
            timeout_seconds=timeout_seconds,
            heartbeat_seconds=heartbeat_seconds,
            output=output,
            output_offset=output_offset,
            after_version=after_version,
        )

    async def read_output(self, offset: int = 0) -> OutputChunk:
        return await self._client.read_output(self.task_id, self.user_id, offset=offset)

    async def wait(self, timeout_seconds: float | None = None) -> Result:
        return await self._client.wait(self.task_id, self.user_id, timeout_seconds=timeout_seconds)

    async def result(self, timeout_seconds: float | None = None) -> str:
        return (await self.wait(timeout_seconds)).text

    async def cancel(self) -> Task:
        return await self._client.cancel(self.task_id, self.user_id)

    async def redirect(self, channel_id: str, platform: str, max_chars: int = 0) -> Task:
        return await self._client.set_output_redirect(
            self.task_id, channel_id, platform, max_chars=max_chars, user_id=self.user_id
        )

    async def provide_input(self, input_request_id: str, answer: Answer) -> Task:
        return await self._client.provide_input(self.task_id, input_request_id, answer, user_id=self.user_id)
