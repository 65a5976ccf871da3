"""What the MCP tests share: connecting the official Python client, and the calls every test makes."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx2
from conftest import EXPECTED_VERSION
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

USER_HEADER = "x-taskservice-user"
BUDGET_META_KEY = "dev.taskservice/budgetSeconds"
# Short enough that a 30 s sleep is always backgrounded.
BUDGET_S = 0.1
# Well under the server's default budget (TASKSERVICE_DEFAULT_BUDGET_SECONDS, 10 s): an envelope that
# comes sooner was backgrounded by the budget in `_meta`, not by the default.
ENVELOPE_WITHIN_S = 5.0
HTTP_TIMEOUT_S = 30.0


@contextlib.asynccontextmanager
async def connect(url: str, mode: str, user: str | None = None) -> AsyncIterator[Client]:
    """A connected Client in `mode`, acting for `user` (the user header) when given."""
    headers = {USER_HEADER: user} if user else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(HTTP_TIMEOUT_S)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            # A precondition of every test: the era asked for is the era spoken.
            assert client.protocol_version == EXPECTED_VERSION[mode]
            yield client


def texts(result) -> list[str]:
    return [block.text for block in result.content if block.type == "text"]


def only_text(result) -> str:
    found = texts(result)
    assert len(found) == 1, f"expected one text block: {result}"
    return found[0]


def fresh_user(name: str) -> str:
    # Tasks are per user; a fresh name keeps each test to its own.
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def background_sleep(client: Client, seconds: float = 30) -> dict:
    """A sleep called with the `_meta` budget: it outlives it and answers with the envelope."""
    started = time.monotonic()
    result = await client.call_tool("sleep", {"seconds": seconds}, meta={BUDGET_META_KEY: BUDGET_S})
    took = time.monotonic() - started
    assert took < ENVELOPE_WITHIN_S, f"the envelope took {took:.1f} s: the _meta budget of {BUDGET_S} s was ignored"
    assert result.is_error is False, result
    envelope = json.loads(only_text(result))
    assert envelope["status"] == "running", envelope
    assert envelope["tool_name"] == "sleep", envelope
    assert envelope["task_id"], envelope
    assert f'check_task with task_id "{envelope["task_id"]}"' in envelope["message"], envelope
    return envelope


async def cancel_quietly(client: Client, task_id: str) -> None:
    # Cleanup only: a 30 s sleep left running would hold up the server's shutdown.
    with contextlib.suppress(Exception):
        await client.call_tool("cancel_task", {"task_id": task_id})
