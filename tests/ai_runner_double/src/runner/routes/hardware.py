"""GET /hardware/info and /hardware/stats of the ai-runner v0.14.1 offline double.

The double does not query GPUs (ai-runner uses NVML), so it always reports none rather
than inventing numbers. The response shapes are ai-runner's.
"""

import os

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter()


class HardwareInformation(BaseModel):
    pipeline: str
    model_id: str
    gpu_info: dict[int, dict]


class HardwareStats(BaseModel):
    pipeline: str
    model_id: str
    gpu_stats: dict[int, dict]


def _pipeline_and_model_id(request: Request) -> tuple[str, str]:
    pipeline = request.app.pipeline
    return (
        os.environ.get("PIPELINE", pipeline.name),
        os.environ.get("MODEL_ID", pipeline.model_id),
    )


@router.get("/hardware/info", operation_id="hardware_info", response_model=HardwareInformation)
@router.get("/hardware/info/", response_model=HardwareInformation, include_in_schema=False)
async def hardware_info(request: Request) -> HardwareInformation:
    pipeline_name, model_id = _pipeline_and_model_id(request)
    return HardwareInformation(pipeline=pipeline_name, model_id=model_id, gpu_info={})


@router.get("/hardware/stats", operation_id="hardware_stats", response_model=HardwareStats)
@router.get("/hardware/stats/", response_model=HardwareStats, include_in_schema=False)
async def hardware_stats(request: Request) -> HardwareStats:
    pipeline_name, model_id = _pipeline_and_model_id(request)
    return HardwareStats(pipeline=pipeline_name, model_id=model_id, gpu_stats={})
