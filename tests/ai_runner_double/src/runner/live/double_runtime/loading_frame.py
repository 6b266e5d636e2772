"""The reloading frame of the ai-runner v0.14.1 offline double.

While a reload task returned by update_params runs (and the params' show_reloading_frame is
true), ai-runner answers every input frame with an overlay: the last output in grey, dimmed,
with a spinner and a caption. The double keeps it simple: the last output (if under 5 s old
and of the right size) in grey at half brightness, else a flat dark grey frame. Either way it
goes out as a `VideoOutput` with `is_loading_frame=True` and the input frame's timing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_LAST_OUTPUT_MAX_AGE_S = 5.0
_FLAT_GREY = 0.25
_DIM = 0.5


class LoadingFrames:
    def __init__(self) -> None:
        self._last_output: torch.Tensor | None = None
        self._last_output_time = 0.0
        self._active = False

    def remember(self, tensor: torch.Tensor) -> None:
        """Keep the latest real output to build the next reload's frame from."""
        self._last_output = tensor.detach().cpu()
        self._last_output_time = time.monotonic()

    def begin(self) -> None:
        self._active = True

    def end(self) -> None:
        self._active = False

    def is_active(self) -> bool:
        return self._active

    def render(self, width: int, height: int) -> torch.Tensor:
        """A (1, height, width, 3) float32 frame in [0, 1] to show while reloading."""
        import torch

        last = self._last_output
        recent = time.monotonic() - self._last_output_time <= _LAST_OUTPUT_MAX_AGE_S
        if last is not None and recent and tuple(last.shape) == (1, height, width, 3):
            grey = last.float().mean(dim=-1, keepdim=True).clamp(0.0, 1.0) * _DIM
            return grey.expand(1, height, width, 3).contiguous()
        return torch.full((1, height, width, 3), _FLAT_GREY, dtype=torch.float32)
