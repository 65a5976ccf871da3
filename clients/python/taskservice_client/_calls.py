"""Each RPC as a value: its request, whether it may be retried, how its answer is read.

Client and AsyncClient differ only in how they wait (threads or coroutines),
so everything else about a call is built here once: the request message from
Python arguments, the idempotency rule of retry.py, and the conversion of
the response into models.py types.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, Union

import grpc

from ._proto import task_pb2, task_service_pb2 as pb
from .errors import TaskServiceError
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
    UpdateKind,
    enum_of,
)

logger = logging.getLogger("taskservice_client")

T = TypeVar("T")

Arguments = Mapping[str, Any] | str | None
#: ProvideInput's answer: a dict, or the JSON text of an object (a model's raw text).
Answer = Mapping[str, Any] | str


@dataclass(frozen=True)
class Call(Generic[T]):
    """One unary RPC, ready to send."""

    #: The stub attribute ("Execute", "GetResult", ...).
    method: str
    request: Any
    convert: Callable[[Any], T]
    #: Whether UNAVAILABLE may be retried (see retry.py).
    idempotent: bool = True
    #: Execute's budget in seconds, which the call's deadline must leave room for.
    budget: float | None = None


def encode_arguments(arguments: Arguments) -> str:
    """Execute's arguments_json: a dict as JSON, a str as is (a model's raw text), None as ""."""
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, Mapping):
        return json.dumps(dict(arguments), allow_nan=False)
    raise TypeError(f"arguments must be a dict, a JSON string or None, not {type(arguments).__name__}")


def encode_answer(answer: Answer) -> str:
    """ProvideInput's response_json: a dict as JSON, a str (JSON text of an object) as is."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, Mapping):
        return json.dumps(dict(answer), allow_nan=False)
    raise TypeError(f"answer must be a dict or the JSON text of an object, not {type(answer).__name__}")


def budget_from(budget_seconds: float | None, timeout_seconds: float | None) -> float | None:
    """Execute's budget, from ``budget_seconds`` or its deprecated name ``timeout_seconds`` (not both)."""
    if timeout_seconds is None:
        return budget_seconds
    if budget_seconds is not None:
        raise TypeError("give budget_seconds, or its old name timeout_seconds, not both")
    warnings.warn(
        "execute(timeout_seconds=...) is deprecated: the inline wait is the budget, budget_seconds=...",
        DeprecationWarning,
        stacklevel=3,
    )
    return timeout_seconds


def execute(
    tool: str,
    arguments: Arguments,
    *,
    user_id: str,
    channel_id: str,
    platform: str,
    budget_seconds: float | None,
    request_id: str,
    redirect: RedirectTarget | None,
) -> Call[tuple[bool, Result]]:
    """Execute; the answer is (backgrounded, the task and text)."""
    request = pb.ExecuteRequest(
        tool_name=tool,
        arguments_json=encode_arguments(arguments),
        user_id=user_id,
        channel_id=channel_id,
        platform=platform,
        request_id=request_id,
    )
    if budget_seconds is not None:
        request.timeout_seconds = float(budget_seconds)
    if redirect is not None:
        if not isinstance(redirect, RedirectTarget):
            raise TypeError(f"redirect must be a RedirectTarget, not {type(redirect).__name__}")
        request.redirect.CopyFrom(redirect.to_pb())
    return Call(
        "Execute",
        request,
        lambda response: (response.backgrounded, Result.from_pb(response)),
        idempotent=bool(request_id),
        budget=request.timeout_seconds if request.HasField("timeout_seconds") else None,
    )


def get_result(task_id: str, user_id: str, output_offset: int | None = None) -> Call[Result]:
    request = pb.GetResultRequest(task_id=task_id, user_id=user_id)
    if output_offset is not None:
        request.output_offset = check_offset(output_offset)
    return Call("GetResult", request, Result.from_pb)


