"""Each RPC as a value: its request, whether it may be retried, how its answer is read.

Client and AsyncClient differ only in how they wait (threads or coroutines),
so everything else about a call is built here once: the request message from
Python arguments, the idempotency rule of retry.py, and the conversion of
the response into models.py types.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._proto import task_pb2, task_service_pb2 as pb
from .models import RedirectTarget, Result, ServerInfo, Task, TaskPage, TaskStatus, ToolInfo

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


def get_result(task_id: str, user_id: str) -> Call[Result]:
    return Call("GetResult", pb.GetResultRequest(task_id=task_id, user_id=user_id), Result.from_pb)


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


class AwaitPlan:
    """One wait for a task, possibly over several AwaitResult streams.

    A reconnect must not restart the caller's wait limit, so each stream is
    asked for what remains of it.
    """

    def __init__(
        self,
        task_id: str,
        user_id: str,
        timeout_seconds: float | None,
        heartbeat_seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task_id = task_id
        self.user_id = user_id
        self._heartbeat = heartbeat_seconds
        self._clock = clock
        self._ends = None if not timeout_seconds else clock() + float(timeout_seconds)

    def request(self) -> pb.AwaitResultRequest:
        """The request of the next stream."""
        request = pb.AwaitResultRequest(task_id=self.task_id, user_id=self.user_id)
        if self._ends is not None:
            request.timeout_seconds = max(_ALREADY_OVER_S, self._ends - self._clock())
        if self._heartbeat is not None:
            request.heartbeat_seconds = float(self._heartbeat)
        return request
