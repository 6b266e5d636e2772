"""go-livepeer's trickle protocol, the client's side: a channel is a URL, and its segments are
`{channel}/0`, `{channel}/1`... A publisher POSTs each one, its body streamed while it is
written; a subscriber GETs the next seq, which waits until it is published. 404 or an
`Lp-Trickle-Closed` header means the channel is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

import httpx

from .errors import ChannelClosed, ClientError

TS_MIME_TYPE = "video/mp2t"


class SegmentUpload:
    """One MPEG-TS segment POST whose body streams while it is written (chunked)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task = asyncio.create_task(
            client.post(url, content=self._body(), headers={"Content-Type": TS_MIME_TYPE})
        )

    async def _body(self) -> AsyncIterator[bytes]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    def write(self, data: bytes) -> None:
        if data and not self._task.done():
            self._queue.put_nowait(data)

    def close(self) -> None:
        """End the body; `result()` then tells how the server took it."""
        self._queue.put_nowait(None)

    @property
    def done(self) -> bool:
        return self._task.done()

    async def result(self) -> None:
        """Raise ChannelClosed or ClientError unless the server took the segment."""
        try:
            response = await self._task
        except httpx.HTTPError as error:
            raise ClientError(f"sending a segment failed: {error!r}") from error
        if response.status_code == 404 or "Lp-Trickle-Closed" in response.headers:
            raise ChannelClosed("the runner's input channel is closed (the session ended)")
        if response.status_code != 200:
            raise ClientError(f"the trickle server refused a segment: HTTP {response.status_code}")

    def cancel(self) -> None:
        self._task.cancel()


class TricklePublisher:
    """Publishes segments 0, 1, 2... to a channel."""

    def __init__(self, client: httpx.AsyncClient, channel_url: str) -> None:
        self._client = client
        self._url = channel_url.rstrip("/")
        self.seq = 0

    def open_segment(self) -> SegmentUpload:
        upload = SegmentUpload(self._client, f"{self._url}/{self.seq}")
        self.seq += 1
        return upload


class SegmentSink(Protocol):
    """Where a subscriber puts what it reads (an empty segment is skipped)."""

    def begin_segment(self, seq: int) -> None: ...
    def add_data(self, data: bytes) -> None: ...
    async def end_segment(self) -> None: ...


class _RetryableStatus(Exception):
    pass


class TrickleSubscriber:
    """Reads a channel from `start_seq` (-1: the live edge), then seq+1, seq+2... until the
    channel closes. 470 (seq out of reach) jumps to the latest. Transport errors and other
    statuses are retried `retries` times in a row, then raise ClientError naming the channel
    by `name`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        channel_url: str,
        *,
        name: str = "output",
        start_seq: int = -1,
        retries: int = 5,
        retry_delay: float = 0.5,
    ) -> None:
        self._client = client
        self._url = channel_url.rstrip("/")
        self._name = name
        self.seq = start_seq
        self._retries = retries
        self._retry_delay = retry_delay

    async def run(self, sink: SegmentSink) -> None:
        failures = 0
        while True:
            try:
                if not await self._read_one(sink):
                    return
                failures = 0
            except (httpx.TransportError, _RetryableStatus) as error:
                failures += 1
                if failures > self._retries:
                    raise ClientError(f"lost the {self._name} channel: {error!r}") from error
                await asyncio.sleep(self._retry_delay)

    async def _read_one(self, sink: SegmentSink) -> bool:
        """Read one segment into `sink`; False once the channel has ended."""
        timeout = httpx.Timeout(10.0, read=None)  # a GET for the next seq waits for it
        async with self._client.stream("GET", f"{self._url}/{self.seq}", timeout=timeout) as resp:
            if resp.status_code == 404 or "Lp-Trickle-Closed" in resp.headers:
                return False
            if resp.status_code == 470:
                self.seq = _int_header(resp, "Lp-Trickle-Latest", -1)
                return True
            if resp.status_code != 200:
                raise _RetryableStatus(f"HTTP {resp.status_code} for {self._url}/{self.seq}")
            seq = _int_header(resp, "Lp-Trickle-Seq", self.seq)
            started = False
            async for chunk in resp.aiter_bytes():
                if chunk:
                    if not started:
                        sink.begin_segment(seq)
                        started = True
                    sink.add_data(chunk)
            if started:
                await sink.end_segment()
            if seq >= 0:
                self.seq = seq + 1
            return True


def _int_header(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return default
