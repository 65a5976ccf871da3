"""Streams that lose nothing, end to end: output and resumed streams against the real TaskService.

One server of this checkout for the module (real_server.py), with a task's
output limit raised to 3 MiB so that reading it back takes several GetResult
calls. A Python worker's tool writes output that comes back through
AwaitResult and GetResult; the server's ``ticker`` runs through
execute_stream; and a TCP proxy between client and server (tcp_proxy.py)
severs every connection in the middle of a stream, after which the client
must have seen every tick, every output byte and every status change
exactly once, in order.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from harness import HARNESSES, WAIT_S, wait_until
from real_server import TaskServiceProcess, unavailable_reason
from tcp_proxy import TcpProxy

import taskservice_client as tc

MIB = 1024 * 1024
OUTPUT_LIMIT = 3 * MIB
#: Every scenario ends within this (or the test fails).
SCENARIO_LIMIT_S = 60.0
RETRY = tc.RetryPolicy(max_attempts=7, initial_backoff=0.05, max_backoff=0.5, max_elapsed=20.0)


@pytest.fixture(scope="module")
def taskservice():
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"the real TaskService cannot run here: {reason}")
    try:
        srv = TaskServiceProcess(TASKSERVICE_MAX_OUTPUT_BYTES=str(OUTPUT_LIMIT)).start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield srv
    srv.stop()


@pytest.fixture
def proxy(taskservice):
    relay = TcpProxy(taskservice.address).start()
    yield relay
    relay.stop()


@pytest.fixture
def user_id():
    return f"py-{uuid.uuid4().hex}"


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def bounded(scenario: Callable[[], Any], limit: float = SCENARIO_LIMIT_S) -> Any:
    """scenario() on a thread of its own: its value, its exception, or a failure after limit seconds."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = scenario()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="test-scenario", daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"the scenario did not end within {limit} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def run_async(scenario: Any, limit: float = SCENARIO_LIMIT_S) -> Any:
    return bounded(lambda: asyncio.run(asyncio.wait_for(scenario, limit)), limit + 5)


