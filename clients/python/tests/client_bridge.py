"""Drives Client and AsyncClient through the same blocking test code.

A behaviour test is written once, against the blocking API, and run for
both kinds: the async client lives on an event loop in a background thread
(its channel is bound to that loop), and Synced turns each coroutine it
returns into a blocking call and each async iterator into a list. Used by
this suite and by the real-server suite (test/clients/python).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any

import grpc
import grpc.aio

from taskservice_client import AsyncClient, AsyncTaskHandle, Client

CALL_LIMIT_S = 60.0
KINDS = ("sync", "async")


class LoopThread:
    """An event loop running in a daemon thread; run() blocks until a coroutine is done."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-client-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Any, timeout: float = CALL_LIMIT_S) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


async def _collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


class Synced:
    """An AsyncClient or AsyncTaskHandle whose methods block: the same calls as a Client's."""

    def __init__(self, target: Any, loop: LoopThread) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            value = attr(*args, **kwargs)
            if inspect.isasyncgen(value):
                value = iter(self._loop.run(_collect(value)))
            elif inspect.isawaitable(value):
                value = self._loop.run(value)
            return Synced(value, self._loop) if isinstance(value, AsyncTaskHandle) else value

        return call


class Clients:
    """Makes clients of one kind and closes them all at the end."""

    def __init__(self, kind: str) -> None:
        assert kind in KINDS, kind
        self.kind = kind
        self._loop = LoopThread() if kind == "async" else None
        self._made: list[Any] = []

    def __call__(self, address: str, **settings: Any) -> Any:
        """A Client, or a Synced AsyncClient, for address."""
        if self._loop is None:
            client: Any = Client(address, **settings)
        else:
            client = Synced(self._loop.run(_make_async(address, settings)), self._loop)
        self._made.append(client)
        return client

    def counting_interceptor(self) -> tuple[Any, Callable[[], list[str]]]:
        """An interceptor of this kind that records every unary call attempt's method; and the record."""
        methods: list[str] = []
        if self._loop is None:
            return _SyncCounter(methods), lambda: list(methods)
        return _AsyncCounter(methods), lambda: list(methods)

    def close(self) -> None:
        for client in self._made:
            client.close()
        if self._loop is not None:
            self._loop.close()


async def _make_async(address: str, settings: dict[str, Any]) -> AsyncClient:
    return AsyncClient(address, **settings)


class _SyncCounter(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, methods: list[str]) -> None:
        self._methods = methods

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self._methods.append(client_call_details.method)
        return continuation(client_call_details, request)


class _AsyncCounter(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, methods: list[str]) -> None:
        self._methods = methods

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        method = client_call_details.method
        self._methods.append(method.decode() if isinstance(method, bytes) else method)
        return await continuation(client_call_details, request)
