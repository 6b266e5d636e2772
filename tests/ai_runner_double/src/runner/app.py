"""HTTP app and entry point of the ai-runner v0.14.1 offline double.

create_app and start_app behave as ai-runner's: start_app(PipelineSpec) prepares models
(PREPARE_MODELS=1 or --prepare-models) or wraps the spec in LiveVideoToVideoPipeline
and serves it with uvicorn. Importing this module stays light: torch, diffusers and
transformers are imported only when a live pipeline is about to be served.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from runner.double_logging import configure_logging
from runner.live.double_runtime.process import PROCESS_NAME_PREFIX
from runner.live.pipelines import PipelineSpec, builtin_pipeline_spec
from runner.live.pipelines.loader import load_pipeline_class
from runner.pipelines.base import Pipeline
from runner.routes import hardware, health, version

logger = logging.getLogger(__name__)

# Batch pipelines ai-runner can build from PIPELINE/MODEL_ID; the double has none of them.
_REAL_BATCH_PIPELINES = {
    "text-to-image",
    "image-to-image",
    "image-to-video",
    "audio-to-text",
    "frame-interpolation",
    "upscale",
    "segment-anything-2",
    "llm",
    "image-to-text",
    "text-to-speech",
}
_METRICS_BODY = "# ai-runner offline double (v0.14.1): metrics are not collected\n"


def _pipeline_from_environment() -> Pipeline | None:
    pipeline_name = os.getenv("PIPELINE", "")
    model_id = os.getenv("MODEL_ID", "")
    if not pipeline_name or not model_id:
        return None
    if pipeline_name == "live-video-to-video":
        spec = builtin_pipeline_spec(model_id)
        if spec is None:
            raise OSError(f"Live pipeline {model_id} not found (ai-runner double)")
        from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

        return LiveVideoToVideoPipeline(spec)
    if pipeline_name in _REAL_BATCH_PIPELINES:
        raise NotImplementedError(
            f"ai-runner double: the built-in {pipeline_name} pipeline exists only in the real "
            "ai-runner; pass your own Pipeline instance to create_app/start_app instead."
        )
    raise OSError(f"{pipeline_name} is not a valid pipeline for model {model_id}")


def _mount_pipeline(app: FastAPI, pipeline: Pipeline) -> None:
    app.pipeline = pipeline
    app.include_router(health.router)
    app.include_router(hardware.router)
    app.include_router(version.router)
    if pipeline.router is None:
        raise NotImplementedError(f"{type(pipeline).__name__} does not have a router defined")
    app.include_router(pipeline.router)


def _stop_live_pipeline_process(pipeline: Pipeline) -> None:
    # Here rather than only at exit: uvicorn re-raises SIGTERM after shutdown, which skips
    # atexit, and the pipeline's stop() must still run once.
    live_module = sys.modules.get("runner.pipelines.live_video_to_video")
    if live_module is not None and isinstance(pipeline, live_module.LiveVideoToVideoPipeline):
        pipeline.stop_process()


def prepare_models(pipeline_spec: PipelineSpec) -> None:
    """Run the live pipeline class's prepare_models() (downloads, compilation...)."""
    logger.info("ai-runner double: preparing models for pipeline %s", pipeline_spec.name)
    load_pipeline_class(pipeline_spec.pipeline_cls).prepare_models()
    logger.info("ai-runner double: model preparation complete")


def create_app(pipeline: Pipeline | None = None) -> FastAPI:
    """A FastAPI app serving `pipeline` (or the one named by PIPELINE and MODEL_ID)."""
    logger.info("ai-runner double: runner version %s", os.getenv("VERSION", "undefined"))
    if pipeline is None:
        pipeline = _pipeline_from_environment()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if pipeline is None:
            raise OSError(
                "Pipeline must be provided or set through the PIPELINE and MODEL_ID "
                "environment variables (ai-runner double)"
            )
        _mount_pipeline(app, pipeline)
        logger.info(
            "ai-runner double: started with pipeline=%s model_id=%s",
            type(pipeline).__name__,
            pipeline.model_id,
        )
        yield
        logger.info("ai-runner double: shutting down")
        _stop_live_pipeline_process(pipeline)

    app = FastAPI(lifespan=lifespan)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(_METRICS_BODY)

    return app


def _is_double_pipeline_process() -> bool:
    # The name is set before spawn re-imports the main module (parent_process() is not yet).
    return multiprocessing.current_process().name.startswith(PROCESS_NAME_PREFIX)


def start_app(
    pipeline: Pipeline | PipelineSpec | None = None,
    host: str | None = None,
    port: int | None = None,
    **uvicorn_kwargs,
) -> None:
    """Serve a pipeline, or only prepare its models when asked to.

    With a PipelineSpec: PREPARE_MODELS=1 or --prepare-models runs prepare_models() and
    returns; otherwise the spec is wrapped in LiveVideoToVideoPipeline (which imports
    torch, diffusers and transformers, as ai-runner does). Serves on host or $HOST or
    0.0.0.0, port or $PORT or 8000.
    """
    if _is_double_pipeline_process():
        # Spawn re-imports the main module in the pipeline process: an unguarded
        # start_app() call there must not serve (upstream's pipeline process never runs it).
        return
    configure_logging("api")
    if isinstance(pipeline, PipelineSpec):
        if os.getenv("PREPARE_MODELS") == "1" or "--prepare-models" in sys.argv:
            prepare_models(pipeline)
            return
        from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

        pipeline = LiveVideoToVideoPipeline(pipeline)

    import uvicorn

    host = host or os.getenv("HOST", "0.0.0.0")
    port = port or int(os.getenv("PORT", "8000"))
    uvicorn.run(create_app(pipeline=pipeline), host=host, port=port, **uvicorn_kwargs)
