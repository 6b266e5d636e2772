"""Pipeline status of the ai-runner v0.14.1 offline double.

The field names and JSON shape are ai-runner's, because they travel in the "status" events
a client reads from the events channel (times in epoch milliseconds).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time

from pydantic import BaseModel, Field, field_serializer

logger = logging.getLogger(__name__)


def timestamp_to_ms(value: float | None) -> int | None:
    return int(value * 1000) if value is not None else None


def params_hash(params: dict) -> str:
    return hashlib.md5(json.dumps(params, sort_keys=True).encode()).hexdigest()


class PipelineState:
    """The infer process's states; /health maps them to LOADING, IDLE, OK or ERROR."""

    LOADING = "LOADING"
    OFFLINE = "OFFLINE"
    ONLINE = "ONLINE"
    DEGRADED_INPUT = "DEGRADED_INPUT"
    DEGRADED_INFERENCE = "DEGRADED_INFERENCE"
    ERROR = "ERROR"


def health_of(state: str) -> str:
    """ai-runner's mapping from pipeline state to /health status."""
    if state == PipelineState.LOADING:
        return "LOADING"
    if state == PipelineState.OFFLINE:
        return "IDLE"
    if state == PipelineState.ERROR:
        return "ERROR"
    return "OK"


class InputStatus(BaseModel):
    last_input_time: float | None = None
    fps: float = 0.0

    @field_serializer("last_input_time")
    def _ms(self, value: float | None) -> int | None:
        return timestamp_to_ms(value)


class InferenceStatus(BaseModel):
    last_output_time: float | None = None
    fps: float = 0.0
    last_params_update_time: float | None = None
    last_params: dict | None = None
    last_params_hash: str | None = None
    last_error_time: float | None = None
    last_error: str | None = None
    last_restart_time: float | None = None
    last_restart_logs: list[str] | None = None
    restart_count: int = 0

    @field_serializer(
        "last_output_time", "last_params_update_time", "last_error_time", "last_restart_time"
    )
    def _ms(self, value: float | None) -> int | None:
        return timestamp_to_ms(value)


class PipelineStatus(BaseModel):
    type: str = "status"
    pipeline: str
    start_time: float
    state: str = PipelineState.OFFLINE
    last_state_update_time: float | None = None
    input_status: InputStatus = Field(default_factory=InputStatus)
    inference_status: InferenceStatus = Field(default_factory=InferenceStatus)

    def update_state(self, state: str) -> None:
        if state == self.state:
            return
        logger.info("ai-runner double: pipeline state %s -> %s", self.state, state)
        self.state = state
        self.last_state_update_time = time.time()

    def update_params(self, params: dict, touch_time: bool = True) -> None:
        self.inference_status.last_params = params
        self.inference_status.last_params_hash = params_hash(params)
        if touch_time:
            self.inference_status.last_params_update_time = time.time()

    @field_serializer("start_time", "last_state_update_time")
    def _ms(self, value: float | None) -> int | None:
        return timestamp_to_ms(value)
