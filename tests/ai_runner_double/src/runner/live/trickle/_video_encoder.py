"""Output encoding of the ai-runner v0.14.1 offline double (a double-only module).

Encodes `VideoOutput`s the way ai-runner's encoder does:

- H.264 with libx264 (preset superfast, tune zerolatency, no B-frames, forced IDR) at the
  stream's output size, in MPEG-TS with a 1/90000 time base;
- a keyframe is forced every GOP_SECS (2 s) of pts and FFmpeg's segment muxer cuts a new
  segment at each one, so every trickle segment is one 2 s GOP (with upstream's quirk: an
  output at time 0 makes the next output a keyframe too, shifting the schedule by a frame);
- pts follow the outputs' timestamps (rescaled); an output whose pts does not increase is
  skipped (ai-runner encodes it and then drops its packets);
- pixel values are `tensor * 255` cast to uint8 with no clamp, so values outside [0, 1] wrap
  around (e.g. 1.1 -> 24, -0.1 -> 231) exactly as in ai-runner on the CPU.

Runs in a thread. Audio outputs are dropped (the double has no audio).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import torch

from .frame import OutputFrame, VideoOutput

logger = logging.getLogger(__name__)

OUT_TIME_BASE = Fraction(1, 90_000)
GOP_SECS = 2


def tensor_to_rgb24(tensor: torch.Tensor) -> Any:
    """(1, H, W, 3) floats in [0, 1] -> (H, W, 3) uint8, wrapping out-of-range values."""
    # float -> uint8 conversion truncates and wraps modulo 256 on the CPU, as upstream's cast.
    return (tensor.detach().squeeze(0).cpu() * 255).to(torch.uint8).numpy()


def rescale_pts(timestamp: int, time_base: Fraction, target: Fraction) -> int:
    if time_base == target:
        return timestamp
    return round(Fraction(timestamp) * time_base / target)


def encode_video(
    next_output: Callable[[], OutputFrame | None],
    open_segment: Callable[[str], Any],
    get_metadata: Callable[[], dict | None],
    output_width: int,
    output_height: int,
) -> None:
    """Encode outputs until next_output() returns None; open_segment(name) gives a file per GOP."""
    metadata = get_metadata()
    if not metadata or not metadata.get("video"):
        logger.info("ai-runner double: no input video metadata, the encoder does not start")
        return

    container = av.open(
        "%d.ts",
        format="segment",
        mode="w",
        io_open=lambda url, flags, options: open_segment(url),
    )
    try:
        stream = container.add_stream(
            "libx264",
            options={
                "video_size": f"{output_width}x{output_height}",
                "bf": "0",
                "preset": "superfast",
                "tune": "zerolatency",
                "forced-idr": "1",
            },
        )
        stream.time_base = OUT_TIME_BASE
        stream.codec_context.time_base = OUT_TIME_BASE
        _encode_loop(next_output, container, stream)
        for packet in stream.encode(None):
            container.mux(packet)
    finally:
        container.close()
    logger.info("ai-runner double: output encoder stopped")


def _encode_loop(next_output, container, stream) -> None:
    last_keyframe: Fraction | None = None
    last_pts: int | None = None
    while (output := next_output()) is not None:
        if not isinstance(output, VideoOutput):
            continue  # audio (or anything else): the double has no audio output
        pts = rescale_pts(output.timestamp, output.time_base, OUT_TIME_BASE)
        if last_pts is not None and pts <= last_pts:
            logger.info("ai-runner double: output pts %d after %d, skipping it", pts, last_pts)
            continue
        last_pts = pts
        frame = av.VideoFrame.from_ndarray(tensor_to_rgb24(output.tensor), format="rgb24")
        frame.pts = pts
        frame.time_base = OUT_TIME_BASE
        current = output.timestamp * output.time_base
        # `not last_keyframe` (not `is None`) as upstream: when the first output is at time 0,
        # the second one is forced to a keyframe too and the 2 s schedule starts from it.
        if not last_keyframe or current - last_keyframe >= GOP_SECS:
            frame.pict_type = av.video.frame.PictureType.I
            last_keyframe = current
        for packet in stream.encode(frame):
            container.mux(packet)