class Seen:
    """What an application saw of one run: events in order, checked for losses and repeats."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def add(self, event: Any) -> Any:
        self.events.append(event)
        return event

    @property
    def chunks(self) -> list[tc.OutputChunk]:
        return [e for e in self.events if isinstance(e, tc.OutputChunk)]

    @property
    def output(self) -> str:
        return "".join(chunk.text for chunk in self.chunks)

    @property
    def updates(self) -> list[tc.TaskUpdate]:
        return [e for e in self.events if isinstance(e, tc.TaskUpdate)]

    def ticks(self) -> list[str]:
        return self.output.splitlines()

    def check_output_is_contiguous(self) -> None:
        """Every byte once, in order: each chunk starts where the one before ended, from 0."""
        at = 0
        for chunk in self.chunks:
            assert chunk.offset == at, f"a chunk at {chunk.offset} while {at} was next: {self.chunks}"
            assert chunk.text
            at = chunk.next_offset

    def check_states_are_new(self) -> None:
        """No state twice: the versions of the states seen only grow, and one last update ends it all."""
        states = [u for u in self.updates if u.kind.carries_state]
        versions = [u.task.version for u in states]
        assert versions == sorted(set(versions)), f"a state seen twice or out of order: {versions}"
        assert all(v > 0 for v in versions)
        assert [u.last for u in self.updates].count(True) == 1 and self.updates[-1].last
        statuses = [u.task.status for u in states]
        assert statuses.count(tc.TaskStatus.COMPLETED) == 1


def ticks(count: int) -> list[str]:
    return [f"tick {i}" for i in range(1, count + 1)]


# -- a Python worker's output ---------------------------------------------------------------------


def scribe_tool(kind: str, probe, name: str, pieces: list[str], hold_at: int):
    """Writes pieces; before piece hold_at it waits for a permit (so a caller is backgrounded and
    watching by then); the last piece is written just before it returns."""

    if kind == "sync":

        def scribe(args, ctx):
            for index, piece in enumerate(pieces):
                if index == hold_at:
                    assert probe.permits.acquire(timeout=WAIT_S)
                ctx.output(piece)
            return "scribed"

    else:

        async def scribe(args, ctx):
            for index, piece in enumerate(pieces):
                if index == hold_at:
                    while not probe.permits.acquire(blocking=False):
                        await asyncio.sleep(0.005)
                ctx.output(piece)
            return "scribed"

    return lambda worker: worker.tool(name=name)(scribe)


@pytest.fixture
def serve(taskservice, probe):
    """serve(kind, define) -> a worker of that kind on the real server, once the server lists its tools."""
    started = []

    def start(kind, define):
        harness = HARNESSES[kind](taskservice.address, probe, tools=False, name=f"streams-{kind}")
        define(harness.worker)
        started.append(harness.start())
        names = [tool.name for tool in harness.worker.tools]
        with tc.Client(taskservice.address) as client:
            wait_until(
                lambda: {t.name: t.workers for t in client.list_tools() if t.name in names} == dict.fromkeys(names, 1),
                what=f"the server lists {names}",
            )
        return harness

    yield start
    probe.gate.set()
    for harness in started:
        harness.stop()


def test_a_worker_tool_s_output_comes_back_through_await_result_and_get_result(
    kind, serve, probe, clients, taskservice, user_id
):
    name = unique("scribe")
    pieces = [f"line {i} ✓\n" for i in range(1, 21)] + ["é" * (1200 * 1024), "🎉 " * 1000, "end\n"]
    expected = "".join(pieces)
    size = len(expected.encode())
    assert 2 * MIB < size < OUTPUT_LIMIT  # several GetResult reads, not truncated
    serve(kind, scribe_tool(kind, probe, name, pieces, hold_at=10))
    client = clients(taskservice.address)

    handle = client.execute(name, user_id=user_id, budget_seconds=0.2)
    assert handle.backgrounded
    probe.permits.release()
    seen = Seen()
    for update in handle.await_result(output=True, timeout_seconds=SCENARIO_LIMIT_S):
        seen.add(update.output if update.output is not None else update)

    assert seen.output == expected
    seen.check_output_is_contiguous()
    seen.check_states_are_new()
    last = seen.updates[-1]
    assert (last.kind, last.text) == (tc.UpdateKind.TERMINAL, "scribed")
    assert (last.task.output_bytes, last.task.output_truncated) == (size, False)
    # All of it again with GetResult (1 MiB a call), and from an offset.
    assert handle.read_output() == tc.OutputChunk(0, expected)
    at = len("".join(pieces[:20]).encode())
    assert client.read_output(handle.task_id, user_id, offset=at) == tc.OutputChunk(at, expected[len("".join(pieces[:20])):])
    first = client.get_result(handle.task_id, user_id, output_offset=0)
    assert first.output.offset == 0 and expected.startswith(first.output.text) and len(first.output.text.encode()) <= MIB
    assert first.task.output_bytes == size


def test_output_past_the_limit_is_truncated_with_a_marker(serve, probe, taskservice, user_id):
    name = unique("flood")
    pieces = ["x" * MIB] * 4
    serve("sync", scribe_tool("sync", probe, name, pieces, hold_at=0))
    with tc.Client(taskservice.address) as client:
        handle = client.execute(name, user_id=user_id, budget_seconds=0.2)
        assert handle.backgrounded
        probe.permits.release()
        result = handle.wait(timeout_seconds=SCENARIO_LIMIT_S)
        output = handle.read_output()

    assert result.text == "scribed" and result.task.output_truncated
    assert len(output.text.encode()) == result.task.output_bytes <= OUTPUT_LIMIT
    assert output.text.startswith("x" * 1000)
    assert "TASKSERVICE_MAX_OUTPUT_BYTES" in output.text.splitlines()[-1]


# -- ticker through execute_stream -------------------------------------------------------------------


def test_execute_stream_runs_ticker_inline(clients, taskservice, user_id):
    client = clients(taskservice.address)
    seen = Seen()
    for event in client.execute_stream("ticker", {"count": 3, "interval_seconds": 0.02}, user_id=user_id, budget_seconds=20):
        seen.add(event)

    answer = seen.events[-1]
    assert isinstance(answer, tc.Result) and answer.text == "ticked 3" and answer.completed
    assert seen.ticks() == ticks(3)
    seen.check_output_is_contiguous()
    progress = [e.fraction for e in seen.events if isinstance(e, tc.Progress)]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert seen.updates == []


def test_execute_stream_follows_a_backgrounded_ticker_to_its_end(clients, taskservice, user_id):
    client = clients(taskservice.address)
    seen = Seen()
    for event in client.execute_stream("ticker", {"count": 8, "interval_seconds": 0.05}, user_id=user_id, budget_seconds=0.12):
        seen.add(event)

    handles = [e for e in seen.events if getattr(e, "backgrounded", False)]
    assert len(handles) == 1 and handles[0].task.running and handles[0].user_id == user_id
    assert seen.ticks() == ticks(8)
    seen.check_output_is_contiguous()
    seen.check_states_are_new()
    last = seen.updates[-1]
    assert (last.kind, last.text, last.task.result) == (tc.UpdateKind.TERMINAL, "ticked 8", "ticked 8")
    assert last.task.output_bytes == len(seen.output.encode())
    assert not any(isinstance(e, tc.TaskUpdate) and e.output is not None for e in seen.events)


# -- severed connections ------------------------------------------------------------------------------

#: The connections are severed once the application has seen this many ticks (each time).
SEVER_AT = (6, 14, 22)
COUNT = 30


class Severer:
    """Records what the application sees and severs the proxy's connections at SEVER_AT ticks."""

    def __init__(self, proxy: TcpProxy, seen: Seen) -> None:
        self._proxy = proxy
        self._seen = seen
        self._pending = list(SEVER_AT)

    def __call__(self, event: Any) -> None:
        self._seen.add(event)
        if isinstance(event, tc.OutputChunk) and self._pending and len(self._seen.ticks()) >= self._pending[0]:
            self._pending.pop(0)
            assert self._proxy.sever() > 0


