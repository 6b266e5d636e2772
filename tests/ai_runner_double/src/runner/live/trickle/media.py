"""Trickle media of the ai-runner v0.14.1 offline double: run_subscribe and run_publish.

Same names, signatures and callback contracts as ai-runner's `runner.live.trickle.media`:

- `run_subscribe(subscribe_url, image_callback, put_metadata, monitoring_callback,
  target_width, target_height)` reads an input channel, decodes it in a thread and calls
  `image_callback(frame)` per kept frame, then `put_metadata(None)` and `image_callback(None)`
  when the input ends (or the call fails);
- `run_publish(publish_url, image_generator, get_metadata, monitoring_callback,
  output_width, output_height)` encodes what the blocking `image_generator()` returns (until
  it returns None) in a thread and posts one trickle segment per GOP, then DELETEs the
  channel.

Both send the same `stream_trace` events as ai-runner through `monitoring_callback`
(`runner_receive_first_ingest_segment`, `runner_send_first_processed_segment`). Decoding
and encoding are retried up to 3 times on errors, as upstream. Video only: audio is dropped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from ._video_decoder import decode_video
from ._video_encoder import encode_video
from .frame import InputFrame, OutputFrame
from .trickle_publisher import TricklePublisher
from .trickle_subscriber import TrickleSubscriber

logger = logging.getLogger(__name__)

MAX_DECODER_RETRIES = 3
MAX_ENCODER_RETRIES = 3
# How many received bytes may wait for the decoder before the subscriber slows down.
_MAX_BUFFERED_BYTES = 8 * 1024 * 1024

MonitoringCallback = Callable[..., Awaitable[None]]


def _now_ms() -> int:
    return int(time.time() * 1000)


async def run_subscribe(
    subscribe_url: str,
    image_callback: Callable[[InputFrame | None], Any],
    put_metadata: Callable[[dict | None], Any],
    monitoring_callback: MonitoringCallback,
    target_width: int,
    target_height: int,
) -> None:
    """Subscribe to the input channel and decode it until it ends."""
    source = ByteStream()
    try:
        decoder = run_in_thread(
            "double-decoder",
            _decode_with_retries,
            source,
            image_callback,
            put_metadata,
            target_width,
            target_height,
        )
        try:
            await _subscribe(subscribe_url, source, monitoring_callback)
        finally:
            source.end()
        await decoder
        logger.info("ai-runner double: run_subscribe complete for %s", subscribe_url)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("ai-runner double: run_subscribe failed for %s", subscribe_url)
    finally:
        source.end()
        put_metadata(None)
        image_callback(None)


async def _subscribe(url: str, source: ByteStream, monitoring_callback) -> None:
    first_segment = True
    async with TrickleSubscriber(url=url) as subscriber:
        logger.info("ai-runner double: subscribing to %s", url)
        while True:
            try:
                segment = await subscriber.next()
            except aiohttp.ClientError as error:
                logger.info("ai-runner double: input subscription ended: %s", error)
                return
            if segment is None:
                return
            try:
                while chunk := await segment.read():
                    if not await source.write(chunk):
                        return  # the decoder is gone
            except aiohttp.ClientError as error:
                logger.info("ai-runner double: failed reading an input segment: %s", error)
                return
            finally:
                await segment.close()
            if first_segment:
                first_segment = False
                await monitoring_callback(
                    {"type": "runner_receive_first_ingest_segment", "timestamp": _now_ms()},
                    queue_event_type="stream_trace",
                )


def _decode_with_retries(source, image_callback, put_metadata, width, height) -> None:
    try:
        for attempt in range(1, MAX_DECODER_RETRIES + 1):
            try:
                decode_video(source, image_callback, put_metadata, width, height)
                return
            except Exception:
                if source.bytes_received == 0:
                    logger.info("ai-runner double: the input ended before any data arrived")
                    return
                logger.exception(
                    "ai-runner double: decoding failed (%d/%d)", attempt, MAX_DECODER_RETRIES
                )
    finally:
        source.close_reader()
        logger.info("ai-runner double: decoding finished")


async def run_publish(
    publish_url: str,
    image_generator: Callable[[], OutputFrame | None],
    get_metadata: Callable[[], dict | None],
    monitoring_callback: MonitoringCallback,
    output_width: int,
    output_height: int,
) -> None:
    """Encode outputs until image_generator() returns None, one trickle segment per GOP."""
    loop = asyncio.get_running_loop()
    segments: asyncio.Queue[SegmentSink | None] = asyncio.Queue()

    def open_segment(name: str) -> SegmentSink:
        sink = SegmentSink(loop, name)
        _call_soon(loop, segments.put_nowait, sink)
        return sink

    def encode() -> None:
        try:
            _encode_with_retries(
                image_generator, open_segment, get_metadata, output_width, output_height
            )
        finally:
            _call_soon(loop, segments.put_nowait, None)

    publisher = TricklePublisher(url=publish_url, mime_type="video/mp2t")
    try:
        encoder = run_in_thread("double-encoder", encode)
        first_segment = True
        while (sink := await segments.get()) is not None:
            started = time.monotonic()
            async with await publisher.next() as writer:
                while (chunk := await sink.chunks.get()) is not None:
                    await writer.write(chunk)
                    if first_segment:
                        first_segment = False
                        await monitoring_callback(
                            {"type": "runner_send_first_processed_segment", "timestamp": _now_ms()},
                            queue_event_type="stream_trace",
                        )
            logger.info(
                "ai-runner double: published seq=%d in %.2fs",
                writer.seq(),
                time.monotonic() - started,
            )
        await encoder
        logger.info("ai-runner double: run_publish complete for %s", publish_url)
    finally:
        await publisher.close()


def _encode_with_retries(image_generator, open_segment, get_metadata, width, height) -> None:
    for attempt in range(1, MAX_ENCODER_RETRIES + 1):
        try:
            encode_video(image_generator, open_segment, get_metadata, width, height)
            return
        except Exception:
            logger.exception(
                "ai-runner double: encoding failed (%d/%d)", attempt, MAX_ENCODER_RETRIES
            )


class SegmentSink:
    """The file the segment muxer writes one segment into; it hands the bytes to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str):
        self.name = name
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop = loop
        self._closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        _call_soon(self._loop, self.chunks.put_nowait, chunk)
        return len(chunk)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _call_soon(self._loop, self.chunks.put_nowait, None)


