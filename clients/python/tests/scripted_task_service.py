"""A TaskService the tests script call by call, over real gRPC.

The client's retry and reconnect rules are about what the server answers
(UNAVAILABLE twice, then an answer; a stream that breaks after its
snapshot), which the real server cannot be made to do on demand. Each RPC
here answers from its own queue of steps and records what it received.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from taskmanager.v1 import task_pb2, task_service_pb2 as pb, task_service_pb2_grpc


@dataclass(frozen=True)
class Abort:
    """A step that ends the call with this status (and error-reason trailer, when given)."""

    code: grpc.StatusCode
    details: str = "scripted failure"
    reason: str = ""


UNAVAILABLE = Abort(grpc.StatusCode.UNAVAILABLE, "scripted: try again")


@dataclass(frozen=True)
class Received:
    request: Any
    metadata: dict[str, str]


def task(task_id: str = "t-1", status: int = task_pb2.TASK_STATUS_RUNNING, **fields: Any) -> task_pb2.Task:
    return task_pb2.Task(task_id=task_id, tool_name="slow", status=status, **fields)


def update(kind: int, sequence: int, status: int = task_pb2.TASK_STATUS_RUNNING, text: str = "", **fields: Any):
    return pb.AwaitResultResponse(kind=kind, sequence=sequence, text=text, task=task(status=status, **fields))


class ScriptedTaskService(task_service_pb2_grpc.TaskServiceServicer):
    """script(method, *steps) queues answers: a response message or an Abort; for
    AwaitResult and ExecuteStream a step is a list of messages, possibly ending with an Abort.
    A call with nothing scripted fails FAILED_PRECONDITION ("nothing scripted")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[str, deque[Any]] = defaultdict(deque)
        self.received: dict[str, list[Received]] = defaultdict(list)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="scripted-tasks"))
        task_service_pb2_grpc.add_TaskServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> ScriptedTaskService:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=0).wait()

    def script(self, method: str, *steps: Any) -> None:
        with self._lock:
            self._steps[method].extend(steps)

    def attempts(self, method: str) -> int:
        with self._lock:
            return len(self.received[method])

    def _next(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        with self._lock:
            self.received[method].append(Received(request, dict(context.invocation_metadata())))
            steps = self._steps[method]
            return steps.popleft() if steps else Abort(grpc.StatusCode.FAILED_PRECONDITION, "nothing scripted")

    @staticmethod
    def _abort(step: Abort, context: grpc.ServicerContext) -> None:
        if step.reason:
            context.set_trailing_metadata((("error-reason", step.reason),))
        context.abort(step.code, step.details)

    def _unary(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        step = self._next(method, request, context)
        if isinstance(step, Abort):
            self._abort(step, context)
        return step

    def Execute(self, request, context):
        return self._unary("Execute", request, context)

    def GetResult(self, request, context):
        return self._unary("GetResult", request, context)

    def ListTasks(self, request, context):
        return self._unary("ListTasks", request, context)

    def SetOutputRedirect(self, request, context):
        return self._unary("SetOutputRedirect", request, context)

    def CancelTask(self, request, context):
        return self._unary("CancelTask", request, context)

    def ListTools(self, request, context):
        return self._unary("ListTools", request, context)

    def GetServerInfo(self, request, context):
        return self._unary("GetServerInfo", request, context)

    def ProvideInput(self, request, context):
        return self._unary("ProvideInput", request, context)

    def AwaitResult(self, request, context):
        yield from self._stream("AwaitResult", request, context)

    def ExecuteStream(self, request, context):
        yield from self._stream("ExecuteStream", request, context)

    def _stream(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        step = self._next(method, request, context)
        for item in [step] if isinstance(step, Abort) else step:
            if isinstance(item, Abort):
                self._abort(item, context)
            yield item
