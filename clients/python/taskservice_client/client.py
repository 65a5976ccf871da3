"""Client: the TaskService API over a blocking gRPC channel.

Thread-safe: one Client (one channel, one HTTP/2 connection) can serve every
thread of a process. Retries sleep on the calling thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar, Union

import grpc

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

#: What Client.execute_stream yields: the tool's output (every byte once, from offset 0), its
#: progress while the call waits inline, the answer (a Result, or a TaskHandle when backgrounded),
#: then the backgrounded task's updates (TaskUpdate; its output still as OutputChunk).
ExecuteEvent = Union[OutputChunk, Progress, Result, "TaskHandle", TaskUpdate]


class Client(ClientBase):
    """A TaskService client on a blocking channel.

    ``Client("127.0.0.1:50051", token=..., credentials=..., retry=..., timeout=30.0)``;
    see ClientBase.__init__ for every argument. Use it as a context manager,
    or call close() when done.
    """

    def _connect(self) -> None:
        channel = self._open_channel(grpc)
        self._channel = channel
        if self._interceptors:
            channel = grpc.intercept_channel(channel, *self._interceptors)
        self._stub = task_service_pb2_grpc.TaskServiceStub(channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; calls still under way fail with Cancelled."""
        self._channel.close()

    # -- the API -------------------------------------------------------------------

    def execute(
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
    ) -> Result | TaskHandle:
        """Run a tool: a Result if it settled within the budget, else a TaskHandle.

        arguments: a dict (sent as JSON), a model's raw JSON text, or None ({}).
        budget_seconds: the budget before the call is backgrounded (None: the
        tool's default, else the server's); ``timeout_seconds`` is its old,
        deprecated name (the proto field's). A tool that fails inline is a
        Result with ``failed`` set and ``Error: ...`` as text, not an exception.
        Retried on UNAVAILABLE only with a request_id (the server then
        de-duplicates). Raises NotFound for an unknown tool, InvalidArgument for
        arguments the tool's schema refuses.
        """
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
        backgrounded, result = self._unary(call)
        if not backgrounded:
            return result
        return TaskHandle(task=result.task, text=result.text, user_id=user_id, _client=self)

    def execute_stream(
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
    ) -> Iterator[ExecuteEvent]:
        """Run a tool and follow it to its end, in one call: the events as they come.

        While the call waits inline: OutputChunk (what the tool writes) and
        Progress. Then the answer execute() would return: a Result (the last
        event), or a TaskHandle when backgrounded, followed by the task's
        TaskUpdates (PROGRESS, INPUT, HEARTBEAT, ... until TERMINAL or
        WAIT_TIMED_OUT, ``update.last``) and its further output, again as
        OutputChunk: all the output comes as OutputChunk, every byte once, in
        order, from offset 0, and before the last update.

        A stream that breaks after a backgrounded answer is resumed through
        AwaitResult where it stopped (the retry policy's backoff, its attempts
        counted afresh after each new event): nothing is lost or repeated. One
        that breaks before the answer raises (Unavailable, ...) as execute()
        would, since the server stops an untracked call whose caller went away;
        with a request_id the call is tracked and goes on, so ExecuteStream is
        issued again and answers for the same task (its output seen already is
        dropped; its budget starts again). Arguments as for execute().
        Stopping the iteration early cancels the stream (and an untracked call
        still inside its budget).
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
            stream = self._stub.ExecuteStream(call.request, metadata=self._metadata)
            failure: grpc.RpcError = EndedEarly("the ExecuteStream stream ended before its last event")
            try:
                count = 0
                for response in stream:
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
            time.sleep(self._retry_delay(attempts, failure))
        # Backgrounded: the rest through AwaitResult, from where the stream stopped.
        plan = flow.plan
        attempts = self._attempts(f"AwaitResult {plan.task_id}")
        time.sleep(self._retry_delay(attempts, failure))
        for update in self._follow(plan, attempts):
            event = flow.unwrap(update)
            if event is not None:
                yield event

    def get_result(self, task_id: str, user_id: str = "", *, output_offset: int | None = None) -> Result:
        """The task now, without waiting; text is the result, or a JSON status while running or failed.

        output_offset: also read the task's output from this byte offset into
        ``result.output`` (an OutputChunk of at most 1 MiB: see read_output for all of it).
        """
        return self._unary(_calls.get_result(task_id, user_id, output_offset))

    def read_output(self, task_id: str, user_id: str = "", *, offset: int = 0) -> OutputChunk:
        """The task's output from byte offset (0: all of it) up to what it has written so far.

        Reads with GetResult, 1 MiB per call, until it reaches the task's
        ``output_bytes``. Pass the returned chunk's ``next_offset`` to read
        what the tool writes later, or follow the output as it is written with
        ``await_result(output=True)``.
        """
        cursor = _calls.OutputCursor(offset)
        parts: list[str] = []
        while True:
            result = self.get_result(task_id, user_id, output_offset=cursor.offset)
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
    ) -> Iterator[TaskUpdate]:
        """The task's updates until its last: a snapshot, progress and heartbeats, then
        TERMINAL, or WAIT_TIMED_OUT once timeout_seconds pass (None: the server's 300 s).

        output=True: also the task's output, as OUTPUT updates (``update.output``,
        an OutputChunk), all of it before the last update; output_offset: from
        that byte on instead of from 0 (it implies output). after_version: resume
        after a state seen earlier (its ``task.version``): no snapshot of a
        state already seen.

        A stream that breaks (UNAVAILABLE, or an end before the last update)
        is opened again with the policy's backoff and resumed where it stopped
        (after the last version seen, at the next output byte): every status
        change and every output byte comes once, in order (progress may be
        coalesced), and no state already seen comes again. The attempts count
        afresh after each new update. Sequence numbers start at 1 in each
        stream. Stopping the iteration early cancels the stream.
        """
        if output and output_offset is None:
            output_offset = 0
        plan = AwaitPlan(
            task_id, user_id, timeout_seconds, heartbeat_seconds, after_version=after_version, output_offset=output_offset
        )
        return self._follow(plan, self._attempts(f"AwaitResult {task_id}"))

    def wait(self, task_id: str, user_id: str = "", *, timeout_seconds: float | None = None) -> Result:
        """Await the task's end: its Result if it completed.

        Raises ToolFailed if it ended FAILED (cancelled included), WaitTimedOut
        if timeout_seconds passed first (the task goes on running).
        """
        for update in self.await_result(task_id, user_id, timeout_seconds=timeout_seconds):
            if update.last:
                return settled(update)
        raise AssertionError("unreachable: await_result ends with a last update or raises")

    def list_tasks(
        self,
        user_id: str = "",
        *,
        status: TaskStatus | None = None,
        tool_name: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> TaskPage:
        """One page of tasks, newest first (page_size 0: 50; at most 500)."""
        return self._unary(_calls.list_tasks(user_id, status, tool_name, page_size, page_token))

    def iter_tasks(
        self, user_id: str = "", *, status: TaskStatus | None = None, tool_name: str = "", page_size: int = 0
    ) -> Iterator[Task]:
        """Every matching task, newest first, fetching one page after another as they are consumed."""
        token = ""
        while True:
            page = self.list_tasks(user_id, status=status, tool_name=tool_name, page_size=page_size, page_token=token)
            yield from page.tasks
            token = page.next_page_token
            if not token:
                return

    def cancel(self, task_id: str, user_id: str = "") -> Task:
        """Stop a running task; it ends FAILED with reason CANCELLED (a no-op if it already was).

        Raises FailedPrecondition if the task finished otherwise.
        """
        return self._unary(_calls.cancel(task_id, user_id))

    def set_output_redirect(
        self, task_id: str, channel_id: str, platform: str, *, max_chars: int = 0, user_id: str = ""
    ) -> Task:
        """Deliver the task's result to a channel of a configured platform when it finishes (at once if it has)."""
        return self._unary(_calls.set_output_redirect(task_id, channel_id, platform, max_chars, user_id))

    def provide_input(self, task_id: str, input_request_id: str, answer: Answer, *, user_id: str = "") -> Task:
        """Answer the question a task waits on (``task.input_request``); the tool resumes with the answer.

        input_request_id: ``task.input_request.id``. answer: a dict matching
        the question's schema (``task.input_request.schema``), or its JSON
        text. Returns the task as the answer left it (RUNNING, unless the tool
        has already moved on). Raises InvalidArgument if the answer does not
        match the schema (the message names the field), FailedPrecondition if
        input_request_id is not the open question (stale, answered already) or
        the task waits for nothing, NotFound for another user's task. Never
        retried: a lost reply to an answer that was taken would come back
        FailedPrecondition, so on Unavailable look at the task (get_result).
        """
        return self._unary(_calls.provide_input(task_id, input_request_id, answer, user_id))

    def list_tools(self) -> list[ToolInfo]:
        """Every tool the server can run, meta-tools included."""
        return self._unary(_calls.list_tools())

    def server_info(self) -> ServerInfo:
        """The server's release (``version``, the same number as this library's ``__version__``
        when they come from one release) and the API packages it serves. Raises Unimplemented
        for a server older than 0.2.0."""
        return self._unary(_calls.server_info())

    # -- calls and retries ---------------------------------------------------------

    def _follow(self, plan: AwaitPlan, attempts: Attempts) -> Iterator[TaskUpdate]:
        """AwaitResult streams, one after another, until the plan's last update."""
        while True:
            stream = self._stub.AwaitResult(plan.request(), metadata=self._metadata)
            failure: grpc.RpcError = EndedEarly()
            try:
                count = 0
                for response in stream:
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
            time.sleep(self._retry_delay(attempts, failure))

    def _event(self, event: FlowEvent, user_id: str) -> ExecuteEvent:
        if not isinstance(event, Answered):
            return event
        if not event.backgrounded:
            return event.result
        return TaskHandle(task=event.result.task, text=event.result.text, user_id=user_id, _client=self)

    def _unary(self, call: Call[T]) -> T:
        attempts = self._attempts(call.method, call.idempotent)
        method = getattr(self._stub, call.method)
        while True:
            try:
                response = method(call.request, timeout=self._deadline(call), metadata=self._metadata)
            except grpc.RpcError as error:
                time.sleep(self._retry_delay(attempts, error))
                continue
            return call.convert(response)


