"""Streams that lose nothing, the client's side: output, versions, resumes and ExecuteStream.

Its parts on their own (OutputCursor, AwaitPlan, ExecuteFlow), then both
clients against a scripted TaskService whose streams break where each test
says. What the real server does is in test_streams_real.py.
"""

from __future__ import annotations

import grpc
import pytest
from scripted_task_service import UNAVAILABLE, Abort, task, update
from taskmanager.v1 import task_pb2, task_service_pb2 as pb

import taskservice_client as tc
from taskservice_client._calls import AwaitPlan, ExecuteFlow, OutputCursor, StreamBroken
from taskservice_client.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
SNAPSHOT, PROGRESS, HEARTBEAT, TERMINAL, INPUT, OUTPUT = (
    pb.UPDATE_KIND_SNAPSHOT,
    pb.UPDATE_KIND_PROGRESS,
    pb.UPDATE_KIND_HEARTBEAT,
    pb.UPDATE_KIND_TERMINAL,
    pb.UPDATE_KIND_INPUT,
    pb.UPDATE_KIND_OUTPUT,
)
RUNNING, COMPLETED, INPUT_REQUIRED = (
    task_pb2.TASK_STATUS_RUNNING,
    task_pb2.TASK_STATUS_COMPLETED,
    task_pb2.TASK_STATUS_INPUT_REQUIRED,
)


def state(kind, sequence, version, status=RUNNING, **fields):
    return update(kind, sequence, status=status, version=version, **fields)


def out(sequence, offset, text, version=0, status=RUNNING):
    """An OUTPUT message; its task is the last state sent (version)."""
    return pb.AwaitResultResponse(
        kind=OUTPUT,
        sequence=sequence,
        task=task(status=status, version=version),
        output=task_pb2.OutputChunk(offset=offset, text=text),
    )


def described(updates):
    """(kind name, version) of states, ("OUTPUT", offset, text) of output."""
    return [
        ("OUTPUT", u.output.offset, u.output.text) if u.output is not None else (u.kind.name, u.task.version)
        for u in updates
    ]


# -- models ---------------------------------------------------------------------------------


def test_the_task_carries_its_version_and_output_size_and_updates_their_output():
    value = tc.Task.from_pb(task(version=7, output_bytes=1234, output_truncated=True))
    assert (value.version, value.output_bytes, value.output_truncated) == (7, 1234, True)
    assert (tc.Task.from_pb(task()).version, tc.Task.from_pb(task()).output_bytes) == (0, 0)

    chunk = tc.TaskUpdate.from_pb(out(3, 10, "ünï ✓"))
    assert chunk.kind is tc.UpdateKind.OUTPUT and not chunk.last
    assert chunk.output == tc.OutputChunk(10, "ünï ✓")
    assert chunk.output.next_offset == 10 + len("ünï ✓".encode())
    assert tc.TaskUpdate.from_pb(update(PROGRESS, 1)).output is None

    read = tc.Result.from_pb(
        pb.GetResultResponse(task=task(), text="{}", output=task_pb2.OutputChunk(offset=4, text="abc"))
    )
    assert read.output == tc.OutputChunk(4, "abc")
    assert tc.Result.from_pb(pb.GetResultResponse(task=task())).output is None
    assert tc.Result.from_pb(pb.ExecuteResponse(task=task())).output is None  # no such field there


def test_only_states_carry_state():
    assert [kind.name for kind in tc.UpdateKind if kind.carries_state] == [
        "SNAPSHOT",
        "PROGRESS",
        "TERMINAL",
        "WAIT_TIMED_OUT",
        "INPUT",
    ]


# -- OutputCursor ------------------------------------------------------------------------------


