"""GET /health of the ai-runner v0.14.1 offline double."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from runner.dependencies import get_pipeline
from runner.pipelines.base import HealthCheck, Pipeline
from runner.routes.utils import http_error

router = APIRouter()
logger = logging.getLogger(__name__)


@router.get("/health", operation_id="health", response_model=HealthCheck)
@router.get("/health/", response_model=HealthCheck, include_in_schema=False)
def health(pipeline: Annotated[Pipeline, Depends(get_pipeline)]) -> HealthCheck | JSONResponse:
    try:
        return pipeline.get_health()
    except Exception as error:  # any failure becomes a 500, as in ai-runner
        logger.error("ai-runner double: get_health failed: %s", error)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content=http_error(f"ai-runner double could not read the pipeline health: {error}"),
        )
