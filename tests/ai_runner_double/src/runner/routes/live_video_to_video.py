"""POST /live-video-to-video of the ai-runner v0.14.1 offline double.

The request is checked as ai-runner checks it (body model, AUTH_TOKEN bearer, model_id),
then the pipeline is called to start the stream (synchronously, as upstream). Errors are
answered as ai-runner answers them: an InferenceError with 400 and its message, a ValueError
with 400, anything else with 500 (both with a generic message; the log has the details).
"""

import logging
import os
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from runner.dependencies import get_pipeline
from runner.pipelines.base import Pipeline
from runner.routes.utils import HTTPError, LiveVideoToVideoResponse, http_error
from runner.utils.errors import InferenceError

router = APIRouter()
logger = logging.getLogger(__name__)
_optional_bearer = HTTPBearer(auto_error=False)


class LiveVideoToVideoParams(BaseModel):
    subscribe_url: str = Field(..., description="Trickle URL of the input stream.")
    publish_url: str = Field(..., description="Trickle URL for the output stream.")
    control_url: str = Field(default="", description="Trickle URL of parameter updates.")
    events_url: str = Field(default="", description="Trickle URL for status and log events.")
    model_id: str = Field(default="", description="Live pipeline name; must match the runner's.")
    params: dict = Field(default={}, description="Parameters for the stream.")
    gateway_request_id: str = Field(default="", description="Gateway request ID (for logs).")
    manifest_id: str = Field(default="", description="Orchestrator manifest ID (for logs).")
    stream_id: str = Field(default="", description="Stream ID (for logs).")


RESPONSES: dict = {
    status.HTTP_400_BAD_REQUEST: {"model": HTTPError},
    status.HTTP_401_UNAUTHORIZED: {"model": HTTPError},
    status.HTTP_500_INTERNAL_SERVER_ERROR: {"model": HTTPError},
}
_GENERIC_ERROR = "live-video-to-video pipeline error."


@router.post(
    "/live-video-to-video",
    response_model=LiveVideoToVideoResponse,
    responses=RESPONSES,
    operation_id="genLiveVideoToVideo",
    summary="Live Video To Video (ai-runner offline double)",
    tags=["generate"],
)
@router.post(
    "/live-video-to-video/",
    response_model=LiveVideoToVideoResponse,
    responses=RESPONSES,
    include_in_schema=False,
)
async def live_video_to_video(
    params: LiveVideoToVideoParams,
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
):
    auth_token = os.environ.get("AUTH_TOKEN")
    if auth_token and (token is None or token.credentials != auth_token):
        return JSONResponse(
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
            content=http_error("Invalid bearer token."),
        )

    if params.model_id and params.model_id != pipeline.model_id:
        return JSONResponse(
            status_code=status.HTTP_400_BAD_REQUEST,
            content=http_error(
                f"pipeline configured with {pipeline.model_id} but called with {params.model_id}."
            ),
        )

    try:
        pipeline(**params.model_dump(), request_id=params.gateway_request_id)
    except Exception as error:
        logger.exception("ai-runner double: live-video-to-video call failed")
        return _error_response(error)

    # As upstream: the orchestrator sets these, the runner returns them empty.
    return {"publish_url": "", "subscribe_url": "", "control_url": ""}


def _error_response(error: Exception) -> JSONResponse:
    if isinstance(error, InferenceError):
        code, message = status.HTTP_400_BAD_REQUEST, f"{error}."
    elif isinstance(error, ValueError):
        code, message = status.HTTP_400_BAD_REQUEST, _GENERIC_ERROR
    elif "out of memory" in str(error).lower():
        code, message = status.HTTP_500_INTERNAL_SERVER_ERROR, "Out of memory."
    else:
        code, message = status.HTTP_500_INTERNAL_SERVER_ERROR, _GENERIC_ERROR
    return JSONResponse(status_code=code, content=http_error(message))
