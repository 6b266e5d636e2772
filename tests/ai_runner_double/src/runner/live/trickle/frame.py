"""Frame containers of the ai-runner v0.14.1 offline double.

Same classes, attributes and constructors as ai-runner's frames. Tensors are only
carried, never created here, so this module does not import torch, av or numpy:
a params module importing runner.live.* stays torch-free.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

DEFAULT_WIDTH = 512
DEFAULT_HEIGHT = 512


class SideData:
    """Extra per-frame data, shaped like av's frame side data."""

    skipped: bool = True
    input: Any = None


class InputFrame:
    """Fields shared by every decoded input frame."""

    timestamp: int
    time_base: Fraction
    # Shared class-level defaults, as in ai-runner.
    log_timestamps: dict[str, float] = {}  # noqa: RUF012
    side_data: SideData = SideData()

    @classmethod
    def from_av_video(cls, tensor: torch.Tensor, timestamp: int, time_base: Fraction) -> VideoFrame:
        return VideoFrame(tensor, timestamp, time_base)

    @classmethod
    def from_av_audio(cls, frame: Any) -> AudioFrame:
        return AudioFrame(frame)


class VideoFrame(InputFrame):
    """A video frame: tensor of shape (1, H, W, 3), float32 in [0, 1]."""

    tensor: torch.Tensor

    def __init__(
        self,
        tensor: torch.Tensor,
        timestamp: int,
        time_base: Fraction,
        log_timestamps: dict[str, float] = {},  # noqa: B006 -- same shared default as ai-runner
    ):
        self.tensor = tensor
        self.timestamp = timestamp
        self.time_base = time_base
        self.log_timestamps = log_timestamps

    def replace_tensor(self, tensor: torch.Tensor) -> VideoFrame:
        """A new frame with `tensor`, keeping timing, log timestamps and side data."""
        replaced = VideoFrame(tensor, self.timestamp, self.time_base, self.log_timestamps)
        replaced.side_data = self.side_data
        return replaced


class AudioFrame(InputFrame):
    """Audio samples copied out of an av.AudioFrame-like object (duck-typed: no av import)."""

    samples: np.ndarray
    format: str
    layout: str
    rate: int
    nb_samples: int

    def __init__(self, frame: Any):
        if frame.pts is None:
            raise ValueError("ai-runner double: audio frame without pts (timestamp)")
        self.samples = frame.to_ndarray()
        self.nb_samples = frame.samples
        self.format = frame.format.name
        self.rate = frame.sample_rate
        self.layout = frame.layout.name
        self.timestamp = frame.pts
        self.time_base = frame.time_base


class OutputFrame:
    """Fields shared by every frame a pipeline hands back."""

    is_loading_frame: bool = False


class VideoOutput(OutputFrame):
    """A processed video frame tagged with the stream request it belongs to."""

    frame: VideoFrame
    request_id: str

    def __init__(self, frame: VideoFrame, request_id: str = "", is_loading_frame: bool = False):
        self.frame = frame
        self.request_id = request_id
        self.is_loading_frame = is_loading_frame

    def replace_tensor(self, tensor: torch.Tensor) -> VideoOutput:
        """A new output with `tensor`, keeping request_id, loading flag and frame timing."""
        return VideoOutput(
            self.frame.replace_tensor(tensor), self.request_id, self.is_loading_frame
        )

    @property
    def tensor(self) -> torch.Tensor:
        return self.frame.tensor

    @property
    def timestamp(self) -> int:
        return self.frame.timestamp

    @property
    def time_base(self) -> Fraction:
        return self.frame.time_base

    @property
    def log_timestamps(self) -> dict[str, float]:
        return self.frame.log_timestamps


class AudioOutput(OutputFrame):
    """Processed audio frames tagged with their stream request."""

    frames: list[AudioFrame]
    request_id: str

    def __init__(self, frames: list[AudioFrame], request_id: str = ""):
        self.frames = frames
        self.request_id = request_id
