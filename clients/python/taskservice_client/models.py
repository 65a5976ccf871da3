"""Typed Python values for what the TaskService API returns.

Callers get frozen dataclasses and IntEnums instead of protobuf messages, so
that a result can be printed, compared and type-checked without knowing
protobuf's rules (an unset Timestamp is not None there, an enum is a bare
int). Each class has a ``from_pb`` that is the one place its message is read.

Enum values equal the proto's, so ``TaskStatus.RUNNING == task_pb2.TASK_STATUS_RUNNING``.
A value this library does not know yet (a newer server) becomes UNSPECIFIED
rather than an error: a client should not break because the server learned a
new failure reason.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from ._proto import task_pb2, task_service_pb2

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

E = TypeVar("E", bound=enum.IntEnum)
D = TypeVar("D", bound="DataclassInstance")


class TaskStatus(enum.IntEnum):
    UNSPECIFIED = 0
    #: The tool is still running.
    RUNNING = 1
    #: The tool returned; Task.result holds its output.
    COMPLETED = 2
    #: No result; see Task.failure_reason and Task.error.
    FAILED = 3
    #: The tool asked a question and waits for its answer (Task.input_request; answer with provide_input).
    INPUT_REQUIRED = 4


class FailureReason(enum.IntEnum):
    #: Running and completed tasks.
    UNSPECIFIED = 0
    TOOL_ERROR = 1
    CANCELLED = 2
    HARD_TIMEOUT = 3
    WORKER_LOST = 4
    SHUTDOWN = 5
    #: No answer to the tool's question came within its input timeout.
    INPUT_TIMEOUT = 6


class DeliveryState(enum.IntEnum):
    #: No redirect is set.
    UNSPECIFIED = 0
    PENDING = 1
    DELIVERING = 2
    DELIVERED = 3
    FAILED = 4


class UpdateKind(enum.IntEnum):
    UNSPECIFIED = 0
    #: The state when the stream opened (after a reconnect too).
    SNAPSHOT = 1
    #: The task changed (progress, redirect delivery).
    PROGRESS = 2
    #: Nothing changed for a heartbeat interval.
    HEARTBEAT = 3
    #: The task finished; the last update.
    TERMINAL = 4
    #: The wait limit passed with the task still running; the last update.
    WAIT_TIMED_OUT = 5
    #: The task entered INPUT_REQUIRED (Task.input_request is the question) or an answer took it back to RUNNING.
    INPUT = 6
    #: The tool wrote output: TaskUpdate.output holds it; the task is the last state sent (not a new one).
    OUTPUT = 7

    @property
    def carries_state(self) -> bool:
        """Whether an update of this kind reports a state of the task (not output, not a heartbeat)."""
        return self not in (UpdateKind.HEARTBEAT, UpdateKind.OUTPUT, UpdateKind.UNSPECIFIED)


def enum_of(cls: type[E], value: int) -> E:
    """value as a member of cls; an unknown value (a newer server) is UNSPECIFIED."""
    try:
        return cls(value)
    except ValueError:
        return cls(0)


def _copy(cls: type[D], message: Any, **converted: Any) -> D:
    """An instance of the dataclass cls from the message fields of the same names;
    converted gives the values of the fields that need more than a copy."""
    plain = {f.name: getattr(message, f.name) for f in fields(cls) if f.name not in converted}
    return cls(**plain, **converted)


def _time(message: Any, name: str) -> datetime | None:
    """An optional Timestamp field as an aware UTC datetime, None when unset."""
    if not message.HasField(name):
        return None
    stamp: Timestamp = getattr(message, name)
    return stamp.ToDatetime(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Progress:
    """The latest progress a tool reported."""

    #: 0.0 to 1.0; 0 when the tool never reported a fraction.
    fraction: float
    message: str
    updated_at: datetime | None

    @classmethod
    def from_pb(cls, message: task_pb2.Progress) -> Progress:
        return _copy(cls, message, updated_at=_time(message, "updated_at"))


@dataclass(frozen=True)
class OutputRedirect:
    """Where a task's result is delivered, and how far delivery got."""

    channel_id: str
    platform: str
    #: 0: the platform's limit.
    max_chars: int
    delivery_state: DeliveryState
    attempts: int
    last_error: str
    delivered_at: datetime | None

    @classmethod
    def from_pb(cls, message: task_pb2.OutputRedirect) -> OutputRedirect:
        return _copy(
            cls,
            message,
            delivery_state=enum_of(DeliveryState, message.delivery_state),
            delivered_at=_time(message, "delivered_at"),
        )


