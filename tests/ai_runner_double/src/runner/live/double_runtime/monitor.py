"""Health monitor of the ai-runner v0.14.1 offline double (ai-runner's process guardian).

Once a second, as ai-runner does: forward the pipeline process's latest error as an "error"
event, refresh the fps figures every 10 s, and recompute the pipeline state from the input,
output, load and error times with ai-runner's thresholds (LOADING until ready, 180 s load
timeout; OFFLINE 3 s after a stream ends; stop a stream idle for 60 s; ERROR when the process
is dead, when outputs stop for over 5 s while inputs arrive, or 10 s after a load). Entering
OFFLINE (also right after the first load) resets the process to no stream and sends it the
initial params. Entering ERROR stops the stream and restarts the pipeline process (state
LOADING, a "restart" event); after MAX_RESTARTS restarts the state stays ERROR for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from ..pipelines import PipelineSpec
from ..trickle import OutputFrame
from .process import PipelineProcessHandle
from .status import InferenceStatus, InputStatus, PipelineState, PipelineStatus

logger = logging.getLogger(__name__)

MONITOR_INTERVAL_S = 1.0
FPS_INTERVAL_S = 10.0
LOADING_TIMEOUT_S = 180
STREAM_IDLE_STOP_S = 60
STREAM_IDLE_ERROR_S = 90
OUTPUT_STALL_S = 5
MAX_RESTARTS = 3


class StreamHooks(Protocol):
    """What the monitor needs from the running stream."""

    def is_running(self) -> bool: ...

    def trigger_stop(self) -> bool: ...

    async def emit_event(self, event: dict, queue_event_type: str = ...) -> None: ...


class FpsCounter:
    """Frames per second over a window that restarts at each reading."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.frames = 0
        self.started: float | None = None

    def inc(self) -> None:
        if self.started is None:
            self.started = time.time()  # the first frame only opens the window
            self.frames = 0
        else:
            self.frames += 1

    def fps(self, now: float) -> float:
        fps = self.frames / (now - self.started) if self.frames and self.started else 0.0
        self.started, self.frames = now, 0
        return fps