def test_the_output_cursor_hands_on_each_byte_once():
    cursor = OutputCursor(0)
    assert cursor.take(0, "ab") == tc.OutputChunk(0, "ab")
    assert cursor.take(0, "ab") is None  # all seen
    assert cursor.take(1, "bcd") == tc.OutputChunk(2, "cd")  # the part seen is cut off
    assert cursor.take(4, "") is None
    assert cursor.offset == 4
    assert cursor.take(3, "d✓e") == tc.OutputChunk(4, "✓e")
    assert cursor.offset == 8
    # Cut inside a character: start at the next one (a server's offsets never do that).
    assert OutputCursor(5).take(3, "d✓e") == tc.OutputChunk(7, "e")
    with pytest.raises(StreamBroken) as gap:
        cursor.take(9, "x")
    assert gap.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "byte 9" in gap.value.details() and "byte 8" in gap.value.details()
    assert cursor.offset == 8
    with pytest.raises(ValueError):
        OutputCursor(-1)
    with pytest.raises(TypeError):
        OutputCursor(True)


# -- AwaitPlan -----------------------------------------------------------------------------------


def accepted(plan, *messages):
    return [plan.accept(message) for message in messages]


def test_a_plan_drops_states_seen_and_takes_versions_only_from_states():
    plan = AwaitPlan("t-1", "u", None, None, output_offset=0)
    assert plan.request() == pb.AwaitResultRequest(task_id="t-1", user_id="u", output_offset=0)

    results = accepted(
        plan,
        state(SNAPSHOT, 1, 3),
        out(2, 0, "ab", version=9),  # an OUTPUT's task may be newer: it sets no version
        state(HEARTBEAT, 3, 3),
        state(PROGRESS, 4, 3),  # not newer: dropped
        state(PROGRESS, 5, 4),
    )

    assert [(u.kind.name if u else None, new) for u, new in results] == [
        ("SNAPSHOT", True),
        ("OUTPUT", True),
        ("HEARTBEAT", False),
        (None, False),
        ("PROGRESS", True),
    ]
    assert (plan.version, plan.output.offset) == (4, 2)
    assert plan.request().after_version == 4 and plan.request().output_offset == 2


def test_a_resumed_snapshot_becomes_the_change_one_stream_would_have_sent_and_the_last_update_always_comes():
    plan = AwaitPlan("t-1", "", None, None)
    plan.accept(state(SNAPSHOT, 1, 2))
    [(entered, _)] = accepted(plan, state(SNAPSHOT, 1, 5, status=INPUT_REQUIRED))
    [(moved, _)] = accepted(plan, state(SNAPSHOT, 1, 6, status=INPUT_REQUIRED))
    [(left, _)] = accepted(plan, state(SNAPSHOT, 1, 8))
    [(terminal, new)] = accepted(plan, state(TERMINAL, 1, 8, status=COMPLETED))
    assert [u.kind for u in (entered, moved, left)] == [tc.UpdateKind.INPUT, tc.UpdateKind.PROGRESS, tc.UpdateKind.INPUT]
    assert terminal.kind is tc.UpdateKind.TERMINAL and not new
    # Output not asked for is not handed on; a plan resuming from a version asks for it.
    assert plan.accept(out(2, 0, "x")) == (None, False)
    later = AwaitPlan("t-1", "", None, None, after_version=8)
    assert later.request().after_version == 8 and not later.request().HasField("output_offset")
    [(first, _)] = accepted(later, state(SNAPSHOT, 1, 9))
    assert first.kind is tc.UpdateKind.SNAPSHOT  # it saw no state of its own to compare with


def test_a_server_without_versions_gets_snapshots_as_before():
    plan = AwaitPlan("t-1", "", None, None)
    results = accepted(plan, state(SNAPSHOT, 1, 0), state(PROGRESS, 2, 0), state(SNAPSHOT, 1, 0))
    assert [(u.kind.name, new) for u, new in results] == [("SNAPSHOT", False), ("PROGRESS", False), ("SNAPSHOT", False)]
    assert not plan.request().HasField("after_version")


# -- ExecuteFlow -----------------------------------------------------------------------------------


def stream_output(offset, text):
    return pb.ExecuteStreamResponse(output=task_pb2.OutputChunk(offset=offset, text=text))


def stream_progress(fraction, message=""):
    return pb.ExecuteStreamResponse(progress=task_pb2.Progress(fraction=fraction, message=message))


def stream_answer(backgrounded, version=2, status=RUNNING, text="envelope", output_bytes=0):
    return pb.ExecuteStreamResponse(
        answer=pb.ExecuteResponse(
            backgrounded=backgrounded,
            task=task(status=status, version=version, user_id="alice", output_bytes=output_bytes),
            text=text,
        )
    )


