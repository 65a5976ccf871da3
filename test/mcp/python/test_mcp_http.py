"""The MCP front door (`/mcp`, Streamable HTTP) as the official Python client sees it.

Each test that takes ``mode`` runs twice: with ``mode="auto"``, which reaches
protocol 2026-07-28 (server/discover, per-request envelope), and with
``mode="legacy"``, the 2025-11-25 initialize handshake. The Python client has
no tasks-extension support, so a call that outlives its budget answers with
the JSON envelope, and the model follows it with the check_task and
cancel_task tools.
"""

from __future__ import annotations

import json
import uuid

from conftest import run
from helpers import background_sleep, cancel_quietly, connect, fresh_user, only_text, texts


def test_tools_list_names_the_example_and_meta_tools(server, mode):
    async def scenario():
        async with connect(server.mcp_url, mode) as client:
            listed = await client.list_tools()
        names = {tool.name for tool in listed.tools}
        assert {"echo", "sleep", "fail", "check_task", "cancel_task"} <= names
        echo = next(tool for tool in listed.tools if tool.name == "echo")
        assert echo.input_schema["required"] == ["text"]

    run(scenario())


def test_echo_answers_inline(server, mode):
    text = f"echo {uuid.uuid4().hex} ünïcødé ✓"

    async def scenario():
        async with connect(server.mcp_url, mode, fresh_user("echo")) as client:
            return await client.call_tool("echo", {"text": text})

    result = run(scenario())
    assert result.is_error is False
    assert texts(result) == [text]


def test_a_call_past_its_budget_is_followed_and_cancelled_with_the_meta_tools(server, mode):
    async def scenario():
        async with connect(server.mcp_url, mode, fresh_user("budget")) as client:
            envelope = await background_sleep(client)
            task_id = envelope["task_id"]
            try:
                checked = await client.call_tool("check_task", {"task_id": task_id})
                assert checked.is_error is False, checked
                running = json.loads(only_text(checked))
                assert running["task_id"] == task_id
                assert running["status"] == "running", running
                assert running["tool_name"] == "sleep"

                cancelled = await client.call_tool("cancel_task", {"task_id": task_id})
                assert cancelled.is_error is False, cancelled
                ended = json.loads(only_text(cancelled))
                assert ended == {
                    "task_id": task_id,
                    "status": "failed",
                    "failure_reason": "cancelled",
                    "message": "Task cancelled.",
                }

                after = await client.call_tool("check_task", {"task_id": task_id})
                assert after.is_error is False, after
                final = json.loads(only_text(after))
                assert final["status"] == "failed", final
                assert final["failure_reason"] == "cancelled", final
                assert final["tool_name"] == "sleep"
            finally:
                await cancel_quietly(client, task_id)

    run(scenario())


def test_a_tool_error_is_is_error_with_the_message(server, mode):
    message = f"deliberate {uuid.uuid4().hex}"

    async def scenario():
        async with connect(server.mcp_url, mode, fresh_user("fail")) as client:
            return await client.call_tool("fail", {"message": message})

    result = run(scenario())
    assert result.is_error is True
    assert texts(result) == [f"Error: {message}"]


def test_the_user_header_scopes_tasks(server, mode):
    alice, bob = fresh_user("alice"), fresh_user("bob")

    async def scenario():
        async with connect(server.mcp_url, mode, alice) as as_alice, connect(server.mcp_url, mode, bob) as as_bob:
            task_id = (await background_sleep(as_alice))["task_id"]
            try:
                seen_by_bob = await as_bob.call_tool("check_task", {"task_id": task_id})
                assert seen_by_bob.is_error is True, seen_by_bob
                assert only_text(seen_by_bob) == f"Error: task {task_id} not found"

                refused = await as_bob.call_tool("cancel_task", {"task_id": task_id})
                assert refused.is_error is True, refused

                # alice still sees it, running: bob's attempts did nothing to it.
                seen_by_alice = await as_alice.call_tool("check_task", {"task_id": task_id})
                assert seen_by_alice.is_error is False, seen_by_alice
                assert json.loads(only_text(seen_by_alice))["status"] == "running"
            finally:
                await cancel_quietly(as_alice, task_id)

    run(scenario())