class ByteStream:
    """Bytes received on the loop, read by PyAV in a thread (blocking, non-seekable)."""

    def __init__(self) -> None:
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._ended = False
        self._reader_closed = False
        self._condition = threading.Condition()
        self.bytes_received = 0

    async def write(self, chunk: bytes) -> bool:
        """Queue bytes for the reader; False once the reader is gone."""
        # Polling: the reader is a thread, it cannot set an asyncio.Event of this loop cheaply.
        while self._buffered > _MAX_BUFFERED_BYTES and not self._reader_closed:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        with self._condition:
            if self._reader_closed:
                return False
            self._chunks.append(chunk)
            self._buffered += len(chunk)
            self.bytes_received += len(chunk)
            self._condition.notify_all()
        return True

    def end(self) -> None:
        """No more bytes will come: the reader gets b"" once it has read what is left."""
        with self._condition:
            self._ended = True
            self._condition.notify_all()

    def close_reader(self) -> None:
        with self._condition:
            self._reader_closed = True
            self._chunks.clear()
            self._buffered = 0
            self._condition.notify_all()

    def read(self, size: int = -1) -> bytes:
        with self._condition:
            while not self._chunks and not self._ended and not self._reader_closed:
                self._condition.wait()
            if not self._chunks:
                return b""
            chunk = self._chunks.popleft()
            if 0 <= size < len(chunk):
                chunk, rest = chunk[:size], chunk[size:]
                self._chunks.appendleft(rest)
            self._buffered -= len(chunk)
            return chunk


def run_in_thread(name: str, function: Callable, *args: Any) -> asyncio.Future:
    """Run a blocking function in its own daemon thread; await the returned future."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(result: Any = None, error: BaseException | None = None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def target() -> None:
        try:
            result = function(*args)
        except BaseException as error:
            _call_soon(loop, settle, None, error)
        else:
            _call_soon(loop, settle, result)

    threading.Thread(target=target, name=name, daemon=True).start()
    return future


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable, *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        pass  # the loop is closed: nobody is waiting any more
