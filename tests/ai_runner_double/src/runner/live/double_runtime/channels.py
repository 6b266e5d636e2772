"""The four trickle channels of one stream, as ai-runner's trickle protocol drives them.

- input: `run_subscribe` decodes it; frames arrive on `ingress()` until the input ends;
- output: `run_publish` encodes what `send_output()` is given, one segment per GOP, and
  DELETEs the channel when the stream stops;
- control: each segment is one JSON object holding the whole param set; `{"keep": "alive"}`
  is ignored, a segment that is not JSON is logged and skipped; `control_messages()` ends when
  the channel ends (or at once when there is no control URL, as upstream);
- events: `emit_event()` posts `{"event": ..., "queue_event_type": ...}` as one segment; the
  channel is DELETEd when the stream stops.

Differences: a control segment is read to its end (ai-runner parses only its first 32 KiB
read); stopping a stream also cancels the input subscription (ai-runner leaves it running
until the input channel ends).
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

from ..trickle import OutputFrame, VideoFrame
from ..trickle.media import run_publish, run_subscribe
from ..trickle.trickle_publisher import TricklePublisher
from ..trickle.trickle_subscriber import TrickleSubscriber

logger = logging.getLogger(__name__)

KEEPALIVE_MESSAGE = {"keep": "alive"}
STOP_TIMEOUT_S = 10.0
METADATA_TIMEOUT_S = 30.0


class LatestValue:
    """A thread-safe slot holding the last value put; get() waits for the first one."""

    _UNSET = object()

    def __init__(self) -> None:
        self._value: Any = self._UNSET
        self._condition = threading.Condition()

    def put(self, value: Any) -> None:
        with self._condition:
            self._value = value
            self._condition.notify_all()

    def get(self, timeout: float = METADATA_TIMEOUT_S) -> Any | None:
        with self._condition:
            if not self._condition.wait_for(lambda: self._value is not self._UNSET, timeout):
                logger.warning("ai-runner double: no input metadata after %ss", timeout)
                return None
            return self._value


class TrickleChannels:
    def __init__(
        self,
        subscribe_url: str,
        publish_url: str,
        control_url: str | None,
        events_url: str | None,
        input_size: tuple[int, int],
        output_size: tuple[int, int],
    ):
        self.subscribe_url = subscribe_url
        self.publish_url = publish_url
        self.control_url = control_url
        self.events_url = events_url
        self.input_size = input_size
        self.output_size = output_size
        # Decoded frames cross a thread-safe queue and are taken one thread hop at a time, as
        # upstream: that pace decides how many frames a burst loses to the pipeline's queue of 1.
        self._frames: queue.Queue[VideoFrame | None] = queue.Queue()
        self._outputs: queue.Queue[OutputFrame | None] = queue.Queue()
        self._subscribe_task: asyncio.Task | None = None
        self._publish_task: asyncio.Task | None = None
        self._control: TrickleSubscriber | None = None
        self._events: TricklePublisher | None = None

    async def start(self) -> None:
        metadata = LatestValue()
        self._subscribe_task = asyncio.create_task(
            run_subscribe(
                self.subscribe_url,
                self._frames.put,
                metadata.put,
                self.emit_event,
                *self.input_size,
            )
        )
        self._publish_task = asyncio.create_task(
            run_publish(
                self.publish_url,
                self._outputs.get,
                metadata.get,
                self.emit_event,
                *self.output_size,
            )
        )
        if self.control_url and self.control_url.strip():
            self._control = TrickleSubscriber(self.control_url)
        if self.events_url and self.events_url.strip():
            self._events = TricklePublisher(self.events_url, "application/json")

    async def stop(self) -> None:
        subscribe_task, self._subscribe_task = self._subscribe_task, None
        publish_task, self._publish_task = self._publish_task, None
        if subscribe_task is None or publish_task is None:
            return
        self._outputs.put(None)  # the encoder flushes, the last segment goes out
        self._frames.put(None)
        subscribe_task.cancel()
        control, self._control = self._control, None
        if control is not None:
            await control.close()
        events, self._events = self._events, None
        if events is not None:
            await events.close()
        _, late = await asyncio.wait({subscribe_task, publish_task}, timeout=STOP_TIMEOUT_S)
        for task in late:
            logger.warning("ai-runner double: a stream task did not stop in time, cancelling it")
            task.cancel()
        await asyncio.gather(subscribe_task, publish_task, return_exceptions=True)

    async def ingress(self, done: asyncio.Event) -> AsyncIterator[VideoFrame]:
        while not done.is_set():
            frame = await asyncio.to_thread(self._frames.get)
            if frame is None:
                return
            yield frame

    def send_output(self, output: OutputFrame) -> None:
        self._outputs.put(output)

    async def emit_event(self, event: dict, queue_event_type: str = "ai_stream_events") -> None:
        events = self._events
        if events is None:
            return
        try:
            payload = json.dumps({"event": event, "queue_event_type": queue_event_type})
            async with await events.next() as segment:
                await segment.write(payload.encode())
        except Exception as error:
            logger.error("ai-runner double: could not publish an event: %s", error)

    async def control_messages(self, done: asyncio.Event) -> AsyncIterator[Any]:
        control = self._control
        if control is None:
            logger.warning("ai-runner double: no control URL, the stream gets no param updates")
            return
        logger.info("ai-runner double: subscribing to control messages at %s", self.control_url)
        while not done.is_set():
            try:
                segment = await control.next()
                if segment is None or segment.eos():
                    return
                body = b""
                while chunk := await segment.read():
                    body += chunk
                message = json.loads(body)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("ai-runner double: unreadable control message")
                continue
            if message == KEEPALIVE_MESSAGE:
                continue
            logger.info("ai-runner double: control message %s", message)
            yield message
