from taskmanager.v1 import task_pb2 as _task_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectRequest(_message.Message):
    __slots__ = ("register", "progress", "result", "pong", "input_request", "output")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    register: RegisterWorker
    progress: InvocationProgress
    result: InvocationResult
    pong: Pong
    input_request: InvocationInputRequest
    output: InvocationOutput
    def __init__(self, register: _Optional[_Union[RegisterWorker, _Mapping]] = ..., progress: _Optional[_Union[InvocationProgress, _Mapping]] = ..., result: _Optional[_Union[InvocationResult, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ..., input_request: _Optional[_Union[InvocationInputRequest, _Mapping]] = ..., output: _Optional[_Union[InvocationOutput, _Mapping]] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ("registered", "invocation", "cancellation", "ping", "input")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    INVOCATION_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    registered: WorkerRegistered
    invocation: Invocation
    cancellation: Cancellation
    ping: Ping
    input: InvocationInput
    def __init__(self, registered: _Optional[_Union[WorkerRegistered, _Mapping]] = ..., invocation: _Optional[_Union[Invocation, _Mapping]] = ..., cancellation: _Optional[_Union[Cancellation, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., input: _Optional[_Union[InvocationInput, _Mapping]] = ...) -> None: ...

class WorkerTool(_message.Message):
    __slots__ = ("name", "description", "parameters_json_schema", "no_background", "concurrency", "default_timeout_seconds", "hard_timeout_seconds", "input_timeout_seconds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NO_BACKGROUND_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HARD_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_json_schema: str
    no_background: bool
    concurrency: int
    default_timeout_seconds: float
    hard_timeout_seconds: float
    input_timeout_seconds: float
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_json_schema: _Optional[str] = ..., no_background: _Optional[bool] = ..., concurrency: _Optional[int] = ..., default_timeout_seconds: _Optional[float] = ..., hard_timeout_seconds: _Optional[float] = ..., input_timeout_seconds: _Optional[float] = ...) -> None: ...

class RegisterWorker(_message.Message):
    __slots__ = ("worker_name", "tools", "max_concurrency")
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    worker_name: str
    tools: _containers.RepeatedCompositeFieldContainer[WorkerTool]
    max_concurrency: int
    def __init__(self, worker_name: _Optional[str] = ..., tools: _Optional[_Iterable[_Union[WorkerTool, _Mapping]]] = ..., max_concurrency: _Optional[int] = ...) -> None: ...

class WorkerRegistered(_message.Message):
    __slots__ = ("worker_id", "ping_interval_seconds", "timeout_seconds")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PING_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    ping_interval_seconds: float
    timeout_seconds: float
    def __init__(self, worker_id: _Optional[str] = ..., ping_interval_seconds: _Optional[float] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class InvocationOrigin(_message.Message):
    __slots__ = ("user_id", "channel_id", "platform")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    channel_id: str
    platform: str
    def __init__(self, user_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class Invocation(_message.Message):
    __slots__ = ("task_id", "tool_name", "arguments_json", "origin", "hard_timeout_seconds", "traceparent", "tracestate")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    HARD_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    tool_name: str
    arguments_json: str
    origin: InvocationOrigin
    hard_timeout_seconds: float
    traceparent: str
    tracestate: str
    def __init__(self, task_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., arguments_json: _Optional[str] = ..., origin: _Optional[_Union[InvocationOrigin, _Mapping]] = ..., hard_timeout_seconds: _Optional[float] = ..., traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ...) -> None: ...

class InvocationProgress(_message.Message):
    __slots__ = ("task_id", "fraction", "message")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    fraction: float
    message: str
    def __init__(self, task_id: _Optional[str] = ..., fraction: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...

class InvocationOutput(_message.Message):
    __slots__ = ("task_id", "text")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    text: str
    def __init__(self, task_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class InvocationResult(_message.Message):
    __slots__ = ("task_id", "result", "error")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    result: str
    error: str
    def __init__(self, task_id: _Optional[str] = ..., result: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class Cancellation(_message.Message):
    __slots__ = ("task_id", "reason", "message")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    reason: _task_pb2.FailureReason
    message: str
    def __init__(self, task_id: _Optional[str] = ..., reason: _Optional[_Union[_task_pb2.FailureReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class Ping(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class InvocationInputRequest(_message.Message):
    __slots__ = ("task_id", "message", "schema_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    message: str
    schema_json: str
    def __init__(self, task_id: _Optional[str] = ..., message: _Optional[str] = ..., schema_json: _Optional[str] = ...) -> None: ...

class InvocationInput(_message.Message):
    __slots__ = ("task_id", "response_json", "error")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    response_json: str
    error: str
    def __init__(self, task_id: _Optional[str] = ..., response_json: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...