class PipelineMonitor:
    def __init__(self, spec: PipelineSpec, process: PipelineProcessHandle):
        self.spec = spec
        self.process = process
        self.stream: StreamHooks | None = None
        self.status = PipelineStatus(pipeline=spec.name, start_time=0)
        self.status.update_params(spec.initial_params, touch_time=False)
        self.input_fps = FpsCounter()
        self.output_fps = FpsCounter()
        self._task: asyncio.Task | None = None

    @property
    def state(self) -> str:
        return self.status.state

    def start(self) -> None:
        self.status.update_state(PipelineState.LOADING)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def reset_stream(
        self, request_id: str, manifest_id: str, stream_id: str, params: dict, stream: StreamHooks
    ) -> None:
        self.status.start_time = time.time()
        self.status.input_status = InputStatus()
        self.input_fps.reset()
        self.output_fps.reset()
        self.stream = stream
        self.process.reset_stream(request_id, manifest_id, stream_id)
        self.update_params(params)
        self.status.update_state(PipelineState.ONLINE)

    def record_input(self) -> None:
        self.status.input_status.last_input_time = time.time()
        self.input_fps.inc()

    def record_output(self, output: OutputFrame) -> None:
        if not output.is_loading_frame:
            self.status.inference_status.last_output_time = time.time()
            self.output_fps.inc()

    def update_params(self, params: dict) -> None:
        self.process.update_params(params)
        self.status.update_params(params)
        logger.info(
            "ai-runner double: params update queued, hash=%s",
            self.status.inference_status.last_params_hash,
        )

    def snapshot(self, clear_transient: bool = False) -> PipelineStatus:
        status = self.status.model_copy(deep=True)
        if clear_transient:
            self.status.inference_status.last_params = None
            self.status.inference_status.last_restart_logs = None
        return status

    async def _loop(self) -> None:
        last_fps = time.time()
        while True:
            await asyncio.sleep(MONITOR_INTERVAL_S)
            try:
                now = time.time()
                if now - last_fps > FPS_INTERVAL_S:
                    self.status.input_status.fps = self.input_fps.fps(now)
                    self.status.inference_status.fps = self.output_fps.fps(now)
                    last_fps = now
                await self.tick()
            except Exception:
                logger.exception("ai-runner double: error in the monitor loop")

    async def tick(self) -> None:
        errors = self.process.drain_errors()
        if errors:
            latest = errors[-1]  # as upstream: only the newest error of the last second
            inference = self.status.inference_status
            inference.last_error, inference.last_error_time = latest["message"], latest["timestamp"]
            if self.stream is not None:
                await self.stream.emit_event(
                    {
                        "type": "error",
                        "pipeline": self.spec.name,
                        "message": latest["message"],
                        "time": latest["timestamp"],
                    }
                )

        state = self.compute_state()
        if state == self.status.state:
            return
        if state == PipelineState.OFFLINE:
            # Back to the initial params when the stream is over (and after the first load).
            self.process.reset_stream("", "", "")
            self.process.update_params(self.spec.initial_params)
        if state != PipelineState.ERROR:
            self.status.update_state(state)
            return
        restarts = self.status.inference_status.restart_count
        logger.error(
            "ai-runner double: pipeline in ERROR; stopping the stream and restarting the "
            "pipeline process (restarts so far: %d)",
            restarts,
        )
        if self.stream is not None:
            self.stream.trigger_stop()
        if restarts >= MAX_RESTARTS:
            logger.error("ai-runner double: %d restarts already, staying in ERROR", restarts)
            self.status.update_state(PipelineState.ERROR)
            return
        try:
            await self.restart_process()
        except Exception:
            logger.exception("ai-runner double: restarting the pipeline process failed")
            self.status.update_state(PipelineState.ERROR)

    async def restart_process(self) -> None:
        await asyncio.to_thread(self.process.restart)
        self.status.update_state(PipelineState.LOADING)
        self.status.inference_status = InferenceStatus(
            restart_count=self.status.inference_status.restart_count + 1,
            last_restart_time=time.time(),
            last_restart_logs=[],  # the double keeps no log queue
        )
        inference = self.status.inference_status
        if self.stream is not None:
            await self.stream.emit_event(
                {
                    "type": "restart",
                    "pipeline": self.spec.name,
                    "restart_count": inference.restart_count,
                    "restart_time": inference.last_restart_time,
                    "restart_logs": inference.last_restart_logs,
                }
            )
        logger.info("ai-runner double: pipeline process restarted (%d)", inference.restart_count)

    def compute_state(self) -> str:
        if self.status.state == PipelineState.ERROR:
            return PipelineState.ERROR  # permanent
        if not self.process.is_alive():
            return PipelineState.ERROR

        now = time.time()
        inputs = self.status.input_status
        inference: InferenceStatus = self.status.inference_status
        start = max(self.process.start_time, self.status.start_time)
        since_input = now - (inputs.last_input_time or start)
        since_output = now - (inference.last_output_time or 0)
        ready, ready_time = self.process.is_ready()
        loaded_at = max(inference.last_params_update_time or 0, ready_time or 0, start)
        since_load = max(0.0, now - loaded_at - 2)  # 2 s of slack, as upstream

        if not ready:
            if since_load > LOADING_TIMEOUT_S:
                logger.error("ai-runner double: pipeline loading timed out")
                return PipelineState.ERROR
            return PipelineState.LOADING

        stream = self.stream
        if stream is None or not stream.is_running():
            offline = since_input > 3 or not inputs.last_input_time
            return PipelineState.OFFLINE if offline else PipelineState.DEGRADED_INPUT

        if since_input > STREAM_IDLE_STOP_S:
            if stream.trigger_stop():
                logger.info(
                    "ai-runner double: no input for %.0fs, stopping the stream", since_input
                )
            if since_input < STREAM_IDLE_ERROR_S:
                return PipelineState.DEGRADED_INPUT
            return PipelineState.ERROR

        if not since_output < since_load:  # nothing came out since the last (re)load
            error_after = 30 if self.spec.name == "comfyui" else 10
            if since_load < 2:
                return PipelineState.ONLINE
            if since_input > since_load:
                return PipelineState.DEGRADED_INPUT
            if since_load < error_after:
                return PipelineState.DEGRADED_INFERENCE
            return PipelineState.ERROR

        if since_output > since_input + 1 and since_output > OUTPUT_STALL_S:
            return PipelineState.ERROR
        recent_error = (inference.last_error_time or 0) > now - 15
        recent_restart = (inference.last_restart_time or 0) > now - 60
        if recent_error or recent_restart:
            return PipelineState.DEGRADED_INFERENCE
        if since_input > 2 or inputs.fps < 15:
            return PipelineState.DEGRADED_INPUT
        if since_output > 2 or inference.fps < min(10, 0.8 * inputs.fps):
            return PipelineState.DEGRADED_INFERENCE
        return PipelineState.ONLINE