@dataclass(frozen=True)
class TaskHandle(HandleBase):
    """A backgrounded call of a Client: the task runs on; ask, wait, answer, cancel or redirect it.

    Every method acts for the Execute call's user_id.
    """

    _client: Client = field(repr=False, compare=False)

    def get(self) -> Result:
        """The task now (see Client.get_result)."""
        return self._client.get_result(self.task_id, self.user_id)

    def await_result(
        self,
        *,
        timeout_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
        output: bool = False,
        output_offset: int | None = None,
        after_version: int = 0,
    ) -> Iterator[TaskUpdate]:
        """The task's updates until its last, its output too with output=True (see Client.await_result)."""
        return self._client.await_result(
            self.task_id,
            self.user_id,
            timeout_seconds=timeout_seconds,
            heartbeat_seconds=heartbeat_seconds,
            output=output,
            output_offset=output_offset,
            after_version=after_version,
        )

    def read_output(self, offset: int = 0) -> OutputChunk:
        """The task's output written so far, from byte offset (see Client.read_output)."""
        return self._client.read_output(self.task_id, self.user_id, offset=offset)

    def wait(self, timeout_seconds: float | None = None) -> Result:
        """The Result once the task completed; ToolFailed or WaitTimedOut otherwise (see Client.wait)."""
        return self._client.wait(self.task_id, self.user_id, timeout_seconds=timeout_seconds)

    def result(self, timeout_seconds: float | None = None) -> str:
        """The result text once the task completed; raises like wait()."""
        return self.wait(timeout_seconds).text

    def cancel(self) -> Task:
        """Stop the task (see Client.cancel)."""
        return self._client.cancel(self.task_id, self.user_id)

    def redirect(self, channel_id: str, platform: str, max_chars: int = 0) -> Task:
        """Deliver the result to a channel when the task finishes (see Client.set_output_redirect)."""
        return self._client.set_output_redirect(
            self.task_id, channel_id, platform, max_chars=max_chars, user_id=self.user_id
        )

    def provide_input(self, input_request_id: str, answer: Answer) -> Task:
        """Answer the task's question (see Client.provide_input)."""
        return self._client.provide_input(self.task_id, input_request_id, answer, user_id=self.user_id)