def stream_update(message):
    return pb.ExecuteStreamResponse(update=message)


def test_an_execute_flow_follows_a_backgrounded_answer_from_its_version_and_the_inline_output():
    flow = ExecuteFlow(pb.ExecuteRequest(tool_name="slow", user_id="alice"))
    events = [
        flow.accept(message)[0]
        for message in (
            stream_output(0, "one\n"),
            stream_progress(0.5, "half"),
            stream_progress(0.5, "half"),  # the same again (a re-issued call): dropped
            stream_output(0, "one\ntwo\n"),  # a re-issued call's output from 0: only what is new
            stream_answer(True, version=2),
            stream_update(state(PROGRESS, 1, 2)),  # the answer's own state: dropped
            stream_update(out(2, 8, "three\n", version=2)),
            stream_update(state(PROGRESS, 3, 3)),
        )
    ]
    assert events[0] == tc.OutputChunk(0, "one\n")
    assert events[1].message == "half" and events[2] is None
    assert events[3] == tc.OutputChunk(4, "two\n")
    assert events[4].backgrounded and events[4].result.task.version == 2
    assert events[5] is None
    assert events[6] == tc.OutputChunk(8, "three\n")  # unwrapped: all output comes as OutputChunk
    assert events[7].kind is tc.UpdateKind.PROGRESS and not flow.done
    # A resume goes on from there, for the request's user.
    assert flow.plan.request() == pb.AwaitResultRequest(task_id="t-1", user_id="alice", after_version=3, output_offset=14)
    assert flow.accept(stream_update(state(TERMINAL, 4, 4, status=COMPLETED)))[0].last and flow.done


def test_an_inline_answer_ends_the_flow():
    flow = ExecuteFlow(pb.ExecuteRequest(tool_name="echo"))
    answer, new = flow.accept(stream_answer(False, version=1, status=COMPLETED, text="hi"))
    assert new and not answer.backgrounded and answer.result.text == "hi"
    assert flow.done and flow.plan is None
    assert flow.accept(stream_output(0, "late")) == (None, False)


# -- both clients against a scripted server -------------------------------------------------------


def test_await_result_resumes_after_the_last_version_and_output_byte_seen(task_service, clients):
    task_service.script(
        "AwaitResult",
        [state(SNAPSHOT, 1, 1), state(PROGRESS, 2, 2), out(3, 0, "ab", 2), out(4, 2, "cd", 2), UNAVAILABLE],
        [
            state(SNAPSHOT, 1, 2),  # a repeat (the real server sends none): dropped
            out(2, 2, "cdef", 2),  # partly seen: only "ef"
            state(SNAPSHOT, 3, 3, status=INPUT_REQUIRED),  # reached while disconnected: an INPUT change
        ],  # ends OK before the last update
        [out(1, 6, "g", 3), state(TERMINAL, 2, 4, status=COMPLETED, text="done")],
    )
    updates = list(clients(task_service.address, retry=FAST).await_result("t-1", "u", output=True))

    assert described(updates) == [
        ("SNAPSHOT", 1),
        ("PROGRESS", 2),
        ("OUTPUT", 0, "ab"),
        ("OUTPUT", 2, "cd"),
        ("OUTPUT", 4, "ef"),
        ("INPUT", 3),
        ("OUTPUT", 6, "g"),
        ("TERMINAL", 4),
    ]
    requests = [r.request for r in task_service.received["AwaitResult"]]
    assert [(r.HasField("after_version"), r.after_version, r.output_offset) for r in requests] == [
        (False, 0, 0),
        (True, 2, 4),
        (True, 3, 6),
    ]


def test_output_past_the_offset_expected_reopens_the_stream_from_there(task_service, clients):
    task_service.script(
        "AwaitResult",
        [state(SNAPSHOT, 1, 1), out(2, 0, "ab", 1), out(3, 5, "fg", 1)],
        [out(1, 2, "cdefg", 1), state(TERMINAL, 2, 2, status=COMPLETED)],
    )
    updates = list(clients(task_service.address, retry=FAST).await_result("t-1", output_offset=0))
    assert "".join(u.output.text for u in updates if u.output) == "abcdefg"
    assert task_service.received["AwaitResult"][1].request.output_offset == 2


