"""Trickle publisher of the ai-runner v0.14.1 offline double (aiohttp).

Same public names and signatures as ai-runner's `TricklePublisher` and `SegmentWriter`,
written from their behaviour against go-livepeer's trickle server:

- segments are POSTed to `<url>/0`, `<url>/1`, ... one seq per segment, streaming the body
  as it is written (chunked), with the given Content-Type;
- when a segment starts, the POST for the next seq is already opened in the background
  (preconnect), so the server can hand it to subscribers waiting at the live edge;
- `close()` ends the preconnected POST with an empty body and DELETEs the channel.

Unlike ai-runner, `close()` first waits (up to CLOSE_GRACE_S) for POSTs still sending, so
the last segment is not cut off by the DELETE. TLS certificates are not verified, as upstream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp

logger = logging.getLogger(__name__)

CLOSE_GRACE_S = 5.0
_END_OF_SEGMENT = None


class TricklePublisher:
    """Writes segments to one trickle channel, in seq order from 0."""

    def __init__(self, url: str, mime_type: str):
        self.url = url
        self.mime_type = mime_type
        self.idx = 0
        self.next_writer: asyncio.Queue | None = None
        self.lock = asyncio.Lock()
        self.session: aiohttp.ClientSession | None = None
        self._posts: set[asyncio.Task] = set()
        self._background: set[asyncio.Task] = set()
        self._closed = False

    async def __aenter__(self) -> TricklePublisher:
        return self

    async def __aexit__(self, exc_type, exc_value, traceback) -> None:
        await self.close()

    def streamIdx(self) -> str:  # ai-runner's name
        """The URL of the seq being opened."""
        return f"{self.url}/{self.idx}"

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False))
        return self.session

    async def preconnect(self) -> asyncio.Queue | None:
        """Start the POST of the current seq; its body is whatever is put on the returned queue."""
        url = self.streamIdx()
        body: asyncio.Queue = asyncio.Queue(maxsize=1)
        task = asyncio.create_task(self._post(url, body))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)
        return body

    async def _post(self, url: str, body: asyncio.Queue) -> None:
        ended = asyncio.Event()
        try:
            async with self._session().post(
                url,
                headers={"Connection": "close", "Content-Type": self.mime_type},
                data=_drain(body, ended),
            ) as response:
                if response.status != 200:
                    text = await response.text()
                    logger.error(
                        "trickle pub (double): POST %s answered %d: %s", url, response.status, text
                    )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.error("trickle pub (double): POST %s failed: %s", url, error)
        if not ended.is_set():
            # The POST ended before its body did: swallow the rest so the writer never blocks.
            while await body.get() is not _END_OF_SEGMENT:
                pass

    async def next(self) -> SegmentWriter:
        """The writer of the next segment; the one after it is preconnected meanwhile."""
        async with self.lock:
            if self.next_writer is None:
                self.next_writer = await self.preconnect()
            seq, writer = self.idx, self.next_writer
            self.next_writer = None
            task = asyncio.create_task(self._preconnect_next_segment())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return SegmentWriter(writer, seq)

    async def _preconnect_next_segment(self) -> None:
        async with self.lock:
            if self.next_writer is not None or self._closed:
                return
            self.idx += 1
            self.next_writer = await self.preconnect()

    async def close(self) -> None:
        """End the preconnected POST, let the others finish, then DELETE the channel."""
        logger.debug("trickle pub (double): closing %s", self.url)
        async with self.lock:
            if self.next_writer is not None:
                await SegmentWriter(self.next_writer).close()
                self.next_writer = None
            if self._closed:
                return
            self._closed = True
            # DELETE even if nothing was ever posted (the session is made on first use here).
            session = self._session()
            if self._posts:
                _, late = await asyncio.wait(set(self._posts), timeout=CLOSE_GRACE_S)
                for task in late:
                    task.cancel()
            try:
                async with session.delete(self.url) as response:
                    if response.status != 200:
                        logger.info(
                            "trickle pub (double): DELETE %s answered %d", self.url, response.status
                        )
            except Exception as error:
                logger.error("trickle pub (double): DELETE %s failed: %s", self.url, error)
            finally:
                self.session = None
                await session.close()


class SegmentWriter:
    """The body of one segment's POST: write() bytes, then close() (or use `async with`)."""

    def __init__(self, queue: asyncio.Queue, seq: int = -99):
        self.queue = queue
        self._seq = seq

    async def write(self, data: bytes) -> None:
        await self.queue.put(data)

    async def close(self) -> None:
        await self.queue.put(_END_OF_SEGMENT)

    async def __aenter__(self) -> SegmentWriter:
        return self

    async def __aexit__(self, exc_type, exc_value, traceback) -> None:
        await self.close()

    def seq(self) -> int:
        return self._seq


async def _drain(body: asyncio.Queue, ended: asyncio.Event) -> AsyncIterator[bytes]:
    while (chunk := await body.get()) is not _END_OF_SEGMENT:
        yield chunk
    ended.set()
