"""Translation between Python values and ToolWorkerService messages.

Kept apart from the workers so that the wire rules (how a return value or an
exception becomes an InvocationResult, how a FailureReason is named) are
written once and are the same for threads and coroutines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._proto import task_pb2, tool_worker_pb2
from .context import Origin
from .registry import Tool

ConnectRequest = tool_worker_pb2.ConnectRequest

_REASON_PREFIX = "FAILURE_REASON_"


def registration(worker_name: str, tools: Iterable[Tool], max_concurrency: int) -> ConnectRequest:
    """The RegisterWorker message, sent first on every connection."""
    declared = []
    for tool in tools:
        spec = tool_worker_pb2.WorkerTool(
            name=tool.name,
            description=tool.description,
            parameters_json_schema=tool.parameters_json,
            no_background=tool.no_background,
            concurrency=tool.concurrency,
        )
        # Optional fields stay unset (not 0) when the tool gives no limit.
        if tool.timeout is not None:
            spec.default_timeout_seconds = tool.timeout
        if tool.hard_timeout is not None:
            spec.hard_timeout_seconds = tool.hard_timeout
        if tool.input_timeout is not None:
            spec.input_timeout_seconds = tool.input_timeout
        declared.append(spec)
    return ConnectRequest(
        register=tool_worker_pb2.RegisterWorker(
            worker_name=worker_name, tools=declared, max_concurrency=max_concurrency
        )
    )


def encode_result(value: Any) -> str:
    """A handler's return value as result text: str as is, None as "", else JSON.

    Raises TypeError or ValueError for a value JSON cannot represent (NaN
    included: it would not be valid JSON for the caller).
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, allow_nan=False)


def error_text(exc: BaseException) -> str:
    """The error message of a failed invocation: str(exc), or the class name if that is empty."""
    return str(exc) or type(exc).__name__


def result_message(task_id: str, value: Any) -> ConnectRequest:
    """The InvocationResult for a returned value (an error result if it cannot be encoded)."""
    try:
        text = encode_result(value)
    except (TypeError, ValueError) as exc:
        return error_message(task_id, f"tool result is not JSON-serializable: {error_text(exc)}")
    return ConnectRequest(result=tool_worker_pb2.InvocationResult(task_id=task_id, result=text))


def error_message(task_id: str, error: BaseException | str) -> ConnectRequest:
    """The InvocationResult for a failure; the task ends FAILED with this message."""
    text = error if isinstance(error, str) else error_text(error)
    return ConnectRequest(result=tool_worker_pb2.InvocationResult(task_id=task_id, error=text))


def progress_message(task_id: str, fraction: float, message: str) -> ConnectRequest:
    return ConnectRequest(
        progress=tool_worker_pb2.InvocationProgress(task_id=task_id, fraction=fraction, message=message)
    )


def output_message(task_id: str, text: str) -> ConnectRequest:
    """The InvocationOutput of text a handler wrote (ctx.output)."""
    return ConnectRequest(output=tool_worker_pb2.InvocationOutput(task_id=task_id, text=text))


def pong_message(sequence: int) -> ConnectRequest:
    return ConnectRequest(pong=tool_worker_pb2.Pong(sequence=sequence))


def input_request_message(task_id: str, message: str, schema_json: str) -> ConnectRequest:
    """The InvocationInputRequest of a handler's question (ctx.request_input)."""
    return ConnectRequest(
        input_request=tool_worker_pb2.InvocationInputRequest(task_id=task_id, message=message, schema_json=schema_json)
    )


def encode_schema(schema: Mapping[str, Any]) -> str:
    """A question's answer schema as JSON text: TypeError unless a mapping, ValueError if JSON cannot hold it."""
    if not isinstance(schema, Mapping):
        raise TypeError(
            f"schema must be a JSON Schema object as a dict, like {{'type': 'object', 'properties': {{...}}}}, "
            f"not {type(schema).__name__}"
        )
    try:
        return json.dumps(dict(schema), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"schema is not JSON-serializable: {error_text(exc)}") from exc


def parse_answer(response_json: str) -> dict[str, Any]:
    """The answer object of an InvocationInput; ValueError unless it is a JSON object."""
    try:
        value = json.loads(response_json)
    except ValueError as exc:
        raise ValueError(f"the answer is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"the answer must be a JSON object, not {type(value).__name__}")
    return value


def parse_arguments(arguments_json: str) -> dict[str, Any]:
    """The arguments object; "" means {}. Raises ValueError unless it is a JSON object."""
    if not arguments_json:
        return {}
    try:
        value = json.loads(arguments_json)
    except ValueError as exc:
        raise ValueError(f"arguments are not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"arguments must be a JSON object, not {type(value).__name__}")
    return value


def reason_name(reason: int) -> str:
    """FailureReason as the short name handlers see: FAILURE_REASON_CANCELLED -> "CANCELLED"."""
    try:
        name = task_pb2.FailureReason.Name(reason)
    except ValueError:
        return f"UNKNOWN_{reason}"
    return name[len(_REASON_PREFIX):] if name.startswith(_REASON_PREFIX) else name


def origin_of(invocation: tool_worker_pb2.Invocation) -> Origin:
    return Origin(
        user_id=invocation.origin.user_id,
        channel_id=invocation.origin.channel_id,
        platform=invocation.origin.platform,
    )