def check_offset(value: int, what: str = "output_offset") -> int:
    """A byte offset into a task's output (or a version): an int >= 0 (TypeError / ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, not {value}")
    return value


def list_tasks(
    user_id: str, status: TaskStatus | None, tool_name: str, page_size: int, page_token: str
) -> Call[TaskPage]:
    request = pb.ListTasksRequest(
        user_id=user_id,
        # By name: the .pyi types the field as the proto's enum, which a plain int is not.
        status=task_pb2.TaskStatus.Name(status or TaskStatus.UNSPECIFIED),
        tool_name=tool_name,
        page_size=page_size,
        page_token=page_token,
    )
    return Call("ListTasks", request, TaskPage.from_pb)


def cancel(task_id: str, user_id: str) -> Call[Task]:
    return Call("CancelTask", pb.CancelTaskRequest(task_id=task_id, user_id=user_id), _task_of)


def set_output_redirect(task_id: str, channel_id: str, platform: str, max_chars: int, user_id: str) -> Call[Task]:
    request = pb.SetOutputRedirectRequest(
        task_id=task_id, user_id=user_id, channel_id=channel_id, platform=platform, max_chars=max_chars
    )
    return Call("SetOutputRedirect", request, _task_of)


def provide_input(task_id: str, input_request_id: str, answer: Answer, user_id: str) -> Call[Task]:
    """ProvideInput; never retried: an answer that was taken but whose reply was lost
    would come back FAILED_PRECONDITION (no longer the open question)."""
    request = pb.ProvideInputRequest(
        task_id=task_id, user_id=user_id, input_request_id=input_request_id, response_json=encode_answer(answer)
    )
    return Call("ProvideInput", request, _task_of, idempotent=False)


def list_tools() -> Call[list[ToolInfo]]:
    return Call("ListTools", pb.ListToolsRequest(), lambda response: [ToolInfo.from_pb(t) for t in response.tools])


def server_info() -> Call[ServerInfo]:
    return Call("GetServerInfo", pb.GetServerInfoRequest(), ServerInfo.from_pb)


def _task_of(response: Any) -> Task:
    return Task.from_pb(response.task)


# The wait limit sent when a reconnect finds it already passed: the server
# then answers with the current state and WAIT_TIMED_OUT at once (0 would
# mean its default of 300 s).
_ALREADY_OVER_S = 0.001


class StreamBroken(grpc.RpcError):
    """A stream to give up and open again (as after UNAVAILABLE), for a reason of the client's own.

    Raised when a stream ends OK before its last message (the server does not
    do that, but a proxy closing idle streams might) and when output arrives
    past the offset expected (a gap: the server does not leave one either).
    The retry rules treat it as UNAVAILABLE: reopen, and fail as Unavailable
    with these details once the attempts are used up.
    """

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return self._details


class OutputCursor:
    """How far into a task's output the application is: every byte once, in order.

    A chunk (or the part of one) before the offset was seen already and is
    dropped; a chunk past it means bytes were skipped (StreamBroken, so that
    the stream is reopened from the offset).
    """

    def __init__(self, offset: int = 0) -> None:
        #: The byte offset of the next byte the application has not seen.
        self.offset = check_offset(offset)

    def take(self, offset: int, text: str) -> OutputChunk | None:
        """The part of the chunk at offset that is new, as an OutputChunk; None when nothing is."""
        data = text.encode("utf-8")
        end = offset + len(data)
        if end <= self.offset:
            return None
        if offset > self.offset:
            raise StreamBroken(f"output from byte {offset} arrived while byte {self.offset} was expected")
        if offset < self.offset:
            rest = data[self.offset - offset :]
            # Start at a character (a server's offsets always are; stay safe if not).
            skip = 0
            while skip < len(rest) and rest[skip] & 0xC0 == 0x80:
                skip += 1
            offset, text = self.offset + skip, rest[skip:].decode("utf-8", errors="replace")
        self.offset = end
        return OutputChunk(offset=offset, text=text)


def read_more(cursor: OutputCursor, result: Result, parts: list[str]) -> bool:
    """One GetResult of read_output: adds its new text to parts; whether to read on.

    On while the read brought something and the task has more than that.
    GetResult reads from the offset asked, so a chunk from elsewhere is the
    server's error, not a gap to fill by reading again.
    """
    chunk = result.output
    if chunk is None:
        raise TaskServiceError(None, "GetResult answered without the output asked for (a server without task output)")
    if chunk.offset != cursor.offset:
        raise TaskServiceError(None, f"GetResult answered output from byte {chunk.offset}, not {cursor.offset} as asked")
    piece = cursor.take(chunk.offset, chunk.text)
    if piece is None:
        return False
    parts.append(piece.text)
    return cursor.offset < result.task.output_bytes


#: What a plan makes of one message: the update to hand on (None: nothing new), and
#: whether the message told the application something new (a state or output it had not seen).
Accepted = tuple[Union[TaskUpdate, None], bool]


class AwaitPlan:
    """One wait for a task, possibly over several AwaitResult streams.

    A reconnect must not restart the caller's wait limit, so each stream is
    asked for what remains of it. It resumes where the application is: after
    the last state it saw (after_version) and at the next output byte
    (output_offset), and accept() drops whatever a stream repeats anyway, so
    each status change and each output byte reaches the application once.
    """

    def __init__(
        self,
        task_id: str,
        user_id: str,
        timeout_seconds: float | None,
        heartbeat_seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        after_version: int = 0,
        output_offset: int | None = None,
        seen: Task | None = None,
    ) -> None:
        """after_version: the version of the last state already seen (0: none, a snapshot first).
        output_offset: also follow the output from this byte (None: no output).
        seen: the last state the application saw, if any (its version wins over after_version)."""
        self.task_id = task_id
        self.user_id = user_id
        self._heartbeat = heartbeat_seconds
        self._clock = clock
        self._ends = None if not timeout_seconds else clock() + float(timeout_seconds)
        #: The version of the last state handed on (0: none known).
        self.version = check_offset(after_version, "after_version")
        #: The status of that state, when this plan knows it (a resumed stream's snapshot is relabelled from it).
        self.status: TaskStatus | None = None
        if seen is not None:
            self.version, self.status = seen.version, seen.status
        #: None when the output is not followed.
        self.output = None if output_offset is None else OutputCursor(output_offset)

    def request(self) -> pb.AwaitResultRequest:
        """The request of the next stream."""
        request = pb.AwaitResultRequest(task_id=self.task_id, user_id=self.user_id)
        if self._ends is not None:
            request.timeout_seconds = max(_ALREADY_OVER_S, self._ends - self._clock())
        if self._heartbeat is not None:
            request.heartbeat_seconds = float(self._heartbeat)
        if self.version:
            request.after_version = self.version
        if self.output is not None:
            request.output_offset = self.output.offset
        return request

    def accept(self, message: pb.AwaitResultResponse) -> Accepted:
        """One message of a stream: what to hand on. Raises StreamBroken for an output gap.

        A state the application saw already (its version not newer) is
        dropped, and so is output before the cursor. The last update (TERMINAL,
        WAIT_TIMED_OUT) is always handed on. Versions come only from states:
        an OUTPUT message's task is not one (before any state of a stream, it
        may be the newest, even the final one). A resumed stream opens with
        a SNAPSHOT of the state it finds; when the application saw a state
        before, it becomes what one stream would have sent: INPUT if the
        status went in or out of INPUT_REQUIRED, else PROGRESS. (A server without
        versions, all 0, gets none of this: its reconnects start with a snapshot.)
        """
        kind = enum_of(UpdateKind, message.kind)
        if kind is UpdateKind.OUTPUT or message.HasField("output"):
            if self.output is None:
                return None, False  # not asked for
            chunk = self.output.take(int(message.output.offset), message.output.text)
            if chunk is None:
                return None, False
            update = TaskUpdate.from_pb(message)
            return dataclasses.replace(update, kind=UpdateKind.OUTPUT, output=chunk), True
        update = TaskUpdate.from_pb(message)
        if not kind.carries_state:
            return update, False
        version = update.task.version
        if version and version <= self.version and not update.last:
            return None, False
        if kind is UpdateKind.SNAPSHOT and version and self.status is not None:
            input_changed = (self.status is TaskStatus.INPUT_REQUIRED) != update.task.input_required
            update = dataclasses.replace(update, kind=UpdateKind.INPUT if input_changed else UpdateKind.PROGRESS)
        new = version > self.version
        self.version = max(self.version, version)
        self.status = update.task.status
        return update, new


@dataclass(frozen=True)
class Answered:
    """ExecuteStream's answer: what Execute answers (the client makes a handle of a backgrounded one)."""

    backgrounded: bool
    result: Result


