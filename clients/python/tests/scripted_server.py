"""A ToolWorkerService the tests script message by message, over real gRPC.

The library is tested against this instead of the TypeScript server so that
every server behaviour (an abort during registration, a dropped stream, a
server that goes silent, a ping while handlers are busy) can be produced on
demand and the worker's exact messages can be checked.

Each Connect stream becomes a Connection: the test receives what the worker
sent with recv() and sends with send()/accept()/abort()/end().
"""

from __future__ import annotations

import json
import queue
import threading
from concurrent import futures
from typing import Any

import grpc
from taskmanager.v1 import task_pb2, tool_worker_pb2 as pb, tool_worker_pb2_grpc

DEFAULT_WAIT_S = 5.0
SERVER_THREAD_PREFIX = "scripted-server"

_EOF = object()  # the worker half-closed, or the stream ended
_END = object()  # end the response stream with OK


class _Abort:
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details


class Connection:
    """One Connect stream as the server sees it."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self.context = context
        self.metadata = {key: value for key, value in context.invocation_metadata()}
        self._inbound: queue.Queue[Any] = queue.Queue()
        self._outbound: queue.Queue[Any] = queue.Queue()
        #: Set when the RPC has terminated (either side ended it).
        self.terminated = threading.Event()
        #: Set when the worker's request stream has ended.
        self.worker_done = threading.Event()

    # -- what the worker sent ------------------------------------------------------

    def recv(self, timeout: float = DEFAULT_WAIT_S) -> pb.ConnectRequest:
        """The next message from the worker; fails the test if none comes in time."""
        try:
            item = self._inbound.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the worker sent nothing within {timeout} s") from None
        if item is _EOF:
            self._inbound.put(_EOF)  # stays at the end for later calls
            raise AssertionError("the worker's stream ended")
        return item

    def recv_kind(self, kind: str, timeout: float = DEFAULT_WAIT_S) -> tuple[Any, list[pb.ConnectRequest]]:
        """Receive until a message of kind (register/progress/result/pong); returns it and what came before."""
        before: list[pb.ConnectRequest] = []
        while True:
            message = self.recv(timeout)
            if message.WhichOneof("message") == kind:
                return getattr(message, kind), before
            before.append(message)

    def result_for(self, task_id: str, timeout: float = DEFAULT_WAIT_S) -> tuple[pb.InvocationResult, list[pb.ConnectRequest]]:
        """Receive until the result of task_id; returns it and what came before it."""
        before: list[pb.ConnectRequest] = []
        while True:
            result, skipped = self.recv_kind("result", timeout)
            before.extend(skipped)
            if result.task_id == task_id:
                return result, before
            before.append(pb.ConnectRequest(result=result))

    def results(self, count: int, timeout: float = DEFAULT_WAIT_S) -> dict[str, pb.InvocationResult]:
        """The next count results by task id (whatever their order); other messages are skipped."""
        received: dict[str, pb.InvocationResult] = {}
        while len(received) < count:
            result, _ = self.recv_kind("result", timeout)
            assert result.task_id not in received, f"two results for {result.task_id}"
            received[result.task_id] = result
        return received

    def quiet_for(self, seconds: float) -> list[pb.ConnectRequest]:
        """Everything the worker sends within seconds (used to check that nothing comes)."""
        received = []
        while True:
            try:
                item = self._inbound.get(timeout=seconds)
            except queue.Empty:
                return received
            if item is _EOF:
                self._inbound.put(_EOF)
                return received
            received.append(item)

    def wait_worker_done(self, timeout: float = DEFAULT_WAIT_S) -> None:
        assert self.worker_done.wait(timeout), f"the worker's stream did not end within {timeout} s"

    # -- what the server sends -------------------------------------------------------

    def send(self, **fields: Any) -> None:
        """Send a ConnectResponse, e.g. send(ping=pb.Ping(sequence=1))."""
        self._outbound.put(pb.ConnectResponse(**fields))

    def accept(self, worker_id: str = "w-1", ping_interval: float = 0.0, timeout: float = 0.0) -> pb.RegisterWorker:
        """Receive the registration and answer it; returns the RegisterWorker."""
        first = self.recv()
        assert first.WhichOneof("message") == "register", f"first message was {first}"
        self.send(
            registered=pb.WorkerRegistered(
                worker_id=worker_id, ping_interval_seconds=ping_interval, timeout_seconds=timeout
            )
        )
        return first.register

    def invoke(
        self,
        task_id: str,
        tool_name: str,
        arguments: Any = None,
        *,
        origin: tuple[str, str, str] = ("u-1", "c-1", "test"),
        hard_timeout: float = 30.0,
        traceparent: str = "",
        tracestate: str = "",
    ) -> None:
        """Send an Invocation; arguments is a dict (sent as JSON) or raw JSON text."""
        text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
        user_id, channel_id, platform = origin
        self.send(
            invocation=pb.Invocation(
                task_id=task_id,
                tool_name=tool_name,
                arguments_json=text,
                origin=pb.InvocationOrigin(user_id=user_id, channel_id=channel_id, platform=platform),
                hard_timeout_seconds=hard_timeout,
                traceparent=traceparent,
                tracestate=tracestate,
            )
        )

    def cancel(self, task_id: str, reason: int = task_pb2.FAILURE_REASON_CANCELLED, message: str = "") -> None:
        self.send(cancellation=pb.Cancellation(task_id=task_id, reason=reason, message=message))

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        """End the stream with an error status."""
        self._outbound.put(_Abort(code, details))

    def end(self) -> None:
        """End the stream with OK (as a server shutting down would)."""
        self._outbound.put(_END)

    # -- servicer side ---------------------------------------------------------------

    def _read(self, requests: Any) -> None:
        try:
            for request in requests:
                self._inbound.put(request)
        except grpc.RpcError:
            pass
        except Exception:  # the stream died under the iterator
            pass
        finally:
            self._inbound.put(_EOF)
            self.worker_done.set()

    def _responses(self) -> Any:
        while True:
            try:
                item = self._outbound.get(timeout=0.1)
            except queue.Empty:
                if not self.context.is_active():
                    return
                continue
            if item is _END:
                return
            if isinstance(item, _Abort):
                self.context.abort(item.code, item.details)
            yield item

    def _terminated(self) -> None:
        self.terminated.set()
        self._outbound.put(_END)


class ScriptedServer(tool_worker_pb2_grpc.ToolWorkerServiceServicer):
    """A real gRPC server on 127.0.0.1 whose Connect streams the test drives."""

    def __init__(self, port: int = 0) -> None:
        self._connections: queue.Queue[Connection] = queue.Queue()
        self._lock = threading.Lock()
        self.connection_count = 0
        self._readers: list[threading.Thread] = []
        self._executor = futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix=SERVER_THREAD_PREFIX)
        self._server = grpc.server(self._executor)
        tool_worker_pb2_grpc.add_ToolWorkerServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> "ScriptedServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=0).wait()
        for reader in self._readers:
            reader.join(timeout=DEFAULT_WAIT_S)
        self._executor.shutdown(wait=True)

    def next_connection(self, timeout: float = DEFAULT_WAIT_S) -> Connection:
        try:
            return self._connections.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the worker did not connect within {timeout} s") from None

    def Connect(self, request_iterator: Any, context: grpc.ServicerContext) -> Any:
        connection = Connection(context)
        context.add_callback(connection._terminated)
        reader = threading.Thread(
            target=connection._read, args=(request_iterator,), name=f"{SERVER_THREAD_PREFIX}-reader", daemon=True
        )
        with self._lock:
            self.connection_count += 1
            self._readers.append(reader)
        reader.start()
        self._connections.put(connection)
        return connection._responses()
