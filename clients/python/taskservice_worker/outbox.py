"""The messages waiting to be written to one Connect stream.

Handlers, the receiving loop (pongs) and the worker all put messages here,
from any thread; one writer takes them out in order. Three rules make the
stream behave:

* one queued progress update per task: a newer update replaces the one still
  waiting, so a handler reporting in a tight loop cannot delay pongs and
  results behind thousands of stale updates (order is kept: the update stays
  where the first one was queued, before any later result);
* output is never dropped nor reordered: a piece written while the previous
  piece of the same task is still the last message queued joins it (up to
  OUTPUT_PIECE_CHARS), so a handler writing many small pieces costs few
  messages; a larger piece is split, and every message stays far below
  gRPC's 4 MiB message limit;
* discard(task_id) removes whatever is still queued for a cancelled task, so
  nothing about it is sent after the cancellation was received;
* once closed (the stream is gone) everything put is dropped and the writer
  is told to finish.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

from .messages import ConnectRequest, output_message, progress_message

#: Characters of output in one InvocationOutput at most (at most 4 UTF-8 bytes each: 256 KiB).
OUTPUT_PIECE_CHARS = 64 * 1024


class _Output:
    """Output of one task still queued: its pieces, joined into one message when written."""

    __slots__ = ("task_id", "parts", "chars")

    def __init__(self, task_id: str, text: str) -> None:
        self.task_id = task_id
        self.parts = [text]
        self.chars = len(text)

    def message(self) -> ConnectRequest:
        return output_message(self.task_id, "".join(self.parts))


class Outbox:
    """Thread-safe FIFO of outgoing messages; get() blocks (for the sync writer)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        # (task_id or "" for messages about no task, message)
        self._items: deque[tuple[str, ConnectRequest | _Output]] = deque()
        self._queued_progress: dict[str, ConnectRequest] = {}
        self._closed = False

    def put(self, message: ConnectRequest, task_id: str = "") -> bool:
        """Queue a message; False (and dropped) if the outbox is closed."""
        with self._cond:
            if self._closed:
                return False
            self._items.append((task_id, message))
            self._wake()
        return True

    def put_progress(self, task_id: str, fraction: float, text: str) -> bool:
        """Queue a progress update, or refresh the one still queued for the task."""
        with self._cond:
            if self._closed:
                return False
            queued = self._queued_progress.get(task_id)
            if queued is not None:
                queued.progress.fraction = fraction
                queued.progress.message = text
                return True
            message = progress_message(task_id, fraction, text)
            self._queued_progress[task_id] = message
            self._items.append((task_id, message))
            self._wake()
        return True

    def put_output(self, task_id: str, text: str) -> bool:
        """Queue output of a task, after everything queued before it; False (and dropped) if closed."""
        with self._cond:
            if self._closed:
                return False
            last = self._items[-1][1] if self._items else None
            if isinstance(last, _Output) and last.task_id == task_id:
                room = OUTPUT_PIECE_CHARS - last.chars
                if room > 0:
                    last.parts.append(text[:room])
                    last.chars += min(room, len(text))
                    text = text[room:]
            for start in range(0, len(text), OUTPUT_PIECE_CHARS):
                self._items.append((task_id, _Output(task_id, text[start : start + OUTPUT_PIECE_CHARS])))
            self._wake()
        return True

    def discard(self, task_id: str) -> None:
        """Drop every queued message about task_id."""
        with self._cond:
            self._queued_progress.pop(task_id, None)
            self._items = deque(item for item in self._items if item[0] != task_id)

    def close(self) -> None:
        """Drop what is queued and make the writer finish."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._queued_progress.clear()
            self._wake()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def get(self, timeout: float | None = None) -> ConnectRequest | None:
        """The next message, waiting for one; None once closed (or on timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return self._pop()

    def _pop(self) -> ConnectRequest | None:
        # Caller holds the lock.
        if self._closed or not self._items:
            return None
        task_id, item = self._items.popleft()
        if isinstance(item, _Output):
            return item.message()
        if self._queued_progress.get(task_id) is item:
            del self._queued_progress[task_id]
        return item

    def _wake(self) -> None:
        # Caller holds the lock.
        self._cond.notify_all()


class AsyncOutbox(Outbox):
    """The same queue for the asyncio writer: ``await get_async()``.

    Puts may still come from any thread (a handler reporting progress from
    asyncio.to_thread); the writer is woken on its own loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._ready = asyncio.Event()

    async def get_async(self) -> ConnectRequest | None:
        while True:
            with self._cond:
                if self._items or self._closed:
                    return self._pop()
                self._ready.clear()
            await self._ready.wait()

    def _wake(self) -> None:
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._ready.set()
        else:
            try:
                self._loop.call_soon_threadsafe(self._ready.set)
            except RuntimeError:  # the loop is closed: nobody is left to write
                pass