def record_await_requests(client: tc.Client) -> list[Any]:
    """The AwaitResult requests the blocking client sends (its stub's method, wrapped)."""
    sent: list[Any] = []
    method = client._stub.AwaitResult

    def recording(request, **kwargs):
        sent.append(request)
        return method(request, **kwargs)

    client._stub.AwaitResult = recording
    return sent


def check_resumed_ticker(seen: Seen, proxy: TcpProxy) -> None:
    assert seen.ticks() == ticks(COUNT), seen.ticks()
    seen.check_output_is_contiguous()
    seen.check_states_are_new()
    last = seen.updates[-1]
    assert (last.kind, last.text) == (tc.UpdateKind.TERMINAL, f"ticked {COUNT}")
    assert proxy.severed == len(SEVER_AT) and proxy.accepted > len(SEVER_AT)


def test_a_severed_execute_stream_resumes_through_await_result_and_loses_nothing(proxy, user_id):
    seen = Seen()

    def scenario() -> list[Any]:
        with tc.Client(proxy.address, retry=RETRY) as client:
            sent = record_await_requests(client)
            arguments = {"count": COUNT, "interval_seconds": 0.04}
            see = Severer(proxy, seen)
            for event in client.execute_stream("ticker", arguments, user_id=user_id, budget_seconds=0.15):
                see(event)
            return sent

    sent = bounded(scenario)

    check_resumed_ticker(seen, proxy)
    handle = next(e for e in seen.events if isinstance(e, tc.TaskHandle))
    inline = Seen()
    inline.events = seen.events[: seen.events.index(handle)]
    assert len(inline.ticks()) < SEVER_AT[0]  # backgrounded before the first cut: each one is resumed
    # Each resume asked for what came after the last state and the last byte it had seen.
    assert len(sent) >= len(SEVER_AT)
    for request in sent:
        assert request.task_id == handle.task_id and request.user_id == user_id
        assert request.after_version > 0 and request.HasField("output_offset")
    assert [r.output_offset for r in sent] == sorted(r.output_offset for r in sent)


