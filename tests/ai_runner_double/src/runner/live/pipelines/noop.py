"""Pass-through live pipeline of the ai-runner v0.14.1 offline double."""

import asyncio
import logging

from ..trickle import VideoFrame, VideoOutput
from .interface import Pipeline

logger = logging.getLogger(__name__)


class Noop(Pipeline):
    """Returns every input frame unchanged (as a copy of its tensor)."""

    def __init__(self):
        super().__init__()
        self._pending: asyncio.Queue[VideoOutput] = asyncio.Queue()

    async def initialize(self, **params):
        logger.info("ai-runner double: noop pipeline initialized with %s", params)

    async def put_video_frame(self, frame: VideoFrame, request_id: str):
        await self._pending.put(VideoOutput(frame, request_id))

    async def get_processed_video_frame(self) -> VideoOutput:
        received = await self._pending.get()
        # Copy so the output never aliases a tensor the decoder may reuse.
        return received.replace_tensor(received.tensor.clone())

    async def update_params(self, **params):
        logger.info("ai-runner double: noop pipeline params updated to %s", params)

    async def stop(self):
        logger.info("ai-runner double: noop pipeline stopped")

    @classmethod
    def prepare_models(cls):
        logger.info("ai-runner double: noop pipeline has no models to prepare")
