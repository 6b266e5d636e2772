"""`TorchBatchPipeline`: an ai-runner batch pipeline around a torch model, where the subclass
says only what is its own.

The subclass (the model's author) writes:

    class MyPipeline(TorchBatchPipeline):
        name = "my-pipeline"                      # what ai-runner reports in /version
        params_class = MyParams                   # what a request can set

        @classmethod
        def prepare_models(cls) -> None: ...      # create or download the weights
        def load_model(self) -> MyModel: ...      # on a background thread, at start-up
        def run_model(self, model, images, params) -> Tensor: ...  # on the model's device
        @property
        def router(self) -> APIRouter: ...        # the HTTP API, calling `self(frames, params)`

The kit does the rest: the model loads on a thread of its own while the server already answers
(`/health` says LOADING, then OK, or ERROR with `load_error` saying why); it is moved to the GPU
when there is one, in half precision there, and warmed up; `self(frames, params)` runs one
request at a time on the device, from ai-runner's (1, H, W, 3) float CPU frames to the same,
with NaN and inf mapped into [0, 1]; `benchmark_step` times the model alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from pydantic import BaseModel
from runner.pipelines.base import HealthCheck, Pipeline

from ai_runner_kit.live.device import model_device

logger = logging.getLogger(__name__)

# The size the model is warmed up at, and that benchmark_step defaults to: the benchmark's.
WARMUP_SIZE = (512, 512)


class ModelNotReady(RuntimeError):
    """The model is still loading, or failed to load (the message says which)."""


class TorchBatchPipeline(Pipeline):
    """ai-runner's batch `Pipeline`, with loading, health, the device and its lock done; see the
    module's docstring for what a subclass writes."""

    name: ClassVar[str] = "batch"
    params_class: ClassVar[type[BaseModel]]

    def __init__(self, model_id: str, model_dir: str) -> None:
        self.model_id = model_id
        self.model_dir = model_dir  # ai-runner's MODEL_DIR; the weights are in a folder of it
        self.device = model_device()
        # Half precision where it is fast (the GPU); full precision on the CPU.
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self._model: Any = None
        self._load_error: str | None = None
        self._ready = threading.Event()
        # One request at a time on the device: kernels would queue on the GPU anyway, and the
        # peak memory stays that of one image.
        self._device_lock = threading.Lock()
        threading.Thread(target=self._load, name="model-loader", daemon=True).start()

    # --- what the subclass writes ---------------------------------------------------------------

    def load_model(self) -> Any:
        """The model, from the weights `prepare_models` made. Runs on a thread of its own while
        the server answers LOADING. A torch module (or a mapping of them) is moved to
        `self.device` in `self.dtype` and set to eval."""
        raise NotImplementedError(f"{type(self).__name__} must define load_model()")

    def run_model(self, model: Any, images: torch.Tensor, params: Any) -> torch.Tensor:
        """Runs under torch.inference_mode, one request at a time. `images` is (N, 3, H, W) on
        `self.device` in `self.dtype`, values in [0, 1], laid out channels-last; return images
        (N, 3, h, w) in [0, 1] (the kit clamps them)."""
        raise NotImplementedError(f"{type(self).__name__} must define run_model(...)")

    def warm_up(self, model: Any) -> None:
        """Once loaded: one run at WARMUP_SIZE with the default params, the slow first call."""
        width, height = WARMUP_SIZE
        blank = torch.zeros(1, height, width, 3, device=self.device, dtype=self.dtype)
        self.run_model(model, blank.permute(0, 3, 1, 2), self.params_class())

    # --- for the subclass's API -----------------------------------------------------------------

    def __call__(self, frames: torch.Tensor, params: Any) -> torch.Tensor:
        """(1, H, W, 3) float in [0, 1] -> the model's result, the same way, on the CPU. Blocks:
        call it from a worker thread. Raises ModelNotReady while the model loads or if loading
        failed."""
        if not self._ready.is_set():
            raise ModelNotReady(self._load_error or "the model is still loading: retry shortly")
        with self._device_lock, torch.inference_mode():
            images = frames.to(self.device, self.dtype).permute(0, 3, 1, 2)
            result = self.run_model(self._model, images, params)
            # NaN or inf from the model must not reach the encoder (it would wrap around).
            safe = result.clamp(0.0, 1.0).nan_to_num_(0.0)
            return safe.permute(0, 2, 3, 1).float().contiguous().cpu()

    # --- ai-runner's Pipeline interface ---------------------------------------------------------

    def get_health(self) -> HealthCheck:
        if self._load_error is not None:
            return HealthCheck(status="ERROR")
        return HealthCheck(status="OK" if self._ready.is_set() else "LOADING")

    @property
    def load_error(self) -> str | None:
        """Why loading failed, for the benchmark and for a request's 503; None otherwise."""
        return self._load_error

    # --- the benchmark's hook -------------------------------------------------------------------

    def benchmark_step(self, width: int, height: int) -> Callable[[], object]:
        """One run of the model alone, on its device, with the default params."""
        if not self._ready.is_set():
            raise ModelNotReady(self._load_error or "benchmark_step() needs a loaded model")
        # Laid out as decoded frames arrive: (1, H, W, 3) seen through a permute.
        images = torch.rand(1, height, width, 3, device=self.device, dtype=self.dtype)
        images = images.permute(0, 3, 1, 2)
        model, params = self._model, self.params_class()

        def step() -> object:
            with torch.inference_mode():
                return self.run_model(model, images, params)

        return step

    # --- the kit's own --------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            model = on_device(self.load_model(), self.device, self.dtype)
            with torch.inference_mode():
                self.warm_up(model)
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
        except Exception as error:
            self._load_error = f"loading the model failed: {error}"
            logger.exception("Loading %s failed", type(self).__name__)
            return
        self._model = model
        self._ready.set()
        logger.info("%s ready on %s", type(self).__name__, self.device)


def on_device(model: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """A module (or each module of a mapping) moved to `device` in `dtype`, in eval mode."""
    if isinstance(model, torch.nn.Module):
        return model.to(device, dtype).eval()
    if isinstance(model, Mapping):
        return {key: on_device(value, device, dtype) for key, value in model.items()}
    return model