def test_a_resume_that_brings_nothing_new_is_bounded_by_the_retry_policy(task_service, clients):
    task_service.script("AwaitResult", [state(SNAPSHOT, 1, 5), UNAVAILABLE], *[[state(SNAPSHOT, 1, 5), UNAVAILABLE]] * 10)
    with pytest.raises(tc.Unavailable):
        list(clients(task_service.address, retry=FAST).await_result("t-1"))
    assert task_service.attempts("AwaitResult") == 3  # the first snapshot was new: attempts counted afresh after it


def test_execute_stream_sends_execute_s_request_and_an_inline_answer_is_its_last_event(task_service, clients):
    task_service.script(
        "ExecuteStream",
        [
            stream_output(0, "tick 1\n"),
            stream_progress(0.5, "1 of 2"),
            stream_output(7, "tick 2\n"),
            stream_answer(False, version=1, status=COMPLETED, text="ticked 2"),
        ],
    )
    client = clients(task_service.address, token="0123456789abcdef0123")
    events = list(
        client.execute_stream(
            "ticker", {"count": 2}, user_id="alice", budget_seconds=5, request_id="r-1", redirect=tc.RedirectTarget("C", "p")
        )
    )

    assert [type(e).__name__ for e in events] == ["OutputChunk", "Progress", "OutputChunk", "Result"]
    assert "".join(e.text for e in events if isinstance(e, tc.OutputChunk)) == "tick 1\ntick 2\n"
    assert events[-1].text == "ticked 2" and not events[-1].backgrounded
    sent = task_service.received["ExecuteStream"][0]
    assert sent.request == pb.ExecuteRequest(
        tool_name="ticker",
        arguments_json='{"count": 2}',
        user_id="alice",
        timeout_seconds=5,
        request_id="r-1",
        redirect=pb.RedirectTarget(channel_id="C", platform="p"),
    )
    assert sent.metadata["authorization"] == "Bearer 0123456789abcdef0123"


def test_execute_stream_continues_through_await_result_after_a_backgrounded_answer(task_service, clients):
    task_service.script(
        "ExecuteStream",
        [
            stream_output(0, "a"),
            stream_answer(True, version=2),
            stream_update(state(PROGRESS, 1, 3)),
            stream_update(out(2, 1, "b", 3)),
            UNAVAILABLE,
        ],
    )
    task_service.script(
        "AwaitResult",
        [UNAVAILABLE],
        [out(1, 1, "bc", 3), state(TERMINAL, 2, 4, status=COMPLETED, text="done")],
    )
    client = clients(task_service.address, retry=FAST)
    events = list(client.execute_stream("slow", user_id="alice", budget_seconds=0.1))

    handle = events[1]
    assert handle.backgrounded and handle.task_id == "t-1" and handle.user_id == "alice"
    assert [type(e).__name__ for e in events] == [
        "OutputChunk",
        type(handle).__name__,
        "TaskUpdate",
        "OutputChunk",
        "OutputChunk",
        "TaskUpdate",
    ]
    assert "".join(e.text for e in events if isinstance(e, tc.OutputChunk)) == "abc"
    assert [(e.offset, e.text) for e in events if isinstance(e, tc.OutputChunk)] == [(0, "a"), (1, "b"), (2, "c")]
    assert events[-1].last and events[-1].text == "done"
    assert task_service.attempts("ExecuteStream") == 1
    resumed = [r.request for r in task_service.received["AwaitResult"]]
    assert resumed == [pb.AwaitResultRequest(task_id="t-1", user_id="alice", after_version=3, output_offset=2)] * 2


def test_execute_stream_dropped_before_the_answer_raises_without_a_request_id(task_service, clients):
    # The server stops an untracked call whose caller went away: issuing it again would run the tool twice.
    task_service.script("ExecuteStream", [stream_output(0, "a"), UNAVAILABLE], [stream_answer(False)])
    seen = []
    with pytest.raises(tc.Unavailable):
        for event in clients(task_service.address, retry=FAST).execute_stream("slow", budget_seconds=5):
            seen.append(event)
    if clients.kind == "sync":  # the async client's events reach the test as one list, after the error
        assert seen == [tc.OutputChunk(0, "a")]
    assert task_service.attempts("ExecuteStream") == 1


