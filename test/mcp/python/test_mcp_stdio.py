"""`taskservice mcp` (the stdio MCP server) driven by the official Python client.

The client starts `node bin/taskservice.mjs mcp --addr <gRPC address> --user
alice` from the repository root as its subprocess and speaks MCP on its
stdin/stdout; that server forwards every request over gRPC to the session's
TaskService. Each test runs in both client modes ("auto": 2026-07-28,
"legacy": 2025-11-25).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import uuid
from collections.abc import AsyncIterator

from conftest import EXPECTED_VERSION, REPO_ROOT, run
from helpers import background_sleep, cancel_quietly, connect, only_text, texts
from mcp import Client, StdioServerParameters

USER = "alice"


def stdio_server(grpc_address: str, user: str = USER) -> StdioServerParameters:
    return StdioServerParameters(
        command="node",
        args=["bin/taskservice.mjs", "mcp", "--addr", grpc_address, "--user", user],
        cwd=str(REPO_ROOT),
    )


def children() -> set[int]:
    """The PIDs of this process's live children (Linux: from /proc)."""
    found = set()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")".
        fields = stat.rpartition(")")[2].split()
        if fields and fields[0] != "Z" and int(fields[1]) == os.getpid():
            found.add(int(entry.name))
    return found


@contextlib.asynccontextmanager
async def connect_stdio(grpc_address: str, mode: str) -> AsyncIterator[Client]:
    async with Client(stdio_server(grpc_address), mode=mode) as client:
        assert client.protocol_version == EXPECTED_VERSION[mode]
        yield client


def test_stdio_lists_tools_calls_echo_and_reports_a_tool_error(server, mode):
    text = f"stdio {uuid.uuid4().hex}"
    before = children()

    async def scenario():
        async with connect_stdio(server.grpc_address, mode) as client:
            started = children() - before
            assert started, "the client started no server subprocess"
            listed = await client.list_tools()
            echoed = await client.call_tool("echo", {"text": text})
            failed = await client.call_tool("fail", {"message": text})
        return started, listed, echoed, failed

    started, listed, echoed, failed = run(scenario())
    assert {"echo", "sleep", "fail", "check_task", "cancel_task"} <= {tool.name for tool in listed.tools}
    assert echoed.is_error is False
    assert texts(echoed) == [text]
    assert failed.is_error is True
    assert texts(failed) == [f"Error: {text}"]
    # The client ended the stdio server with the session: no process of it is left.
    assert not (started & children()), f"stdio server still running: {started & children()}"


def test_stdio_backgrounds_a_call_past_its_budget_as_the_user_it_was_started_for(server, mode):
    async def scenario():
        async with connect_stdio(server.grpc_address, mode) as client:
            envelope = await background_sleep(client)
            task_id = envelope["task_id"]
            try:
                # The task is a TaskService task of --user alice: /mcp shows it to alice, to no one else.
                async with connect(server.mcp_url, mode, USER) as as_alice:
                    checked = await as_alice.call_tool("check_task", {"task_id": task_id})
                    assert checked.is_error is False, checked
                    assert json.loads(only_text(checked))["status"] == "running"
                async with connect(server.mcp_url, mode, f"bob-{uuid.uuid4().hex[:8]}") as as_bob:
                    hidden = await as_bob.call_tool("check_task", {"task_id": task_id})
                    assert hidden.is_error is True, hidden

                cancelled = await client.call_tool("cancel_task", {"task_id": task_id})
                assert cancelled.is_error is False, cancelled
                assert json.loads(only_text(cancelled))["failure_reason"] == "cancelled"
                after = await client.call_tool("check_task", {"task_id": task_id})
                final = json.loads(only_text(after))
                assert (final["status"], final["failure_reason"]) == ("failed", "cancelled"), final
            finally:
                await cancel_quietly(client, task_id)

    run(scenario())
