"""Runner-side pipeline base of the ai-runner v0.14.1 offline double.

Same names and contract as ai-runner's runner.pipelines.base: a pipeline the HTTP app
serves, with a name, a model_id, a health check and a FastAPI router.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from fastapi import APIRouter


class HealthCheck(BaseModel):
    status: Literal["LOADING", "OK", "ERROR", "IDLE"] = Field(
        ..., description="Health of the pipeline."
    )


class Version(BaseModel):
    pipeline: str
    model_id: str
    version: str = Field(..., description="Runner version.")


class Pipeline(ABC):
    """A pipeline served by the runner app; subclasses set `self.model_id` in __init__."""

    model_id: str

    @property
    @abstractmethod
    def name(self) -> str:
        """Pipeline type used in routes and /version, e.g. "live-video-to-video"."""

    @abstractmethod
    def __init__(self, model_id: str, model_dir: str):
        raise NotImplementedError("ai-runner double: a Pipeline subclass must define __init__")

    @abstractmethod
    def __call__(self, **kwargs) -> Any:
        raise NotImplementedError("ai-runner double: a Pipeline subclass must define __call__")

    def get_health(self) -> HealthCheck:
        return HealthCheck(status="OK")

    @property
    def router(self) -> APIRouter | None:
        """Routes of this pipeline; None (the default) makes create_app refuse to start."""
        return None
