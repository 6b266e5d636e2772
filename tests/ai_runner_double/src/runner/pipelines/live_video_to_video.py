"""LiveVideoToVideoPipeline of the ai-runner v0.14.1 offline double.

ai-runner serves a live pipeline through an infer process that runs the pipeline in a
spawned process and moves frames over trickle. The double runs the same work in two
processes: this one (the API, with the trickle streams and the health monitor on a
background loop, see runner.live.double_runtime.service) and the spawned pipeline process.
Calling the pipeline starts a stream as ai-runner does; get_health() maps the pipeline
state as ai-runner maps it (LOADING, IDLE with no stream, OK while streaming, ERROR).

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
from runner.pipelines.base import HealthCheck, Pipeline

logger = logging.getLogger(__name__)

LIVE_RUNTIME_PACKAGES = ("torch", "diffusers", "transformers")


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

try:
    import av  # noqa: F401 -- the streams decode and encode with it, as upstream's do
except ImportError as error:
    raise ImportError(
        "ai-runner double: cannot import 'av' (PyAV), which ai-runner's live runtime uses to "
        "decode and encode streams. Install ai-runner[realtime] (or add 'av')."
    ) from error

# After the check above, so a missing torch gets its message (the service imports torch and av).
from runner.live.double_runtime.service import LiveStreamService, StreamRequest  # noqa: E402


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
            "ai-runner double: serving %s with the OFFLINE DOUBLE of ai-runner v0.14.1 (not the "
            "real runner): trickle streams on the CPU, no GPU isolation.",
            self.model_id,
        )
        self._service: LiveStreamService | None = None
        self.start_process()

    def start_process(self) -> None:
        self._service = LiveStreamService(self.pipeline_spec, str(self.model_dir))
        self._service.start()
        atexit.register(self.stop_process)

    @property
    def process(self) -> multiprocessing.process.BaseProcess | None:
        """The spawned pipeline process (None once stopped)."""
        return self._service.process.process if self._service is not None else None

    def stop_process(self) -> None:
        """Stop the stream, then the pipeline process (which calls the pipeline's stop())."""
        atexit.unregister(self.stop_process)
        service = self._service
        if service is not None:
            service.close()

    close = stop_process

    def __call__(  # type: ignore[override]
        self,
        *,
        subscribe_url: str,
        publish_url: str,
        control_url: str,
        events_url: str,
        params: dict,
        request_id: str,
        manifest_id: str,
        stream_id: str,
        **kwargs,
    ) -> dict:
        """Start a stream (stopping the running one first); returns {} as ai-runner does."""
        if self._service is None:
            raise RuntimeError("Pipeline process not running")
        self._service.start_stream(
            StreamRequest(
                subscribe_url=subscribe_url,
                publish_url=publish_url,
                control_url=control_url,
                events_url=events_url,
                params=params,
                request_id=request_id or "",
                manifest_id=manifest_id or "",
                stream_id=stream_id or "",
            )
        )
        logger.info("ai-runner double: stream started")
        return {}

    def get_health(self) -> HealthCheck:
        if self._service is None:
            return HealthCheck(status="ERROR")
        return HealthCheck(status=self._service.health())

    @property
    def last_error(self) -> str | None:
        """Why initialization failed, as reported by the pipeline process (double only)."""
        return self._service.process.last_error if self._service is not None else None

    def __str__(self) -> str:
        return f"LiveVideoToVideoPipeline (ai-runner double) model_id={self.model_id}"

    @property
    def router(self) -> APIRouter:
        from runner.routes import live_video_to_video

        return live_video_to_video.router
