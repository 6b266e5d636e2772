"""Where the model runs, and how frames get there and back at the least cost.

ai-runner hands a pipeline (1, H, W, 3) float32 frames in [0, 1] on the CPU and wants the same
back. A model wants (1, 3, H, W) on its device, often in half precision. `DeviceFrames` does
both moves for a live pipeline:

- on the CPU, nothing is copied: the frame is seen as (1, 3, H, W) through a permute (it is
  then "channels-last", which convolutions like), and a channels-last result is already laid
  out as (1, H, W, 3);
- on a CUDA GPU, `upload` copies a CPU frame through page-locked memory on a stream of its own
  and returns at once, so that put_video_frame can start the next frame's copy while the
  worker's thread still runs the model on the previous one; `Upload.wait()`, on the worker's
  thread, makes the model's stream wait for that copy (the CPU does not wait). ai-runner
  itself moves each frame to the GPU before put_video_frame when it sees one: such a frame is
  only cast and permuted. `download` brings the result back on the worker's thread, so that
  ai-runner's event loop does not wait for the GPU.

`model_device()` picks the device: `PIPELINE_DEVICE` (`cpu`, `cuda`, `cuda:1`...) when set,
which is how the benchmark's `--device` reaches your pipeline; otherwise CUDA when torch sees
a GPU, else the CPU.
"""

import os
from dataclasses import dataclass

import torch
from torch import Tensor

DEVICE_VARIABLE = "PIPELINE_DEVICE"


def model_device() -> torch.device:
    """$PIPELINE_DEVICE if set, else `cuda` when torch sees a GPU, else `cpu`."""
    wanted = os.environ.get(DEVICE_VARIABLE, "").strip()
    if not wanted:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(wanted)
    except RuntimeError as error:
        raise ValueError(
            f"{DEVICE_VARIABLE}={wanted!r} is not a torch device: use cpu, cuda or cuda:<index>"
        ) from error
    if device.type not in {"cpu", "cuda"}:
        raise ValueError(f"{DEVICE_VARIABLE}={wanted!r}: this pipeline runs on cpu or cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{DEVICE_VARIABLE}={wanted!r} but torch sees no CUDA GPU: check `nvidia-smi`, that "
            f"torch is a CUDA build and `--gpus all` under Docker, or unset {DEVICE_VARIABLE}"
        )
    return device


@dataclass(frozen=True)
class Upload:
    """A frame on its way to the device: `wait()` on the thread that runs the model."""

    tensor: Tensor  # (1, 3, H, W) on the device; on CUDA, valid once `copied` has happened
    copied: "torch.cuda.Event | None" = None

    def wait(self) -> Tensor:
        """The frame on the device, (1, 3, H, W) channels-last in the model's dtype. On CUDA
        the current stream waits for the copy; the CPU goes on at once."""
        if self.copied is not None:
            torch.cuda.current_stream(self.tensor.device).wait_event(self.copied)
            # The frame's memory now also belongs to this stream: the allocator must not hand it
            # out again before the model is done with it.
            self.tensor.record_stream(torch.cuda.current_stream(self.tensor.device))
        return self.tensor


class DeviceFrames:
    """Moves frames between ai-runner's format and the model's device and dtype."""

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())  # so frames compare equal
        self.device = device
        self.dtype = dtype
        self._copies = torch.cuda.Stream(device) if device.type == "cuda" else None

    def upload(self, frame: Tensor) -> Upload:
        """(1, H, W, 3) float32 on the CPU -> an Upload of (1, 3, H, W) on the device."""
        if self._copies is None or frame.device == self.device:
            pixels = frame.to(self.device, self.dtype)  # no copy when already float32 there
            return Upload(pixels.permute(0, 3, 1, 2))
        with torch.cuda.stream(self._copies):
            # Page-locked memory lets the copy run without the CPU; torch's pinned allocator
            # caches these buffers and does not reuse one before its copy has finished.
            pinned = frame.pin_memory() if not frame.is_pinned() else frame
            pixels = pinned.to(self.device, non_blocking=True).to(self.dtype)
            copied = torch.cuda.Event()
            copied.record(self._copies)
        return Upload(pixels.permute(0, 3, 1, 2), copied)

    def download(self, image: Tensor) -> Tensor:
        """(1, 3, H, W) from the model -> (1, H, W, 3) float32 in [0, 1] on the CPU, as ai-runner
        wants it. ai-runner multiplies by 255 and casts without clamping, so NaN, inf or a value
        out of [0, 1] would wrap around: they are clamped here. On CUDA this waits for the model
        (on the calling thread, the worker's)."""
        # clamp sends inf to 1 and -inf to 0 in a new tensor; NaN is then zeroed in place. The
        # other way round took a quarter longer on a CPU (0.25 against 0.20 ms at 512x512).
        safe = image.clamp(0.0, 1.0).nan_to_num_(0.0)
        # A channels-last result is already (1, H, W, 3) in memory: contiguous() copies nothing.
        pixels = safe.permute(0, 2, 3, 1).to(dtype=torch.float32).contiguous()
        return pixels.cpu()
