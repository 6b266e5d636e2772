"""`TorchLivePipeline`: an ai-runner live pipeline around a torch model, where the subclass says
only what is its own.

The subclass (the model's author) writes:

    class MyPipeline(TorchLivePipeline[MyModel, MyParams]):
        params_class = MyParams

        @classmethod
        def prepare_models(cls) -> None: ...              # create or download the weights
        def load_model(self, params: MyParams) -> MyModel: ...     # on a worker thread
        def run_model(self, model, frames, params) -> Tensor: ...  # on the model's device
        def needs_reload(self, loaded: MyParams, wanted: MyParams) -> bool: ...  # optional
        def warm_up(self, model, params) -> None: ...              # optional

The kit does the rest, the way ai-runner wants it: frames checked as they arrive; the copy to
the model's device started in `put_video_frame`; the model run on a thread of its own, newest
frame first, so that ai-runner's event loop never waits and latency stays bounded; the result
resized to the params' output resolution, NaN and inf mapped into [0, 1], and brought back as a
(1, H, W, 3) float32 CPU frame; a reload that keeps frames flowing through the loaded model and
keeps it, and the parameters it was loaded for, when the new one fails to load; a stop that
wakes whoever waits for a frame; and `benchmark_step`, which times the model alone.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import torch
import torch.nn.functional as F
from runner.live.pipelines import BaseParams, Pipeline
from runner.live.trickle import VideoFrame, VideoOutput

from ai_runner_kit.live.device import DeviceFrames, Upload, model_device
from ai_runner_kit.live.worker import InferenceWorker

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT")
ParamsT = TypeVar("ParamsT", bound=BaseParams)

# benchmark_step runs the model on this many different frames in turn, as a stream's frames
# are all new: one frame over and over stays in a CPU's cache and times the model up to 20%
# faster than any stream can run it.
BENCHMARK_FRAMES = 16


class TorchLivePipeline(Pipeline, Generic[ModelT, ParamsT]):
    """ai-runner's live `Pipeline`, with the frame path, the worker and reloads done; see the
    module's docstring for what a subclass writes."""

    params_class: ClassVar[type[BaseParams]] = BaseParams
    # The first runs at a new size are slow on a GPU (kernel selection, allocations); a CPU
    # needs one at most.
    warmup_runs: ClassVar[dict[str, int]] = {"cuda": 3, "cpu": 1}

    def __init__(self) -> None:
        super().__init__()
        self.device = model_device()  # the GPU if there is one; PIPELINE_DEVICE overrides
        # Half precision where it is fast (the GPU); full precision on the CPU.
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.params: ParamsT = self.params_class()  # type: ignore[assignment]
        self._frames = DeviceFrames(self.device, self.dtype)
        self._loaded: tuple[ModelT, ParamsT] | None = None  # the model, and its params
        self._reload_lock = asyncio.Lock()
        self._worker: InferenceWorker[tuple[VideoFrame, Upload, str], VideoOutput] = (
            InferenceWorker(self._render)
        )

    # --- what the subclass writes ---------------------------------------------------------------

    def load_model(self, params: ParamsT) -> ModelT:
        """The model for these params, from the weights `prepare_models` made. Runs on a worker
        thread. A torch module is moved to `self.device` in `self.dtype` and set to eval."""
        raise NotImplementedError(f"{type(self).__name__} must define load_model(params)")

    def run_model(self, model: ModelT, frames: torch.Tensor, params: ParamsT) -> torch.Tensor:
        """Runs on the worker's thread, under torch.inference_mode. `frames` is (N, 3, H, W) on
        `self.device` in `self.dtype`, values in [0, 1], laid out channels-last; return images
        (N, 3, h, w) in [0, 1]: the kit resizes them to the params' output resolution and
        clamps them."""
        raise NotImplementedError(f"{type(self).__name__} must define run_model(...)")

    def needs_reload(self, loaded: ParamsT, wanted: ParamsT) -> bool:
        """True when going from the params the model was loaded for to `wanted` needs
        `load_model` again (new weights); otherwise the next frame just uses `wanted`."""
        return False

    def warm_up(self, model: ModelT, params: ParamsT) -> None:
        """Before the model serves its first frame: runs it `warmup_runs` times on a blank frame
        at the output resolution, so that no viewer waits for kernel selection."""
        width, height = params.get_output_resolution()
        blank = torch.zeros(1, height, width, 3, device=self.device, dtype=self.dtype)
        for _ in range(self.warmup_runs.get(self.device.type, 1)):
            self.run_model(model, blank.permute(0, 3, 1, 2), params)  # channels-last, as frames

    # --- ai-runner's Pipeline interface ---------------------------------------------------------

    async def initialize(self, **params: Any) -> None:
        wanted: ParamsT = self.params_class(**params)  # type: ignore[assignment]
        model = await asyncio.to_thread(self._load_warm, wanted)
        self._loaded, self.params = (model, wanted), wanted
        self._worker.start()
        logger.info("%s ready on %s with %s", type(self).__name__, self.device, wanted)

    async def put_video_frame(self, frame: VideoFrame, request_id: str) -> None:
        check_frame(frame.tensor)
        # The copy to the device starts now, while the worker may still run the previous frame.
        self._worker.submit((frame, self._frames.upload(frame.tensor), request_id))

    async def get_processed_video_frame(self) -> VideoOutput:
        return await self._worker.next_result()

    async def update_params(self, **params: Any) -> asyncio.Task[None] | None:
        # ai-runner passes the stream's whole parameter set each time, not just what changed.
        # Invalid params raise here, before anything changes.
        wanted: ParamsT = self.params_class(**params)  # type: ignore[assignment]
        self.params = wanted  # the next frame uses them
        if self._loaded is None or not self.needs_reload(self._loaded[1], wanted):
            return None
        # A returned task makes ai-runner show its loading overlay until the task is done.
        return asyncio.create_task(self._reload())

    async def stop(self) -> None:
        await self._worker.stop()
        self._loaded = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        logger.info("%s stopped", type(self).__name__)

    # --- the benchmark's hook -------------------------------------------------------------------

    def benchmark_step(self, width: int, height: int) -> Callable[[], object]:
        """Each call runs the model alone, on its device, on the next of BENCHMARK_FRAMES
        different frames (laid out as frames reach the model)."""
        if self._loaded is None:
            raise RuntimeError("benchmark_step() needs an initialized pipeline")
        model, params = self._loaded[0], self.params
        frames = [
            torch.rand(1, height, width, 3, device=self.device, dtype=self.dtype).permute(
                0, 3, 1, 2
            )
            for _ in range(BENCHMARK_FRAMES)
        ]
        turns = itertools.cycle(frames)

        def step() -> object:
            with torch.inference_mode():
                return self.run_model(model, next(turns), params)

        return step

    # --- the kit's own --------------------------------------------------------------------------

    async def _reload(self) -> None:
        """Loads the model for the newest params; frames keep flowing through the loaded one
        until the new one is warm. Never raises, since ai-runner would restart the whole
        pipeline process: a load that fails keeps the loaded model, and the params it needs."""
        async with self._reload_lock:  # one load at a time; later tasks see what it loaded
            wanted = self.params
            if self._loaded is None or not self.needs_reload(self._loaded[1], wanted):
                return
            loaded = self._loaded[1]
            try:
                model = await asyncio.to_thread(self._load_warm, wanted)
            except Exception:
                logger.exception("Loading the model for %s failed; keeping %s", wanted, loaded)
                if self.params is wanted:  # no newer params came meanwhile
                    self.params = self._without_reload_changes(loaded, wanted)
                return
            if self._loaded is not None:  # not stopped meanwhile
                self._loaded = (model, wanted)
                logger.info("Reloaded for %s", wanted)

    def _without_reload_changes(self, loaded: ParamsT, wanted: ParamsT) -> ParamsT:
        """`wanted`, less each change that alone would need a reload: what the loaded model can
        serve (e.g. a new strength kept, a new style dropped)."""
        kept = {
            name: getattr(loaded, name)
            for name in type(wanted).model_fields
            if getattr(loaded, name) != getattr(wanted, name)
            and self.needs_reload(loaded, loaded.model_copy(update={name: getattr(wanted, name)}))
        }
        return wanted.model_copy(update=kept)

    def _load_warm(self, params: ParamsT) -> ModelT:
        model = self.load_model(params)
        if isinstance(model, torch.nn.Module):
            model = model.to(self.device, self.dtype).eval()  # type: ignore[assignment]
        with torch.inference_mode():
            self.warm_up(model, params)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return model

    def _render(self, job: tuple[VideoFrame, Upload, str]) -> VideoOutput:
        """Runs on the worker's thread."""
        frame, upload, request_id = job
        loaded, params = self._loaded, self.params
        if loaded is None:
            raise RuntimeError(
                f"{type(self).__name__} got a frame before initialize() or after stop()"
            )
        width, height = params.get_output_resolution()
        with torch.inference_mode():
            images = self.run_model(loaded[0], upload.wait(), params)
            if images.shape[-2:] != (height, width):
                images = F.interpolate(images, size=(height, width), mode="bilinear")
            # Back to (1, H, W, 3) float32 on the CPU, in [0, 1] (ai-runner does not clamp); on
            # a GPU this waits for the model, here on the worker's thread.
            output = self._frames.download(images)
        return VideoOutput(frame.replace_tensor(output), request_id)


def check_frame(tensor: object) -> None:
    """Reject what ai-runner never sends, with a message that says what it does send."""
    if not (
        isinstance(tensor, torch.Tensor)
        and tensor.ndim == 4
        and tensor.shape[0] == 1
        and tensor.shape[3] == 3
        and tensor.is_floating_point()
    ):
        got = (
            f"{tuple(tensor.shape)} {tensor.dtype}" if isinstance(tensor, torch.Tensor) else tensor
        )
        raise ValueError(
            "Expected a frame tensor of shape (1, height, width, 3), float, values in [0, 1] "
            f"(ai-runner's decoded frame format); got {got!r}"
        )
