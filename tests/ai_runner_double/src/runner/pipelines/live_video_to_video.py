"""LiveVideoToVideoPipeline of the ai-runner v0.14.1 offline double.

ai-runner serves a live pipeline through an infer process that runs the pipeline in a
spawned process and moves frames over trickle. The double spawns only the pipeline
process (see runner.live.readiness_process), reports its health the way ai-runner maps
it (LOADING while initializing, IDLE once ready since no stream runs, ERROR on failure)
and refuses to start streams.

Like ai-runner's module, importing this one imports torch, diffusers and transformers,
so a project that lacks one of them fails here just as it would on the real runner.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import multiprocessing
import os
from pathlib import Path

from fastapi import APIRouter

from runner.live.pipelines import PipelineSpec
from runner.live.readiness_process import (
    PROCESS_NAME_PREFIX,
    ReadinessState,
    run_pipeline_process,
)
from runner.pipelines.base import HealthCheck, Pipeline

logger = logging.getLogger(__name__)

LIVE_RUNTIME_PACKAGES = ("torch", "diffusers", "transformers")
_JOIN_TIMEOUT_S = 10.0
_KILL_TIMEOUT_S = 5.0


def _import_live_runtime_packages() -> None:
    for package in LIVE_RUNTIME_PACKAGES:
        try:
            importlib.import_module(package)
        except ImportError as error:
            raise ImportError(
                f"ai-runner double: cannot import '{package}', which the real ai-runner v0.14.1 "
                f"also imports to serve a live pipeline (torch, diffusers and transformers). "
                f"Add '{package}' to the project's dependencies.",
                name=package,
            ) from error


_import_live_runtime_packages()


def get_model_dir() -> Path:
    """$MODEL_DIR, or ~/.lpData/models when unset (as ai-runner)."""
    return Path(os.environ.get("MODEL_DIR", os.path.expanduser("~/.lpData/models")))


class LiveVideoToVideoPipeline(Pipeline):
    name: str = "live-video-to-video"

    def __init__(self, pipeline_spec: PipelineSpec):
        self.version = os.getenv("VERSION", "undefined")
        # The live pipeline's name doubles as the runner's model_id, as in ai-runner.
        self.model_id = pipeline_spec.name
        self.pipeline_spec = pipeline_spec
        self.model_dir = get_model_dir()
        logger.warning(
            "ai-runner double: serving %s with the OFFLINE DOUBLE of ai-runner v0.14.1; it "
            "initializes the pipeline but never starts streams (no trickle transport, no GPU "
            "isolation).",
            self.model_id,
        )
        self.process: multiprocessing.process.BaseProcess | None = None
        self._state: ReadinessState | None = None
        self._error_at_stop: str | None = None
        self.start_process()

    def start_process(self) -> None:
        context = multiprocessing.get_context("spawn")
        state = ReadinessState.create(context)
        self._state = state
        self.process = context.Process(
            target=run_pipeline_process,
            args=(self.pipeline_spec.model_dump_json(), str(self.model_dir), state, os.getpid()),
            name=f"{PROCESS_NAME_PREFIX}-{self.model_id}",
            # Daemonic so an interpreter exit never waits on it; atexit stops it cleanly first.
            daemon=True,
        )
        self.process.start()
        atexit.register(self.stop_process)

    def stop_process(self) -> None:
        """Ask the pipeline process to call stop() and exit; terminate it if it does not."""
        atexit.unregister(self.stop_process)
        process, self.process = self.process, None
        state, self._state = self._state, None
        if process is None or state is None:
            return
        state.stop_requested.set()
        process.join(_JOIN_TIMEOUT_S)
        if process.is_alive():
            logger.warning("ai-runner double: pipeline process did not stop, terminating it")
            process.terminate()
            process.join(_KILL_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join(_KILL_TIMEOUT_S)
        self._error_at_stop = state.last_error()
        # Dropping the shared state now frees its semaphores, even if SIGTERM later skips atexit.
        process.close()
        logger.info("ai-runner double: pipeline process stopped")

    close = stop_process

    def __call__(self, **kwargs):
        raise NotImplementedError(
            "ai-runner double: the offline double of ai-runner v0.14.1 cannot start streams "
            "(it has no trickle transport). Run the pipeline on the real ai-runner to stream."
        )

    def get_health(self) -> HealthCheck:
        if self._state is None or self._state.failed.is_set():
            return HealthCheck(status="ERROR")
        if self.process is None or not self.process.is_alive():
            logger.error("ai-runner double: pipeline process is not running")
            return HealthCheck(status="ERROR")
        if self._state.ready.is_set():
            return HealthCheck(status="IDLE")
        return HealthCheck(status="LOADING")

    @property
    def last_error(self) -> str | None:
        """Why initialization failed, as reported by the pipeline process (double only)."""
        if self._state is None:
            return self._error_at_stop
        return self._state.last_error()

    def __str__(self) -> str:
        return f"LiveVideoToVideoPipeline (ai-runner double) model_id={self.model_id}"

    @property
    def router(self) -> APIRouter:
        from runner.routes import live_video_to_video

        return live_video_to_video.router