def test_execute_stream_with_a_request_id_is_issued_again_and_repeats_nothing(task_service, clients):
    task_service.script(
        "ExecuteStream",
        [stream_output(0, "a"), stream_progress(0.5), UNAVAILABLE],
        [stream_output(0, "abc"), stream_progress(0.5), stream_answer(False, version=3, status=COMPLETED, text="ok")],
    )
    events = list(clients(task_service.address, retry=FAST).execute_stream("slow", request_id="r-7"))
    assert [type(e).__name__ for e in events] == ["OutputChunk", "Progress", "OutputChunk", "Result"]
    assert [e.text for e in events if isinstance(e, tc.OutputChunk)] == ["a", "bc"]
    assert task_service.attempts("ExecuteStream") == 2
    assert {r.request.request_id for r in task_service.received["ExecuteStream"]} == {"r-7"}


def test_execute_stream_raises_other_statuses_at_once(task_service, clients):
    task_service.script("ExecuteStream", [Abort(grpc.StatusCode.NOT_FOUND, "unknown tool", "ToolNotFound")])
    with pytest.raises(tc.NotFound) as caught:
        list(clients(task_service.address, retry=FAST).execute_stream("nope", request_id="r-1"))
    assert caught.value.reason == "ToolNotFound"
    assert task_service.attempts("ExecuteStream") == 1


def test_read_output_reads_until_the_output_written_so_far(task_service, clients):
    def read(offset, text, total):
        return pb.GetResultResponse(task=task(output_bytes=total), output=task_pb2.OutputChunk(offset=offset, text=text))

    total = len("ab✓cd".encode())
    task_service.script("GetResult", UNAVAILABLE, read(0, "ab", total), read(2, "✓c", total), read(6, "d", total))
    task_service.script("GetResult", read(2, "✓", 5))
    client = clients(task_service.address, retry=FAST)

    assert client.read_output("t-1", "u") == tc.OutputChunk(0, "ab✓cd")
    assert client.get_result("t-1", output_offset=2).output == tc.OutputChunk(2, "✓")
    offsets = [(r.request.HasField("output_offset"), r.request.output_offset) for r in task_service.received["GetResult"]]
    assert offsets == [(True, 0), (True, 0), (True, 2), (True, 6), (True, 2)]
    with pytest.raises(ValueError):
        client.read_output("t-1", offset=-1)


def test_read_output_stops_when_a_read_brings_nothing_and_refuses_a_server_without_output(task_service, clients):
    task_service.script(
        "GetResult",
        pb.GetResultResponse(task=task(output_bytes=10), output=task_pb2.OutputChunk(offset=4, text="")),
        pb.GetResultResponse(task=task()),
    )
    client = clients(task_service.address)
    assert client.read_output("t-1", offset=4) == tc.OutputChunk(4, "")  # expired meanwhile: nothing to read
    with pytest.raises(tc.TaskServiceError, match="without the output"):
        client.read_output("t-1")


def test_a_handle_reads_and_follows_its_output_for_its_user(task_service, clients):
    task_service.script("Execute", pb.ExecuteResponse(backgrounded=True, task=task(version=1), text="{}"))
    task_service.script("GetResult", pb.GetResultResponse(task=task(output_bytes=1), output=task_pb2.OutputChunk(text="x")))
    task_service.script("AwaitResult", [out(1, 1, "y", 1), state(TERMINAL, 2, 2, status=COMPLETED)])
    client = clients(task_service.address)
    handle = client.execute("slow", user_id="bob")

    assert handle.read_output() == tc.OutputChunk(0, "x")
    assert described(handle.await_result(output_offset=1, after_version=1)) == [("OUTPUT", 1, "y"), ("TERMINAL", 2)]
    assert task_service.received["GetResult"][0].request.user_id == "bob"
    assert task_service.received["AwaitResult"][0].request == pb.AwaitResultRequest(
        task_id="t-1", user_id="bob", after_version=1, output_offset=1
    )
