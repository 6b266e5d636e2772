"""Live pipeline contract of the ai-runner v0.14.1 offline double.

Pipeline and BaseParams have the same names, signatures, fields and ranges as
ai-runner's runner.live.pipelines.interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from asyncio import Task

from pydantic import BaseModel, Field

from ..trickle import DEFAULT_HEIGHT, DEFAULT_WIDTH, VideoFrame, VideoOutput

# Frame sizes the runtime accepts: 384..1024 pixels, a multiple of 64.
_MIN_SIDE = 384
_MAX_SIDE = 1024
_SIDE_STEP = 64


class BaseParams(BaseModel):
    """Parameters every live pipeline accepts; pipelines subclass it to add their own.

    Unknown keys are ignored (pydantic's default), as in ai-runner.
    """

    width: int = Field(
        default=DEFAULT_WIDTH,
        ge=_MIN_SIDE,
        le=_MAX_SIDE,
        multiple_of=_SIDE_STEP,
        description="Output width in pixels: 384 to 1024, a multiple of 64.",
    )
    height: int = Field(
        default=DEFAULT_HEIGHT,
        ge=_MIN_SIDE,
        le=_MAX_SIDE,
        multiple_of=_SIDE_STEP,
        description="Output height in pixels: 384 to 1024, a multiple of 64.",
    )
    show_reloading_frame: bool = Field(
        default=True,
        description="Show an overlay frame while the pipeline is loading or reloading.",
    )

    def get_output_resolution(self) -> tuple[int, int]:
        """(width, height) of the frames the pipeline will output; override if it differs."""
        return (self.width, self.height)


class Pipeline(ABC):
    """A live video pipeline as the ai-runner process drives it.

    The runtime builds it with `cls()` and runs every coroutine below in one asyncio
    loop; exceptions may propagate, the runtime logs and reports them.
    """

    def __init__(self):  # noqa: B027 -- concrete on purpose: the runtime calls cls()
        pass

    @abstractmethod
    async def initialize(self, **params):
        """Load models and warm up with the initial parameters."""

    @abstractmethod
    async def put_video_frame(self, frame: VideoFrame, request_id: str):
        """Accept one input frame of the stream identified by request_id."""

    @abstractmethod
    async def get_processed_video_frame(self) -> VideoOutput:
        """Wait for and return the next processed frame."""

    @abstractmethod
    async def update_params(self, **params) -> Task[None] | None:
        """Apply new parameters; return a Task when the update is slow (e.g. a reload)."""

    async def stop(self):  # noqa: B027 -- optional hook, a no-op unless overridden
        """Release resources; called once at shutdown. Does nothing by default."""

    @classmethod
    @abstractmethod
    def prepare_models(cls):
        """Download or compile whatever the pipeline needs before it can run."""
