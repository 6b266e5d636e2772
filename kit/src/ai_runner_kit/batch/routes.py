"""An image-to-image HTTP API for a batch pipeline: an image in, the pipeline's image out, as a
PNG (a multipart upload, the params as form fields) or as base64 JSON (the params as JSON
fields). The params class says what a request can set; the form's fields, their checks and the
OpenAPI schema all come from it.

    @property
    def router(self) -> APIRouter:
        return image_to_image_router(self, "/stylize-image", EffectParams, summary="Style an image")

Handlers never block the event loop: decoding, inference and encoding run on worker threads, so
/health answers while a request is being processed. Memory stays bounded however many requests
arrive and however large they are: guarded_route checks each body's size and takes a turn
before the body is read (413 over `max_body_bytes`; 503 with Retry-After past `max_active`
working and `max_waiting` waiting). Images are checked before they are decoded (images.py).
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations as objects,
# and the JSON route's request model is made here, at run time.
import asyncio
import base64
import inspect
import time
from collections.abc import Callable
from typing import Annotated, Any

import torch
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field, create_model

from ai_runner_kit.batch import images
from ai_runner_kit.batch.http_guard import guarded_route, http_error

# A base64 image at the upload limit (26.7 MiB), and the JSON or form around it.
MAX_BODY_BYTES = 28 * 1024 * 1024
# Each active request holds its image several times over (about 200 MB at 2048x2048 on a CPU),
# so this bounds peak memory. The model runs one request at a time anyway; the others decode
# and encode meanwhile.
MAX_ACTIVE = 4
MAX_WAITING = 12
LIMITS = (
    f"Images: PNG, JPEG or WebP, at most {images.MAX_UPLOAD_BYTES // 2**20} MiB, "
    f"{images.MAX_SIDE} pixels a side and {images.MAX_PIXELS:,} pixels in all. "
    "EXIF orientation is applied, transparency is composited on black, an animation gives its "
    "first frame."
)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The image is empty, truncated or corrupt."},
    413: {"description": "The request, the upload or the image is too large."},
    415: {"description": "The upload is not an image this pipeline reads."},
    422: {"description": "A parameter is missing, unknown or out of range; the body names it."},
    503: {"description": "Busy (retry after Retry-After), loading (retry) or failed to load."},
}

# (1, H, W, 3) float frames and the params -> the same; blocking, run on a worker thread.
ImagePipeline = Callable[[torch.Tensor, Any], torch.Tensor]


class ImageResponse(BaseModel):
    image: str = Field(description="The pipeline's image: a PNG, base64-encoded.")
    width: int
    height: int
    inference_ms: float = Field(description="Time spent in the model, queueing included.")


def image_to_image_router(
    pipeline: ImagePipeline,
    path: str,
    params_class: type[BaseModel],
    *,
    summary: str = "Run the pipeline on an image",
    max_active: int = MAX_ACTIVE,
    max_waiting: int = MAX_WAITING,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> APIRouter:
    """`POST path` (multipart: `image` and the params as form fields; answers a PNG) and
    `POST path/json` (`image` base64 and the params; answers ImageResponse)."""
    router = APIRouter(route_class=guarded_route(max_active, max_waiting, max_body_bytes))

    async def run(data: bytes, params: BaseModel) -> tuple[bytes, int, int, float]:
        try:
            frames = await asyncio.to_thread(images.decode, data)
        except images.ImageRejected as rejected:
            raise http_error(rejected.status, str(rejected)) from rejected
        started = time.perf_counter()
        try:
            result = await asyncio.to_thread(pipeline, frames, params)
        except RuntimeError as error:  # ModelNotReady, or the device failed (out of memory...)
            raise http_error(503, str(error)) from error
        inference_ms = 1000.0 * (time.perf_counter() - started)
        png = await asyncio.to_thread(images.encode_png, result)
        return png, frames.shape[2], frames.shape[1], inference_ms

    async def upload(request: Request, image: UploadFile, **fields: Any) -> Response:
        unknown = sorted(set((await request.form()).keys()) - {"image", *fields})
        if unknown:
            raise http_error(422, f"unknown form fields: {', '.join(unknown)}")
        data = await image.read(images.MAX_UPLOAD_BYTES + 1)
        png, _, _, inference_ms = await run(data, params_class(**fields))
        headers = {"X-Inference-Ms": f"{inference_ms:.1f}"}
        return Response(png, media_type="image/png", headers=headers)

    # FastAPI reads a handler's parameters from its signature: one form field per param, with
    # the params class's type, checks, default and description, so that a bad value is a 422
    # naming it and the OpenAPI schema shows each field.
    upload.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
            ),
            inspect.Parameter(
                "image",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[UploadFile, File(description="The image. " + LIMITS)],
            ),
            *(form_parameter(name, field) for name, field in params_class.model_fields.items()),
        ]
    )
    router.post(
        path,
        summary=summary + "; the answer is a PNG",
        description=LIMITS,
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "The image."}, **ERRORS},
    )(upload)

    json_request = create_model(  # the params, and the image as base64
        f"{params_class.__name__}Request",
        __base__=params_class,
        image=(str, Field(description="The image, base64-encoded. " + LIMITS)),
    )

    async def as_json(request: json_request) -> ImageResponse:  # type: ignore[valid-type]
        try:
            data = base64.b64decode(request.image, validate=True)
        except ValueError as error:  # binascii.Error, or a character that is not ASCII
            raise http_error(422, f"image is not valid base64: {error}") from error
        params = params_class(**request.model_dump(exclude={"image"}))
        png, width, height, inference_ms = await run(data, params)
        return ImageResponse(
            image=base64.b64encode(png).decode(),
            width=width,
            height=height,
            inference_ms=inference_ms,
        )

    router.post(
        path + "/json",
        summary=summary + "; the answer is base64 JSON",
        description=LIMITS,
        responses=ERRORS,
    )(as_json)
    return router


def form_parameter(name: str, field: Any) -> inspect.Parameter:
    """A keyword parameter that FastAPI reads as a form field, checked as the params class
    checks it (`field.metadata` holds its constraints: ge, le, allow_inf_nan...)."""
    form = Form(description=field.description)
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[(field.annotation, *field.metadata, form)],
        default=field.default,
    )