#: What ExecuteFlow hands on (before the client makes a handle of an Answered).
FlowEvent = Union[OutputChunk, Progress, Answered, TaskUpdate]


class ExecuteFlow:
    """One execute_stream call, over one or more streams.

    Before the answer: the inline output (each byte once, across re-issued
    calls) and progress (a repeat of the last one dropped). A backgrounded
    answer starts the plan that follows the task from its version and from
    where the inline output stopped, over the rest of the ExecuteStream and,
    if it breaks, over AwaitResult streams. The task's output comes as
    OutputChunk whichever phase it belongs to.
    """

    def __init__(self, request: pb.ExecuteRequest) -> None:
        self.request = request
        self._output = OutputCursor(0)
        self._progress: Progress | None = None
        #: Set by a backgrounded answer: how the task is followed.
        self.plan: AwaitPlan | None = None
        #: True once the last event was handed on (an inline answer, or the task's last update).
        self.done = False

    @property
    def answered(self) -> bool:
        return self.plan is not None or self.done

    def accept(self, message: pb.ExecuteStreamResponse) -> tuple[FlowEvent | None, bool]:
        """One ExecuteStream message: the event to hand on (None: nothing new), and whether it was new."""
        which = message.WhichOneof("event")
        if which == "update":
            if self.plan is None:
                logger.warning("ExecuteStream: an update before the answer was ignored")
                return None, False
            update, new = self.plan.accept(message.update)
            return self.unwrap(update), new
        if self.answered:
            logger.warning("ExecuteStream: %s after the answer was ignored", which)
            return None, False
        if which == "output":
            chunk = self._output.take(int(message.output.offset), message.output.text)
            return chunk, chunk is not None
        if which == "progress":
            progress = Progress.from_pb(message.progress)
            if progress == self._progress:
                return None, False
            self._progress = progress
            return progress, True
        if which == "answer":
            answer = message.answer
            result = Result.from_pb(answer)
            if answer.backgrounded:
                self.plan = AwaitPlan(
                    result.task.task_id,
                    self.request.user_id,
                    None,
                    None,
                    output_offset=self._output.offset,
                    seen=result.task,
                )
            else:
                self.done = True
            return Answered(answer.backgrounded, result), True
        return None, False  # an event of a newer server

    def unwrap(self, update: TaskUpdate | None) -> OutputChunk | TaskUpdate | None:
        """An update of the follow-up as the event handed on: its output alone on OUTPUT updates."""
        if update is None:
            return None
        if update.last:
            self.done = True
        return update.output if update.output is not None else update
