from taskmanager.v1 import task_pb2 as _task_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpdateKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPDATE_KIND_UNSPECIFIED: _ClassVar[UpdateKind]
    UPDATE_KIND_SNAPSHOT: _ClassVar[UpdateKind]
    UPDATE_KIND_PROGRESS: _ClassVar[UpdateKind]
    UPDATE_KIND_HEARTBEAT: _ClassVar[UpdateKind]
    UPDATE_KIND_TERMINAL: _ClassVar[UpdateKind]
    UPDATE_KIND_WAIT_TIMED_OUT: _ClassVar[UpdateKind]
    UPDATE_KIND_INPUT: _ClassVar[UpdateKind]
    UPDATE_KIND_OUTPUT: _ClassVar[UpdateKind]
UPDATE_KIND_UNSPECIFIED: UpdateKind
UPDATE_KIND_SNAPSHOT: UpdateKind
UPDATE_KIND_PROGRESS: UpdateKind
UPDATE_KIND_HEARTBEAT: UpdateKind
UPDATE_KIND_TERMINAL: UpdateKind
UPDATE_KIND_WAIT_TIMED_OUT: UpdateKind
UPDATE_KIND_INPUT: UpdateKind
UPDATE_KIND_OUTPUT: UpdateKind

class RedirectTarget(_message.Message):
    __slots__ = ("channel_id", "platform", "max_chars")
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    channel_id: str
    platform: str
    max_chars: int
    def __init__(self, channel_id: _Optional[str] = ..., platform: _Optional[str] = ..., max_chars: _Optional[int] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("tool_name", "arguments_json", "user_id", "channel_id", "platform", "timeout_seconds", "request_id", "redirect")
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_FIELD_NUMBER: _ClassVar[int]
    tool_name: str
    arguments_json: str
    user_id: str
    channel_id: str
    platform: str
    timeout_seconds: float
    request_id: str
    redirect: RedirectTarget
    def __init__(self, tool_name: _Optional[str] = ..., arguments_json: _Optional[str] = ..., user_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., platform: _Optional[str] = ..., timeout_seconds: _Optional[float] = ..., request_id: _Optional[str] = ..., redirect: _Optional[_Union[RedirectTarget, _Mapping]] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("backgrounded", "task", "text")
    BACKGROUNDED_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    backgrounded: bool
    task: _task_pb2.Task
    text: str
    def __init__(self, backgrounded: _Optional[bool] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class GetResultRequest(_message.Message):
    __slots__ = ("task_id", "user_id", "output_offset")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    user_id: str
    output_offset: int
    def __init__(self, task_id: _Optional[str] = ..., user_id: _Optional[str] = ..., output_offset: _Optional[int] = ...) -> None: ...

class GetResultResponse(_message.Message):
    __slots__ = ("task", "text", "output")
    TASK_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    text: str
    output: _task_pb2.OutputChunk
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., text: _Optional[str] = ..., output: _Optional[_Union[_task_pb2.OutputChunk, _Mapping]] = ...) -> None: ...

class AwaitResultRequest(_message.Message):
    __slots__ = ("task_id", "user_id", "timeout_seconds", "heartbeat_seconds", "after_version", "output_offset")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    AFTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    user_id: str
    timeout_seconds: float
    heartbeat_seconds: float
    after_version: int
    output_offset: int
    def __init__(self, task_id: _Optional[str] = ..., user_id: _Optional[str] = ..., timeout_seconds: _Optional[float] = ..., heartbeat_seconds: _Optional[float] = ..., after_version: _Optional[int] = ..., output_offset: _Optional[int] = ...) -> None: ...

class AwaitResultResponse(_message.Message):
    __slots__ = ("task", "text", "sequence", "wait_timed_out", "kind", "output")
    TASK_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    text: str
    sequence: int
    wait_timed_out: bool
    kind: UpdateKind
    output: _task_pb2.OutputChunk
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., text: _Optional[str] = ..., sequence: _Optional[int] = ..., wait_timed_out: _Optional[bool] = ..., kind: _Optional[_Union[UpdateKind, str]] = ..., output: _Optional[_Union[_task_pb2.OutputChunk, _Mapping]] = ...) -> None: ...

class ExecuteStreamResponse(_message.Message):
    __slots__ = ("output", "progress", "answer", "update")
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    output: _task_pb2.OutputChunk
    progress: _task_pb2.Progress
    answer: ExecuteResponse
    update: AwaitResultResponse
    def __init__(self, output: _Optional[_Union[_task_pb2.OutputChunk, _Mapping]] = ..., progress: _Optional[_Union[_task_pb2.Progress, _Mapping]] = ..., answer: _Optional[_Union[ExecuteResponse, _Mapping]] = ..., update: _Optional[_Union[AwaitResultResponse, _Mapping]] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("user_id", "status", "tool_name", "page_size", "page_token")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    status: _task_pb2.TaskStatus
    tool_name: str
    page_size: int
    page_token: str
    def __init__(self, user_id: _Optional[str] = ..., status: _Optional[_Union[_task_pb2.TaskStatus, str]] = ..., tool_name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token", "text")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_task_pb2.Task]
    next_page_token: str
    text: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[_task_pb2.Task, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class SetOutputRedirectRequest(_message.Message):
    __slots__ = ("task_id", "user_id", "channel_id", "platform", "max_chars")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    user_id: str
    channel_id: str
    platform: str
    max_chars: int
    def __init__(self, task_id: _Optional[str] = ..., user_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., platform: _Optional[str] = ..., max_chars: _Optional[int] = ...) -> None: ...

class SetOutputRedirectResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class CancelTaskRequest(_message.Message):
    __slots__ = ("task_id", "user_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    user_id: str
    def __init__(self, task_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class CancelTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class ProvideInputRequest(_message.Message):
    __slots__ = ("task_id", "user_id", "input_request_id", "response_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    user_id: str
    input_request_id: str
    response_json: str
    def __init__(self, task_id: _Optional[str] = ..., user_id: _Optional[str] = ..., input_request_id: _Optional[str] = ..., response_json: _Optional[str] = ...) -> None: ...

class ProvideInputResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class ListToolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ToolInfo(_message.Message):
    __slots__ = ("name", "description", "parameters_json_schema", "no_background", "default_timeout_seconds", "hard_timeout_seconds", "source", "workers", "unavailable_reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NO_BACKGROUND_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HARD_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_json_schema: str
    no_background: bool
    default_timeout_seconds: float
    hard_timeout_seconds: float
    source: str
    workers: int
    unavailable_reason: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_json_schema: _Optional[str] = ..., no_background: _Optional[bool] = ..., default_timeout_seconds: _Optional[float] = ..., hard_timeout_seconds: _Optional[float] = ..., source: _Optional[str] = ..., workers: _Optional[int] = ..., unavailable_reason: _Optional[str] = ...) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools",)
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[ToolInfo]
    def __init__(self, tools: _Optional[_Iterable[_Union[ToolInfo, _Mapping]]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("version", "api_packages")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    API_PACKAGES_FIELD_NUMBER: _ClassVar[int]
    version: str
    api_packages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version: _Optional[str] = ..., api_packages: _Optional[_Iterable[str]] = ...) -> None: ...
