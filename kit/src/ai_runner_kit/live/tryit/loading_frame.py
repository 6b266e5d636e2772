"""The frame ai-runner shows instead of the pipeline's output while a reload runs.

As ai-runner v0.14.1 draws it (runner/live/process/loading_overlay.py): the last output, if it
came in the 5 s before the reload began, else flat mid-grey; in greyscale, dimmed, with
"Loading pipeline…" over it, and the same picture for the whole reload. ai-runner also turns a
spinner in the middle; this one stands still.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

LAST_OUTPUT_MAX_AGE_S = 5.0
DIMMING = 1.0 - 90 / 255  # a black layer of alpha 90 over the grey picture
FLAT_GREY = 128 / 255
CAPTION = "Loading pipeline…"
LUMA = torch.tensor([0.299, 0.587, 0.114])


class LoadingFrame:
    def __init__(self) -> None:
        self._last_output: torch.Tensor | None = None
        self._last_output_at = 0.0
        self._picture: torch.Tensor | None = None  # frozen when a reload begins

    def remember(self, output: torch.Tensor) -> None:
        """Every output the pipeline gives, shown or not: the next reload's background."""
        self._last_output = output.detach().cpu()
        self._last_output_at = time.monotonic()

    def begin(self) -> None:
        self._picture = None

    def render(self, width: int, height: int) -> torch.Tensor:
        """(1, height, width, 3) float32 in [0, 1], the same until begin() is called again."""
        picture = self._picture
        if picture is None or tuple(picture.shape) != (1, height, width, 3):
            picture = self._picture = self._draw(width, height)
        return picture

    def _draw(self, width: int, height: int) -> torch.Tensor:
        last = self._last_output
        fresh = time.monotonic() - self._last_output_at <= LAST_OUTPUT_MAX_AGE_S
        if last is not None and fresh and tuple(last.shape) == (1, height, width, 3):
            grey = (last.float().clamp(0.0, 1.0) * LUMA).sum(dim=-1, keepdim=True)
        else:
            grey = torch.full((1, height, width, 1), FLAT_GREY)
        dimmed = (grey * DIMMING).expand(1, height, width, 3)
        return with_caption(dimmed, CAPTION)


def with_caption(frame: torch.Tensor, text: str) -> torch.Tensor:
    """`text` in white with a dark outline, centred a little above the middle."""
    _, height, width, _ = frame.shape
    font = ImageFont.load_default(size=max(12, width // 24))
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=2)
    origin = ((width - (right - left)) // 2, height // 2 - 2 * (bottom - top))
    outline = mask.copy()
    ImageDraw.Draw(outline).text(origin, text, font=font, fill=255, stroke_width=2)
    draw.text(origin, text, font=font, fill=255)
    white = torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255).view(1, height, width, 1)
    dark = torch.from_numpy(np.asarray(outline, dtype=np.float32) / 255).view(1, height, width, 1)
    return (frame * (1 - dark) + white).clamp(0.0, 1.0).contiguous()
