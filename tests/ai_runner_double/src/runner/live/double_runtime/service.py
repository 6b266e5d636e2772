"""The streaming service of the ai-runner v0.14.1 offline double (ai-runner's infer process).

It owns the pipeline process, the health monitor and the current stream, on an asyncio loop
in a background thread of the API process, so the (synchronous) LiveVideoToVideoPipeline can
start streams and read health from FastAPI's thread without blocking either loop.

Starting a stream does what ai-runner's start handler does: stop the running stream first
(waiting up to 10 s), validate the params with the spec's params class, take the input size
from the params' width/height and the output size from get_output_resolution(), start the
stream, then post a `runner_receive_stream_request` event. A failure raises InferenceError
("Error during model execution: <why>"); ai-runner retries for ~10 s first and then says only
"Error during model execution".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from runner.utils.errors import InferenceError

from ..pipelines import PipelineSpec
from ..pipelines.loader import parse_pipeline_params
from ..trickle import DEFAULT_HEIGHT, DEFAULT_WIDTH
from .channels import TrickleChannels
from .monitor import PipelineMonitor
from .process import PROCESS_NAME_PREFIX, PipelineProcessHandle
from .status import PipelineState, health_of
from .stream import StreamSession

logger = logging.getLogger(__name__)

PREVIOUS_STREAM_STOP_TIMEOUT_S = 10.0
_CALL_TIMEOUT_S = 30.0
_SHUTDOWN_TIMEOUT_S = 20.0


@dataclass
class StreamRequest:
    subscribe_url: str
    publish_url: str
    control_url: str
    events_url: str
    params: dict
    request_id: str
    manifest_id: str
    stream_id: str


class LiveStreamService:
    def __init__(self, spec: PipelineSpec, model_dir: str):
        self.spec = spec
        self.process = PipelineProcessHandle(
            spec.model_dump_json(), model_dir, f"{PROCESS_NAME_PREFIX}-{spec.name}"
        )
        self.monitor = PipelineMonitor(spec, self.process)
        self.stream: StreamSession | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ai-runner-double-streams", daemon=True
        )
        self._closed = False

    def start(self) -> None:
        self.process.start()
        self._thread.start()
        self._call(self._start_monitor())

    async def _start_monitor(self) -> None:
        self.monitor.start()

    def health(self) -> str:
        """LOADING, IDLE, OK or ERROR, mapped from the pipeline state as ai-runner maps it."""
        if self._closed:
            return "ERROR"
        if self.process.restarting:
            return "LOADING"
        if not self.process.is_alive():
            return "ERROR"  # dead: ERROR until the monitor restarts it (within a second)
        return health_of(self.monitor.state)

    def start_stream(self, request: StreamRequest) -> None:
        if self._closed:
            raise RuntimeError("Pipeline process not running (ai-runner double)")
        self._call(self._start_stream(request, time.time()))

    async def _start_stream(self, request: StreamRequest, requested_at: float) -> None:
        if self.monitor.state == PipelineState.ERROR:
            # Out of restarts (ai-runner would start a stream that never gets output).
            raise InferenceError(
                original_exception="ai-runner double: the pipeline is in ERROR after its "
                f"restarts: {self.process.last_error or 'see the logs'}"
            )
        previous = self.stream
        if previous is not None and previous.is_running():
            logger.info("ai-runner double: stopping the previous stream %s", previous.request_id)
            previous.trigger_stop()
            try:
                await previous.wait(PREVIOUS_STREAM_STOP_TIMEOUT_S)
            except asyncio.TimeoutError as error:
                raise InferenceError(
                    original_exception="ai-runner double: timeout stopping the previous stream"
                ) from error

        try:
            parsed = parse_pipeline_params(self.spec, request.params)
        except Exception as error:
            raise InferenceError(
                original_exception=f"ai-runner double: invalid stream params: "
                f"{type(error).__name__}: {error}"
            ) from error
        input_size = (
            int(request.params.get("width", DEFAULT_WIDTH)),
            int(request.params.get("height", DEFAULT_HEIGHT)),
        )
        output_size = parsed.get_output_resolution()
        logger.warning(
            "ai-runner double: starting stream request_id=%s input=%dx%d output=%dx%d on the "
            "OFFLINE DOUBLE of ai-runner v0.14.1 (not the real runner)",
            request.request_id,
            *input_size,
            *output_size,
        )
        channels = TrickleChannels(
            request.subscribe_url,
            request.publish_url,
            request.control_url,
            request.events_url,
            input_size,
            output_size,
        )
        stream = StreamSession(
            channels,
            self.monitor,
            self.process,
            request.request_id,
            request.manifest_id,
            request.stream_id,
        )
        await stream.start(request.params)
        self.stream = stream
        await channels.emit_event(
            {"type": "runner_receive_stream_request", "timestamp": int(requested_at * 1000)},
            queue_event_type="stream_trace",
        )

    def close(self) -> None:
        """Stop the stream, the monitor and the pipeline process (which calls stop())."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            try:
                self._call(self._shutdown(), timeout=_SHUTDOWN_TIMEOUT_S)
            except Exception:
                logger.exception("ai-runner double: error stopping the stream service")
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self.process.stop()
        if not self._thread.is_alive():
            self._loop.close()

    async def _shutdown(self) -> None:
        stream = self.stream
        if stream is not None and stream.is_running():
            stream.trigger_stop()
            try:
                await stream.wait(PREVIOUS_STREAM_STOP_TIMEOUT_S)
            except asyncio.TimeoutError:
                logger.error("ai-runner double: the stream did not stop in time")
        await self.monitor.stop()

    def _call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = _CALL_TIMEOUT_S) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)
