import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_RUNNING: _ClassVar[TaskStatus]
    TASK_STATUS_COMPLETED: _ClassVar[TaskStatus]
    TASK_STATUS_FAILED: _ClassVar[TaskStatus]
    TASK_STATUS_INPUT_REQUIRED: _ClassVar[TaskStatus]

class FailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILURE_REASON_UNSPECIFIED: _ClassVar[FailureReason]
    FAILURE_REASON_TOOL_ERROR: _ClassVar[FailureReason]
    FAILURE_REASON_CANCELLED: _ClassVar[FailureReason]
    FAILURE_REASON_HARD_TIMEOUT: _ClassVar[FailureReason]
    FAILURE_REASON_WORKER_LOST: _ClassVar[FailureReason]
    FAILURE_REASON_SHUTDOWN: _ClassVar[FailureReason]
    FAILURE_REASON_INPUT_TIMEOUT: _ClassVar[FailureReason]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_PENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERED: _ClassVar[DeliveryState]
    DELIVERY_STATE_FAILED: _ClassVar[DeliveryState]
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_RUNNING: TaskStatus
TASK_STATUS_COMPLETED: TaskStatus
TASK_STATUS_FAILED: TaskStatus
TASK_STATUS_INPUT_REQUIRED: TaskStatus
FAILURE_REASON_UNSPECIFIED: FailureReason
FAILURE_REASON_TOOL_ERROR: FailureReason
FAILURE_REASON_CANCELLED: FailureReason
FAILURE_REASON_HARD_TIMEOUT: FailureReason
FAILURE_REASON_WORKER_LOST: FailureReason
FAILURE_REASON_SHUTDOWN: FailureReason
FAILURE_REASON_INPUT_TIMEOUT: FailureReason
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_PENDING: DeliveryState
DELIVERY_STATE_DELIVERING: DeliveryState
DELIVERY_STATE_DELIVERED: DeliveryState
DELIVERY_STATE_FAILED: DeliveryState

class Progress(_message.Message):
    __slots__ = ("fraction", "message", "updated_at")
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    message: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, fraction: _Optional[float] = ..., message: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OutputRedirect(_message.Message):
    __slots__ = ("channel_id", "platform", "max_chars", "delivery_state", "attempts", "last_error", "delivered_at")
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    channel_id: str
    platform: str
    max_chars: int
    delivery_state: DeliveryState
    attempts: int
    last_error: str
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, channel_id: _Optional[str] = ..., platform: _Optional[str] = ..., max_chars: _Optional[int] = ..., delivery_state: _Optional[_Union[DeliveryState, str]] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InputRequest(_message.Message):
    __slots__ = ("id", "message", "schema_json", "requested_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: str
    schema_json: str
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., message: _Optional[str] = ..., schema_json: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "tool_name", "status", "failure_reason", "created_at", "updated_at", "finished_at", "result", "error", "user_id", "channel_id", "platform", "progress", "redirect", "request_id", "input_request", "version", "output_bytes", "output_truncated")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_BYTES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    tool_name: str
    status: TaskStatus
    failure_reason: FailureReason
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    result: str
    error: str
    user_id: str
    channel_id: str
    platform: str
    progress: Progress
    redirect: OutputRedirect
    request_id: str
    input_request: InputRequest
    version: int
    output_bytes: int
    output_truncated: bool
    def __init__(self, task_id: _Optional[str] = ..., tool_name: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., failure_reason: _Optional[_Union[FailureReason, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[str] = ..., error: _Optional[str] = ..., user_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., platform: _Optional[str] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., redirect: _Optional[_Union[OutputRedirect, _Mapping]] = ..., request_id: _Optional[str] = ..., input_request: _Optional[_Union[InputRequest, _Mapping]] = ..., version: _Optional[int] = ..., output_bytes: _Optional[int] = ..., output_truncated: _Optional[bool] = ...) -> None: ...

class OutputChunk(_message.Message):
    __slots__ = ("offset", "text")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    offset: int
    text: str
    def __init__(self, offset: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...
