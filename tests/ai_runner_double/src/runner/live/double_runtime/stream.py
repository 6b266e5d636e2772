"""One live stream of the ai-runner v0.14.1 offline double (ai-runner's pipeline streamer).

Four tasks run while the stream lives, as in ai-runner:

- ingress: decoded input frames go to the pipeline process (dropped when its queue is full);
- egress: outputs come back; those whose request_id is not this stream's are dropped, the
  rest are encoded and published;
- control: each control message is queued as a params update;
- status: a "status" event every STATUS_REPORT_INTERVAL_S (10 s, as upstream).

The stream stops as soon as any of them ends (so when the input or the control channel ends)
or when asked to; then the channels are stopped, which DELETEs the output and events channels.
There is no stop message.

STATUS_REPORT_INTERVAL_S can be shortened with $AI_RUNNER_DOUBLE_STATUS_INTERVAL_S (double only).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from ..trickle import AudioOutput, VideoOutput
from .channels import TrickleChannels
from .monitor import PipelineMonitor
from .process import PipelineProcessHandle
from .status import timestamp_to_ms

logger = logging.getLogger(__name__)

STATUS_REPORT_INTERVAL_S = 10.0
STATUS_INTERVAL_VARIABLE = "AI_RUNNER_DOUBLE_STATUS_INTERVAL_S"
_RECEIVE_TIMEOUT_S = 0.1
_STOP_GRACE_S = 1.0


class StreamSession:
    def __init__(
        self,
        channels: TrickleChannels,
        monitor: PipelineMonitor,
        process: PipelineProcessHandle,
        request_id: str,
        manifest_id: str,
        stream_id: str,
    ):
        self.channels = channels
        self.monitor = monitor
        self.process = process
        self.request_id = request_id
        self.manifest_id = manifest_id
        self.stream_id = stream_id
        self.stop_event = asyncio.Event()
        self._event_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._supervisor: asyncio.Task | None = None
        self._running = False

    async def start(self, params: dict) -> None:
        if self._supervisor is not None:
            raise RuntimeError("ai-runner double: stream already started")
        self.monitor.reset_stream(
            self.request_id, self.manifest_id, self.stream_id, params, stream=self
        )
        await self.channels.start()
        self._running = True
        self._tasks = [
            _logged("ingress", self._ingress()),
            _logged("egress", self._egress()),
            _logged("status", self._report_status()),
            _logged("control", self._control()),
        ]
        self._supervisor = asyncio.create_task(self._supervise())

    def is_running(self) -> bool:
        return self._running

    def trigger_stop(self) -> bool:
        """Ask the stream to stop; True if this call is the one that asked."""
        if self.stop_event.is_set():
            return False
        self.stop_event.set()
        return True

    async def wait(self, timeout: float | None = None) -> None:
        """Wait until the stream has fully stopped (TimeoutError after `timeout` s)."""
        if self._supervisor is None:
            raise RuntimeError("ai-runner double: stream not started")
        await asyncio.wait_for(asyncio.shield(self._supervisor), timeout)

    async def emit_event(
        self,
        event: dict,
        queue_event_type: str = "ai_stream_events",
        timestamp: float | None = None,
    ) -> None:
        event["timestamp"] = timestamp_to_ms(timestamp or time.time())
        logger.info("ai-runner double: event %s", event)
        async with self._event_lock:
            await self.channels.emit_event(event, queue_event_type)

    async def _supervise(self) -> None:
        stop_requested = asyncio.create_task(self.stop_event.wait())
        try:
            await asyncio.wait([*self._tasks, stop_requested], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_requested.cancel()
            self.trigger_stop()
            _, late = await asyncio.wait(self._tasks, timeout=_STOP_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            try:
                await self.channels.stop()
            except Exception:
                logger.exception("ai-runner double: error stopping the stream's channels")
            self._running = False
            logger.info("ai-runner double: stream request_id=%s stopped", self.request_id)

    async def _ingress(self) -> None:
        async for frame in self.channels.ingress(self.stop_event):
            if self.stop_event.is_set():
                # Frames the decoder flushes after a stop would count as input that never
                # gets output, and the monitor would call the idle pipeline stalled.
                break
            self.monitor.record_input()
            self.process.send_input(frame)
        logger.info("ai-runner double: input ended")

    async def _egress(self) -> None:
        while not self.stop_event.is_set():
            output = await asyncio.to_thread(self.process.recv_output, _RECEIVE_TIMEOUT_S)
            if output is None:
                if not self.process.is_alive():
                    await asyncio.sleep(_RECEIVE_TIMEOUT_S)
                continue
            self.monitor.record_output(output)
            if not isinstance(output, VideoOutput | AudioOutput):
                logger.warning("ai-runner double: unknown output %s dropped", type(output))
                continue
            if output.request_id != self.request_id:
                logger.warning(
                    "ai-runner double: output of request_id=%r dropped (this stream is %r)",
                    output.request_id,
                    self.request_id,
                )
                continue
            self.channels.send_output(output)
        logger.info("ai-runner double: output ended")

    async def _control(self) -> None:
        async for params in self.channels.control_messages(self.stop_event):
            try:
                self.monitor.update_params(params)
            except Exception as error:
                logger.error("ai-runner double: could not queue a control message: %s", error)
        logger.info("ai-runner double: control channel ended")

    async def _report_status(self) -> None:
        interval = float(os.environ.get(STATUS_INTERVAL_VARIABLE) or STATUS_REPORT_INTERVAL_S)
        last_report: float | None = None
        while not self.stop_event.is_set():
            await asyncio.sleep(interval)
            now = time.time()
            status = self.monitor.snapshot(clear_transient=True).model_dump()
            status["last_status_timestamp"] = (
                timestamp_to_ms(last_report) if last_report else status["start_time"]
            )
            last_report = now
            await self.emit_event(status, timestamp=now)


def _logged(name: str, coroutine) -> asyncio.Task:
    async def run() -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("ai-runner double: stream task %s failed", name)

    return asyncio.create_task(run(), name=f"double-stream-{name}")