@dataclass(frozen=True)
class InputRequest:
    """The question a task waits on while INPUT_REQUIRED: answer it with provide_input."""

    #: Pass to provide_input as input_request_id ("input-1", "input-2", ... per task).
    id: str
    #: What is asked, for a person (or a model) to read.
    message: str
    #: The JSON Schema the answer must match (an object schema), as the server sent it.
    schema_json: str
    requested_at: datetime | None

    @property
    def schema(self) -> dict[str, Any]:
        """The answer's JSON Schema as a dict."""
        schema = json.loads(self.schema_json or "{}")
        return schema if isinstance(schema, dict) else {}

    @classmethod
    def from_pb(cls, message: task_pb2.InputRequest) -> InputRequest:
        return _copy(cls, message, requested_at=_time(message, "requested_at"))


@dataclass(frozen=True)
class OutputChunk:
    """A piece of a task's output (what the tool wrote), at its place in the whole.

    ``offset`` is the byte offset (UTF-8) of the text's first byte in the
    task's output; the next piece starts at ``next_offset``.
    """

    offset: int
    text: str

    @property
    def next_offset(self) -> int:
        """The byte offset just after this piece: offset + the UTF-8 length of text."""
        return self.offset + len(self.text.encode("utf-8"))

    @classmethod
    def from_pb(cls, message: task_pb2.OutputChunk) -> OutputChunk:
        return cls(offset=int(message.offset), text=message.text)


@dataclass(frozen=True)
class Task:
    """A tracked tool invocation as the server reported it at one moment.

    An inline Execute answer's task has an empty task_id (the server stores
    nothing for it) unless the call had a request_id.
    """

    task_id: str
    tool_name: str
    status: TaskStatus
    failure_reason: FailureReason
    #: The tool's output, when COMPLETED.
    result: str
    #: What went wrong, when FAILED.
    error: str
    user_id: str = ""
    channel_id: str = ""
    platform: str = ""
    request_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: None while running.
    finished_at: datetime | None = None
    #: None until the tool reports progress.
    progress: Progress | None = None
    #: None unless an output redirect was requested.
    redirect: OutputRedirect | None = None
    #: The question the task waits on; set only while INPUT_REQUIRED.
    input_request: InputRequest | None = None
    #: Grows with every stored change of the task; orders the states a client sees (0: a server without it,
    #: or an inline call's task).
    version: int = 0
    #: Bytes of output (UTF-8) the tool has written so far, a truncation marker included.
    output_bytes: int = 0
    #: True once the output reached the server's limit: it ends with a marker line, later writes are dropped.
    output_truncated: bool = False

    @property
    def running(self) -> bool:
        return self.status == TaskStatus.RUNNING

    @property
    def input_required(self) -> bool:
        """Waiting for the answer to input_request (not finished: an answer lets the tool go on)."""
        return self.status == TaskStatus.INPUT_REQUIRED

    @property
    def completed(self) -> bool:
        return self.status == TaskStatus.COMPLETED

    @property
    def failed(self) -> bool:
        return self.status == TaskStatus.FAILED

    @property
    def finished(self) -> bool:
        """Completed or failed: nothing about the task will change any more (but its redirect)."""
        return self.completed or self.failed

    @classmethod
    def from_pb(cls, message: task_pb2.Task) -> Task:
        return _copy(
            cls,
            message,
            status=enum_of(TaskStatus, message.status),
            failure_reason=enum_of(FailureReason, message.failure_reason),
            created_at=_time(message, "created_at"),
            updated_at=_time(message, "updated_at"),
            finished_at=_time(message, "finished_at"),
            progress=Progress.from_pb(message.progress) if message.HasField("progress") else None,
            redirect=OutputRedirect.from_pb(message.redirect) if message.HasField("redirect") else None,
            input_request=InputRequest.from_pb(message.input_request) if message.HasField("input_request") else None,
        )


@dataclass(frozen=True)
class Result:
    """A call that settled inline, or GetResult's answer: the task and its text.

    ``text`` is what a model should read: the result when completed,
    ``Error: ...`` for an inline failure, a JSON status for a running or
    failed task (GetResult). Execute returns a Result or a TaskHandle; both
    have ``backgrounded`` (False here), ``text`` and ``task``.
    """

    text: str
    task: Task
    #: A Literal, so that ``if outcome.backgrounded:`` tells a type checker which of the two it is.
    backgrounded: ClassVar[Literal[False]] = False

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def completed(self) -> bool:
        return self.task.completed

    @property
    def failed(self) -> bool:
        return self.task.failed

    #: The output GetResult read (get_result(output_offset=...)); None when not asked for.
    output: OutputChunk | None = None

    @classmethod
    def from_pb(cls, message: Any) -> Result:
        """From any response with ``task`` and ``text`` (Execute, GetResult, AwaitResult)."""
        return cls(text=message.text, task=Task.from_pb(message.task), output=_output_of(message))


