"""The kit's side of a live pipeline. Public names, imported on first use so that the session
client (`ai_runner_kit.live.session`, av and httpx only) never loads torch:

- `TorchLivePipeline[Model, Params]`: ai-runner's live `Pipeline` around a torch model; a
  subclass writes `params_class`, `prepare_models`, `load_model(params)`, `run_model(model,
  frames, params)` and optionally `needs_reload(loaded, wanted)` and `warm_up(model, params)`
  (ai_runner_kit.live.pipeline says how each is called); `check_frame(tensor)` is its check of
  an incoming frame.
- `InferenceWorker`: runs inference on its own thread, newest frame first, so that
  `put_video_frame` and `get_processed_video_frame` never block ai-runner's event loop;
  `WorkerStopped` is what it raises when used before `start()` or after `stop()`.
- `model_device()`: the device to run the model on (`PIPELINE_DEVICE`, which the benchmark's
  `--device` sets, else the GPU if torch sees one). `DeviceFrames(device, dtype)`:
  `upload(frame)` starts moving ai-runner's (1, H, W, 3) frame to the model as (1, 3, H, W),
  returning an `Upload` whose `wait()` gives the tensor on the worker's thread;
  `download(image)` brings a result back as ai-runner wants it, clamped to [0, 1].
- `stream_frames()`, `StreamResult`, `synthetic_frame()`: drive a pipeline the way ai-runner
  does (put and get concurrently), for tests and benchmarks.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from ai_runner_kit.live.device import DeviceFrames, Upload, model_device
    from ai_runner_kit.live.local_stream import StreamResult, stream_frames, synthetic_frame
    from ai_runner_kit.live.pipeline import TorchLivePipeline, check_frame
    from ai_runner_kit.live.worker import InferenceWorker, WorkerStopped

_PUBLIC = {
    "TorchLivePipeline": "pipeline",
    "check_frame": "pipeline",
    "InferenceWorker": "worker",
    "WorkerStopped": "worker",
    "model_device": "device",
    "DeviceFrames": "device",
    "Upload": "device",
    "stream_frames": "local_stream",
    "StreamResult": "local_stream",
    "synthetic_frame": "local_stream",
}
__all__ = [
    "DeviceFrames",
    "InferenceWorker",
    "StreamResult",
    "TorchLivePipeline",
    "Upload",
    "WorkerStopped",
    "check_frame",
    "model_device",
    "stream_frames",
    "synthetic_frame",
]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
