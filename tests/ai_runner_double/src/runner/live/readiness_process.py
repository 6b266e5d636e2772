"""The pipeline process of the ai-runner v0.14.1 offline double.

ai-runner runs the pipeline in a spawned process that initializes it and then feeds it
frames and parameter updates received over trickle. The double's process does only the
first part: load, `initialize(**initial_params)` (retried once with no params, as
ai-runner does), report readiness, wait to be told to stop, then `stop()`. It never
calls put_video_frame, get_processed_video_frame or update_params, sets no CUDA device
and is not restarted when it dies.

This module is the spawn target, so it must stay light: no torch import here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from multiprocessing.context import SpawnContext
from multiprocessing.sharedctypes import SynchronizedString
from multiprocessing.synchronize import Event

from runner.double_logging import configure_logging

from .pipelines import Pipeline, PipelineSpec
from .pipelines.loader import load_pipeline, parse_pipeline_params

logger = logging.getLogger(__name__)

PROCESS_NAME_PREFIX = "ai-runner-double-pipeline"
_ERROR_MESSAGE_BYTES = 4096
_STOP_POLL_S = 0.1
_MODEL_DIR_VARIABLES = ("MODEL_DIR", "HUGGINGFACE_HUB_CACHE", "DIFFUSERS_CACHE")


@dataclass
class ReadinessState:
    """What the pipeline process shares with the runner: set by the child, read by the parent."""

    ready: Event
    failed: Event
    stop_requested: Event
    error_message: SynchronizedString

    @classmethod
    def create(cls, context: SpawnContext) -> ReadinessState:
        return cls(
            ready=context.Event(),
            failed=context.Event(),
            stop_requested=context.Event(),
            error_message=context.Array("c", _ERROR_MESSAGE_BYTES),
        )

    def record_failure(self, message: str) -> None:
        # Keep one byte for the terminating NUL of the shared char array.
        self.error_message.value = message.encode()[: _ERROR_MESSAGE_BYTES - 1]
        self.failed.set()

    def last_error(self) -> str | None:
        message = self.error_message.value.decode(errors="replace")
        return message or None


def run_pipeline_process(
    spec_json: str, model_dir: str, state: ReadinessState, parent_pid: int
) -> None:
    """Entry point of the spawned process."""
    for variable in _MODEL_DIR_VARIABLES:
        os.environ.setdefault(variable, model_dir)
    configure_logging("pipeline")
    # Ctrl-C or terminate() asks for a clean stop() instead of killing the loop mid-await.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: state.stop_requested.set())
    spec = PipelineSpec.model_validate_json(spec_json)
    asyncio.run(_initialize_then_idle(spec, state, parent_pid))


async def _initialize_then_idle(spec: PipelineSpec, state: ReadinessState, parent_pid: int):
    try:
        pipeline = await initialize_pipeline(spec)
    except Exception as error:  # any failure is reported as ERROR health
        state.record_failure(f"{type(error).__name__}: {error}")
        logger.error("pipeline %s failed to initialize; the double reports ERROR", spec.name)
        return

    state.ready.set()
    logger.info("pipeline %s initialized; the double starts no stream, idling", spec.name)
    try:
        await _wait_for_stop(state, parent_pid)
    finally:
        try:
            await pipeline.stop()
        except Exception:
            logger.exception("pipeline %s raised in stop()", spec.name)


async def initialize_pipeline(spec: PipelineSpec) -> Pipeline:
    """Validate params, build and initialize; on failure retry once with no params."""
    params = spec.initial_params
    try:
        return await _build_and_initialize(spec, params)
    except Exception:
        logger.exception("loading pipeline %s with %s failed", spec.name, params)
        if not params:
            raise
    logger.info("retrying pipeline %s with default params", spec.name)
    return await _build_and_initialize(spec, {})


async def _build_and_initialize(spec: PipelineSpec, params: dict) -> Pipeline:
    parse_pipeline_params(spec, params)
    pipeline = load_pipeline(spec)
    await pipeline.initialize(**params)
    return pipeline


async def _wait_for_stop(state: ReadinessState, parent_pid: int) -> None:
    # Also stop when the runner died without asking, so no orphan keeps models loaded.
    # Polling: a multiprocessing Event and the parent pid cannot wake an asyncio.Event.
    while not state.stop_requested.is_set() and os.getppid() == parent_pid:  # noqa: ASYNC110
        await asyncio.sleep(_STOP_POLL_S)
