"""The pipeline process of the ai-runner v0.14.1 offline double (child side).

Reproduces what ai-runner's pipeline process does with a user's Pipeline, all on one
asyncio loop:

1. validate the initial params with the spec's params class (the import guard), build the
   pipeline with `cls()` and `await initialize(**initial_params)`; on failure retry once
   with no params; report ready;
2. input loop: each frame from the input queue goes to `put_video_frame(frame, request_id)`
   (moved to CUDA first when torch sees a GPU) or, while a reload runs and the params'
   `show_reloading_frame` is true, is answered with a loading frame instead;
3. output loop: `get_processed_video_frame()` runs concurrently with put and update, and
   each output goes to the output queue (dropped when it is full);
4. param loop: drains to the latest update; a `{"request_id", "manifest_id", "stream_id"}`
   message tags the next stream; each update is validated, a change of output resolution
   within one stream is refused, then `update_params(**params)` is awaited; a Task it
   returns marks the process not ready (LOADING) until it finishes;
5. `stop()` once, when asked to stop.

Exceptions in these calls are logged and reported on the error queue (the runner turns
them into "error" events); the loops go on. Differences: an output that is not a
`VideoOutput` of shape (1, H, W, 3), floating point, at the output resolution is dropped
and reported (ai-runner would encode it anyway, or crash its encoder); no
CUDA_VISIBLE_DEVICES. A failed reload ends the process, which the monitor then restarts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import time
from typing import Any

from runner.double_logging import configure_logging

from ..pipelines import BaseParams, Pipeline, PipelineSpec
from ..pipelines.loader import load_pipeline, parse_pipeline_params
from ..trickle import AudioOutput, VideoFrame, VideoOutput
from .loading_frame import LoadingFrames
from .process import ProcessChannels, try_put

logger = logging.getLogger(__name__)

_POLL_S = 0.1
_AFTER_ERROR_S = 0.05
_MODEL_DIR_VARIABLES = ("MODEL_DIR", "HUGGINGFACE_HUB_CACHE", "DIFFUSERS_CACHE")
STREAM_TAG_KEYS = ("request_id", "manifest_id", "stream_id")


def run_pipeline_process(
    spec_json: str, model_dir: str, channels: ProcessChannels, parent_pid: int
) -> None:
    """Entry point of the spawned process."""
    for variable in _MODEL_DIR_VARIABLES:
        os.environ.setdefault(variable, model_dir)
    configure_logging("pipeline")
    # Ctrl-C or terminate() asks for a clean stop() instead of killing the loop mid-await.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: channels.done.set())
    # Loaded before the pipeline, as upstream's pipeline process does: else the first frame
    # (a torch tensor) would import it mid-stream and stall the input for a second or two.
    import torch  # noqa: F401

    spec = PipelineSpec.model_validate_json(spec_json)
    try:
        asyncio.run(PipelineDriver(spec, channels, parent_pid).run())
    except Exception:
        logger.exception("ai-runner double: the pipeline process failed")


def is_stream_tag(params: Any) -> bool:
    return isinstance(params, dict) and all(key in params for key in STREAM_TAG_KEYS)


class PipelineDriver:
    """Drives one Pipeline instance for the lifetime of the process."""

    def __init__(self, spec: PipelineSpec, channels: ProcessChannels, parent_pid: int):
        self.spec = spec
        self.channels = channels
        self.parent_pid = parent_pid
        self.request_id = ""
        self.last_params: BaseParams = BaseParams()
        self.last_params_request_id = ""
        self.loading = LoadingFrames()
        self._use_cuda: bool | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def run(self) -> None:
        if self.is_done():
            return  # stopped while starting (e.g. a restart overtaken by shutdown)
        try:
            pipeline = await self.initialize()
        except Exception as error:
            self.channels.record_init_failure(f"{type(error).__name__}: {error}")
            logger.error(
                "pipeline %s failed to initialize; the double reports ERROR", self.spec.name
            )
            return

        tasks = [
            asyncio.create_task(self.input_loop(pipeline)),
            asyncio.create_task(self.output_loop(pipeline)),
            asyncio.create_task(self.param_loop(pipeline)),
            asyncio.create_task(self.wait_for_stop()),
        ]
        self.channels.set_ready(True)
        logger.info(
            "pipeline %s initialized (ai-runner double); waiting for frames", self.spec.name
        )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loading.end()
            try:
                await pipeline.stop()
            except Exception:
                logger.exception("pipeline %s raised in stop()", self.spec.name)
        logger.info("ai-runner double: pipeline loops finished")

    async def initialize(self) -> Pipeline:
        """Validate params, build and initialize; on failure retry once with no params."""
        params = self.spec.initial_params
        try:
            return await self._build_and_initialize(params)
        except Exception as error:
            self.report_error("Error loading pipeline", error)
            if not params:
                raise
        logger.info("retrying pipeline %s with default params", self.spec.name)
        try:
            return await self._build_and_initialize({})
        except Exception as error:
            self.report_error("Error loading pipeline with default params", error)
            raise

    async def _build_and_initialize(self, params: dict) -> Pipeline:
        self.last_params = parse_pipeline_params(self.spec, params)
        self.last_params_request_id = self.request_id
        pipeline = load_pipeline(self.spec)
        await pipeline.initialize(**params)
        return pipeline

    async def wait_for_stop(self) -> None:
        # Also stop when the runner died without asking, so no orphan keeps models loaded.
        # Polling: a multiprocessing Event and the parent pid cannot wake an asyncio.Event.
        while not self.is_done():
            if os.getppid() != self.parent_pid:
                logger.error("ai-runner double: the runner process died; stopping the pipeline")
                self.channels.done.set()
                return
            await asyncio.sleep(_POLL_S)

    def is_done(self) -> bool:
        return self.channels.done.is_set()

    def is_loading(self) -> bool:
        return not self.channels.ready.is_set() or self.is_done()

    # --- the three loops ----------------------------------------------------------------

    async def input_loop(self, pipeline: Pipeline) -> None:
        while not self.is_done():
            frame = await asyncio.to_thread(_get, self.channels.input_queue, _POLL_S)
            if not isinstance(frame, VideoFrame):
                continue  # nothing yet (the double sends no audio)
            try:
                frame.log_timestamps["pre_process_frame"] = time.time()
                frame = self._on_device(frame)
                if self.is_loading() and self.last_params.show_reloading_frame:
                    self.send_loading_frame(frame)
                else:
                    await pipeline.put_video_frame(frame, self.request_id)
            except Exception as error:
                self.report_error("Error processing input frame", error)

    async def output_loop(self, pipeline: Pipeline) -> None:
        while not self.is_done():
            try:
                output = await pipeline.get_processed_video_frame()
                if not self.is_valid_output(output):
                    await asyncio.sleep(_AFTER_ERROR_S)  # a broken pipeline must not spin
                    continue
                if isinstance(output, VideoOutput):
                    self.loading.remember(output.tensor)
                    if self.loading.is_active():
                        if self.is_loading():
                            continue  # outputs during a reload would fight the overlay
                        self.loading.end()
                    if output.tensor.is_cuda:
                        output = output.replace_tensor(output.tensor.cpu())
                    output.log_timestamps["post_process_frame"] = time.time()
                try_put(self.channels.output_queue, output)
            except Exception as error:
                self.report_error("Error processing output frame", error)
                await asyncio.sleep(_AFTER_ERROR_S)

    async def param_loop(self, pipeline: Pipeline) -> None:
        while not self.is_done():
            reload_task = None
            try:
                params = await self.latest_params()
                if params is None:
                    continue
                logger.info("ai-runner double: updating pipeline params to %s", params)
                new_params = parse_pipeline_params(self.spec, params)
                self.refuse_resolution_change(new_params)
                reload_task = await pipeline.update_params(**params)
                self.last_params = new_params
                self.last_params_request_id = self.request_id
            except Exception as error:
                self.report_error("Error updating params", error)
                continue
            if reload_task is None:
                continue
            try:
                self.channels.set_ready(False)
                await reload_task
                self.channels.set_ready(True)
            except Exception as error:
                # The process ends; the monitor sees it dead and restarts it, as upstream.
                self.report_error("Error reloading pipeline", error)
                self.channels.done.set()

    # --- helpers ------------------------------------------------------------------------

    async def latest_params(self) -> dict | None:
        """The newest queued update (None if none came within the poll interval)."""
        params = await asyncio.to_thread(_get, self.channels.param_queue, _POLL_S)
        if params is None:
            return None
        if self._take_stream_tag(params):
            params = None
        while True:
            newer = _get_nowait(self.channels.param_queue)
            if newer is None:
                return params
            if not self._take_stream_tag(newer):
                params = newer

    def _take_stream_tag(self, params: Any) -> bool:
        if not is_stream_tag(params):
            return False
        logger.info(
            "ai-runner double: now serving request_id=%s manifest_id=%s stream_id=%s",
            params["request_id"],
            params["manifest_id"],
            params["stream_id"],
        )
        self.request_id = params["request_id"]
        return True

    def refuse_resolution_change(self, new_params: BaseParams) -> None:
        if self.last_params_request_id != self.request_id:
            return  # a new stream may pick any resolution
        current = self.last_params.get_output_resolution()
        requested = new_params.get_output_resolution()
        if current != requested:
            # Word for word as upstream: clients may match this text in "error" events.
            raise ValueError(
                f"Cannot change output resolution mid-stream (Current resolution: {current} "
                f"requested resolution: {requested}). Output resolution (e.g. upscalers) can "
                "only be configured when starting a new stream."
            )

    def is_valid_output(self, output: Any) -> bool:
        """Double-only check: outputs must be what the encoder expects (else dropped)."""
        if isinstance(output, AudioOutput):
            return True
        if not isinstance(output, VideoOutput):
            self.report_error(
                "Error processing output frame",
                TypeError(
                    f"get_processed_video_frame returned {type(output).__name__}, not a "
                    "VideoOutput (ai-runner double)"
                ),
            )
            return False
        width, height = self.last_params.get_output_resolution()
        tensor = output.tensor
        shape = tuple(getattr(tensor, "shape", ()))
        floating = bool(getattr(tensor, "is_floating_point", lambda: False)())
        if shape == (1, height, width, 3) and floating:
            return True
        self.report_error(
            "Error processing output frame",
            ValueError(
                f"output tensor has shape {shape} and dtype {getattr(tensor, 'dtype', None)}; "
                f"expected (1, {height}, {width}, 3) floating point in [0, 1] "
                "(ai-runner double: frame dropped)"
            ),
        )
        return False

    def send_loading_frame(self, frame: VideoFrame) -> None:
        if not self.loading.is_active():
            self.loading.begin()
        width, height = self.last_params.get_output_resolution()
        output = VideoOutput(
            frame.replace_tensor(self.loading.render(width, height)),
            self.request_id,
            is_loading_frame=True,
        )
        output.log_timestamps["post_process_frame"] = time.time()
        try_put(self.channels.output_queue, output)

    def _on_device(self, frame: VideoFrame) -> VideoFrame:
        if self._use_cuda is None:
            import torch

            self._use_cuda = torch.cuda.is_available()
        if self._use_cuda and not frame.tensor.is_cuda:
            return frame.replace_tensor(frame.tensor.cuda())
        return frame

    def report_error(self, message: str, error: BaseException | None = None) -> None:
        logger.error("ai-runner double: %s", message, exc_info=error)
        event = {
            "message": f"{message}: {error}" if error else message,
            "timestamp": time.time(),
        }
        try_put(self.channels.error_queue, event)


def _get(source: queue.Queue, timeout: float) -> Any | None:
    try:
        return source.get(timeout=timeout)
    except queue.Empty:
        return None


def _get_nowait(source: queue.Queue) -> Any | None:
    try:
        return source.get_nowait()
    except queue.Empty:
        return None
