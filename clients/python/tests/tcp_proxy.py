"""A TCP proxy on 127.0.0.1 whose connections a test can sever all at once.

Put between a client and the real server, it breaks every stream the client
has open in the middle, as a network or a load balancer would, while new
connections still go through: what the client then does to resume is what
the test looks at. It runs an asyncio loop on a thread of its own, so that
both a blocking client and an asyncio one can use it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

CALL_LIMIT_S = 10.0
CHUNK_BYTES = 64 * 1024


class TcpProxy:
    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._target = (host, int(port))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-tcp-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._open: set[asyncio.Transport] = set()
        #: Connections accepted so far.
        self.accepted = 0
        #: How many times sever() cut connections (and how many it cut in all).
        self.severed = 0
        self.cut = 0
        self.address = ""

    def start(self) -> TcpProxy:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"
        return self

    def sever(self) -> int:
        """Abort every open connection (both sides, at once); returns how many were cut."""
        return self._run(self._sever())

    def stop(self) -> None:
        if self._server is not None:
            self._run(self._close(self._server))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_LIMIT_S)
        self._loop.close()

    # -- on the proxy's loop ------------------------------------------------------------------

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_LIMIT_S)

    async def _close(self, server: asyncio.AbstractServer) -> None:
        # On the loop: an asyncio server is not thread-safe.
        server.close()
        await self._sever()
        await server.wait_closed()

    async def _sever(self) -> int:
        transports = list(self._open)
        self._open.clear()
        for transport in transports:
            transport.abort()
        self.severed += 1
        self.cut += len(transports)
        return len(transports)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer.transport, server_writer.transport}
        self._open.update(pair)  # type: ignore[arg-type]
        try:
            await asyncio.gather(
                _pipe(client_reader, server_writer), _pipe(server_reader, client_writer), return_exceptions=True
            )
        finally:
            for transport in pair:
                self._open.discard(transport)  # type: ignore[arg-type]
                transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until the end; then half-close, as the other side did."""
    while True:
        data = await reader.read(CHUNK_BYTES)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