@dataclass(frozen=True)
class TaskUpdate:
    """One message of an AwaitResult stream."""

    kind: UpdateKind
    task: Task
    #: The text GetResult would answer at this moment.
    text: str
    #: 1, 2, 3, ... within one stream; it starts again at 1 after a reconnect.
    sequence: int
    wait_timed_out: bool = False
    #: The output, on OUTPUT updates only (None on the others).
    output: OutputChunk | None = None

    @property
    def last(self) -> bool:
        """True for the update that ends the stream (TERMINAL or WAIT_TIMED_OUT)."""
        return self.kind in (UpdateKind.TERMINAL, UpdateKind.WAIT_TIMED_OUT) or self.wait_timed_out

    @classmethod
    def from_pb(cls, message: task_service_pb2.AwaitResultResponse) -> TaskUpdate:
        return _copy(
            cls, message, kind=enum_of(UpdateKind, message.kind), task=Task.from_pb(message.task), output=_output_of(message)
        )


def _output_of(message: Any) -> OutputChunk | None:
    """The OutputChunk field ``output`` of a response that has one and set it, else None."""
    if "output" not in message.DESCRIPTOR.fields_by_name or not message.HasField("output"):
        return None
    return OutputChunk.from_pb(message.output)


@dataclass(frozen=True)
class TaskPage:
    """One page of ListTasks, newest first."""

    tasks: list[Task]
    #: Pass to the next list_tasks call; "" on the last page.
    next_page_token: str
    #: The page as the JSON summary a model could read.
    text: str

    @classmethod
    def from_pb(cls, message: task_service_pb2.ListTasksResponse) -> TaskPage:
        return _copy(cls, message, tasks=[Task.from_pb(task) for task in message.tasks])


@dataclass(frozen=True)
class ToolInfo:
    """A tool the server can run, as ListTools describes it."""

    name: str
    description: str
    #: JSON Schema of the arguments object, as the server sent it.
    parameters_json_schema: str
    #: Always awaited inline, never backgrounded.
    no_background: bool
    default_timeout_seconds: float
    hard_timeout_seconds: float
    #: "example", "meta", "module", "http" or "worker".
    source: str
    #: For worker tools, how many workers serve it; 0 for the others.
    workers: int

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema as a dict (what a model's tool declaration wants)."""
        schema = json.loads(self.parameters_json_schema or "{}")
        return schema if isinstance(schema, dict) else {}

    @classmethod
    def from_pb(cls, message: task_service_pb2.ToolInfo) -> ToolInfo:
        return _copy(cls, message)


@dataclass(frozen=True)
class ServerInfo:
    """What GetServerInfo answers: the server's release and the API packages it serves."""

    #: The TaskService release the server was built from ("0.2.0"); compare with ``__version__``.
    version: str
    #: The API packages the server serves ("taskmanager.v1", ...).
    api_packages: tuple[str, ...]

    @classmethod
    def from_pb(cls, message: task_service_pb2.GetServerInfoResponse) -> ServerInfo:
        return cls(version=message.version, api_packages=tuple(message.api_packages))


@dataclass(frozen=True)
class RedirectTarget:
    """Where a finished task's result should be delivered (Execute's ``redirect``)."""

    channel_id: str
    #: A platform configured on the server (TASKSERVICE_PLATFORMS).
    platform: str
    #: 0: the platform's own limit.
    max_chars: int = 0

    def to_pb(self) -> task_service_pb2.RedirectTarget:
        return task_service_pb2.RedirectTarget(
            channel_id=self.channel_id, platform=self.platform, max_chars=self.max_chars
        )


__all__ = [
    "DeliveryState",
    "FailureReason",
    "InputRequest",
    "OutputChunk",
    "OutputRedirect",
    "Progress",
    "RedirectTarget",
    "Result",
    "ServerInfo",
    "Task",
    "TaskPage",
    "TaskStatus",
    "TaskUpdate",
    "ToolInfo",
    "UpdateKind",
    "enum_of",
]
