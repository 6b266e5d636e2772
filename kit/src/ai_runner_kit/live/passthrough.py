"""A live pipeline with no model: each frame goes out as it came in, through the same path as
the example pipeline's (the copy to the model's device and back, the inference worker's thread
and queues). The benchmark streams through it to measure that path alone: the most frames per
second any model could get through this runtime, and what each frame costs besides the model.
"""

import torch
from runner.live.pipelines import Pipeline
from runner.live.trickle import VideoFrame, VideoOutput

from .device import DeviceFrames, Upload, model_device
from .worker import InferenceWorker


class PassthroughPipeline(Pipeline):
    def __init__(self) -> None:
        super().__init__()
        device = model_device()
        # The dtype the example pipeline runs in, so the copies cost what they cost there.
        self._frames = DeviceFrames(
            device, torch.float16 if device.type == "cuda" else torch.float32
        )
        self._worker: InferenceWorker[tuple[VideoFrame, Upload, str], VideoOutput] = (
            InferenceWorker(self._render)
        )

    async def initialize(self, **params) -> None:
        self._worker.start()

    async def put_video_frame(self, frame: VideoFrame, request_id: str) -> None:
        self._worker.submit((frame, self._frames.upload(frame.tensor), request_id))

    async def get_processed_video_frame(self) -> VideoOutput:
        return await self._worker.next_result()

    async def update_params(self, **params) -> None:
        return None

    async def stop(self) -> None:
        await self._worker.stop()

    @classmethod
    def prepare_models(cls) -> None:
        """Nothing to prepare: there is no model."""

    def _render(self, job: tuple[VideoFrame, Upload, str]) -> VideoOutput:
        frame, upload, request_id = job
        with torch.inference_mode():
            output = self._frames.download(upload.wait())
        return VideoOutput(frame.replace_tensor(output), request_id)
