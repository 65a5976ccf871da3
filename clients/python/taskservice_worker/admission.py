"""Local enforcement of the concurrency limits a worker declares.

The server never sends more invocations at once than the worker's
max_concurrency and each tool's concurrency allow, but the library does not
rely on it: an invocation that does not fit waits here (FIFO, skipping
waiters whose own tool is still full) until a running one finishes. A slot is
held until the handler really returns, even after a cancellation or a lost
connection, because that is when the thread or task is actually free.

Not thread-safe on its own: the Dispatcher calls it under its lock.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Generic, Protocol, TypeVar


class _HasTool(Protocol):
    @property
    def tool_name(self) -> str: ...

    @property
    def tool_limit(self) -> int: ...


R = TypeVar("R", bound=_HasTool)


class Admission(Generic[R]):
    def __init__(self, limit: int) -> None:
        """limit: invocations at once across tools; 0 means no limit."""
        self._limit = limit
        self._running = 0
        self._per_tool: Counter[str] = Counter()
        self._waiting: deque[R] = deque()

    @property
    def running(self) -> int:
        return self._running

    def admit(self, run: R) -> bool:
        """Take a slot for run and return True, or queue it and return False."""
        if self._fits(run):
            self._take(run)
            return True
        self._waiting.append(run)
        return False

    def release(self, run: R) -> list[R]:
        """Give back run's slot; returns the waiting runs that now start (slots taken)."""
        self._running -= 1
        self._per_tool[run.tool_name] -= 1
        started: list[R] = []
        for waiter in list(self._waiting):
            if self._fits(waiter):
                self._waiting.remove(waiter)
                self._take(waiter)
                started.append(waiter)
        return started

    def withdraw(self, run: R) -> bool:
        """Remove a run that has not started; False if it was not waiting."""
        try:
            self._waiting.remove(run)
        except ValueError:
            return False
        return True

    def clear_waiting(self) -> list[R]:
        """Forget every waiting run (their connection is gone); returns them."""
        dropped = list(self._waiting)
        self._waiting.clear()
        return dropped

    def _fits(self, run: R) -> bool:
        if self._limit and self._running >= self._limit:
            return False
        return not run.tool_limit or self._per_tool[run.tool_name] < run.tool_limit

    def _take(self, run: R) -> None:
        self._running += 1
        self._per_tool[run.tool_name] += 1