def test_a_severed_async_execute_stream_resumes_and_loses_nothing(proxy, user_id):
    seen = Seen()

    async def scenario() -> None:
        async with tc.AsyncClient(proxy.address, retry=RETRY) as client:
            arguments = {"count": COUNT, "interval_seconds": 0.04}
            see = Severer(proxy, seen)
            async for event in client.execute_stream("ticker", arguments, user_id=user_id, budget_seconds=0.15):
                # The proxy's own loop does the cutting; this one only waits for it.
                await asyncio.to_thread(see, event)

    run_async(scenario())

    check_resumed_ticker(seen, proxy)
    assert any(isinstance(e, tc.AsyncTaskHandle) for e in seen.events)


@pytest.mark.parametrize("client_kind", ["sync", "async"])
def test_a_severed_await_result_with_output_resumes_and_loses_nothing(taskservice, proxy, user_id, client_kind):
    with tc.Client(taskservice.address) as direct:
        handle = direct.execute("ticker", {"count": COUNT, "interval_seconds": 0.04}, user_id=user_id, budget_seconds=0.01)
    assert handle.backgrounded
    seen = Seen()
    severer = Severer(proxy, seen)

    def see(update: tc.TaskUpdate) -> None:
        severer(update.output if update.output is not None else update)

    if client_kind == "sync":

        def scenario() -> None:
            with tc.Client(proxy.address, retry=RETRY) as client:
                for update in client.await_result(handle.task_id, user_id, output=True):
                    see(update)

        bounded(scenario)
    else:

        async def scenario_async() -> None:
            async with tc.AsyncClient(proxy.address, retry=RETRY) as client:
                async for update in client.await_result(handle.task_id, user_id, output=True):
                    await asyncio.to_thread(see, update)

        run_async(scenario_async())

    check_resumed_ticker(seen, proxy)
    assert seen.updates[0].kind is tc.UpdateKind.SNAPSHOT
    assert [u.kind for u in seen.updates].count(tc.UpdateKind.SNAPSHOT) == 1  # resumes send no snapshot again


def test_a_severed_execute_stream_with_a_request_id_is_issued_again_before_its_answer(proxy, user_id):
    """Inline all along (a long budget): the drop comes before the answer; the call is tracked, so
    it is issued again, and the same task answers with its output from 0, of which only the new part
    reaches the application."""
    seen = Seen()
    request_id = f"r-{uuid.uuid4().hex}"

    def scenario() -> None:
        with tc.Client(proxy.address, retry=RETRY) as client:
            arguments = {"count": COUNT, "interval_seconds": 0.04}
            see = Severer(proxy, seen)
            for event in client.execute_stream("ticker", arguments, user_id=user_id, budget_seconds=30, request_id=request_id):
                see(event)

    bounded(scenario)

    assert seen.ticks() == ticks(COUNT)
    seen.check_output_is_contiguous()
    answer = seen.events[-1]
    assert isinstance(answer, tc.Result) and answer.text == f"ticked {COUNT}"
    assert answer.task.task_id and answer.task.request_id == request_id  # tracked: the same task throughout
    assert seen.updates == []
    assert proxy.severed == len(SEVER_AT) and proxy.accepted > len(SEVER_AT)


def test_a_severed_execute_stream_without_a_request_id_fails_before_its_answer(proxy, user_id):
    seen = Seen()

    def scenario() -> None:
        with tc.Client(proxy.address, retry=RETRY) as client:
            arguments = {"count": COUNT, "interval_seconds": 0.04}
            see = Severer(proxy, seen)
            for event in client.execute_stream("ticker", arguments, user_id=user_id, budget_seconds=30):
                see(event)

    with pytest.raises(tc.Unavailable):
        bounded(scenario)
    # What came before the cut (a message or two may have been on their way), and nothing after.
    assert SEVER_AT[0] <= len(seen.ticks()) < COUNT and seen.ticks() == ticks(len(seen.ticks()))
    assert not any(isinstance(e, (tc.Result, tc.TaskHandle)) for e in seen.events)
    assert proxy.severed == 1
