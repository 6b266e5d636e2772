"""Input decoding of the ai-runner v0.14.1 offline double (a double-only module).

Turns the bytes of a trickle input channel (H.264 in MPEG-TS, segments back to back) into
`VideoFrame`s the way ai-runner's decoder does:

- frames faster than MAX_FRAMERATE (24 fps, judged on their pts) are dropped;
- a frame whose size differs from the target is scaled, keeping its aspect ratio, to cover
  the target and then centre-cropped (black padding only if rounding left it short);
- the tensor is (1, H, W, 3) float32 in [0, 1] on the CPU, with the input's pts/time_base.

Audio is not decoded: the double drops it (ai-runner passes it through to the output).
Runs in a thread; `source` is a blocking file-like object fed by the trickle subscriber.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import torch

from .frame import VideoFrame

logger = logging.getLogger(__name__)

MAX_FRAMERATE = 24
DECODE_ERROR_BUDGET = 10
# Probe up to 2.5 s of input before the first frame, as ai-runner does.
_PROBE_OPTIONS = {"analyzeduration": "2500000"}


class FrameRateLimiter:
    """Keeps at most `max_fps` frames per second of pts; tolerates jitter, resyncs on gaps."""

    def __init__(self, max_fps: float = MAX_FRAMERATE):
        self.interval = 1.0 / max_fps
        self.next_time = 0.0

    def accept(self, pts_time: float) -> bool:
        if pts_time < self.next_time:
            return False
        if pts_time > self.next_time + self.interval:
            # Late (or the first frame): restart the schedule from this frame.
            self.next_time = pts_time + self.interval
        else:
            self.next_time += self.interval
        return True


def cover_size(width: int, height: int, target_width: int, target_height: int) -> tuple[int, int]:
    """The even-sided size that keeps width:height and covers the target on one side exactly."""
    if target_width / target_height < width / height:
        return int(target_height * width / height / 2) * 2, target_height
    return target_width, int(target_width * height / width / 2) * 2


def centre_crop(image: np.ndarray, target_width: int, target_height: int) -> np.ndarray:
    """Crop an (H, W, 3) image around its centre to the target, padding with black if short."""
    height, width = image.shape[:2]
    if (width, height) == (target_width, target_height):
        return image
    out = np.zeros((target_height, target_width, 3), dtype=image.dtype)
    left = width // 2 - target_width // 2
    top = height // 2 - target_height // 2
    src_x, src_y = max(left, 0), max(top, 0)
    dst_x, dst_y = src_x - left, src_y - top
    copy_w = min(width - src_x, target_width - dst_x)
    copy_h = min(height - src_y, target_height - dst_y)
    out[dst_y : dst_y + copy_h, dst_x : dst_x + copy_w] = image[
        src_y : src_y + copy_h, src_x : src_x + copy_w
    ]
    return out


def frame_to_tensor(frame: av.VideoFrame, target_width: int, target_height: int) -> torch.Tensor:
    """An av frame as a (1, H, W, 3) float32 tensor in [0, 1] of the target size."""
    if (frame.width, frame.height) != (target_width, target_height):
        width, height = cover_size(frame.width, frame.height, target_width, target_height)
        frame = frame.reformat(width=width, height=height, format="rgb24")
    image = centre_crop(frame.to_ndarray(format="rgb24"), target_width, target_height)
    return torch.from_numpy(image.astype(np.float32) / 255.0).unsqueeze(0)


def decode_video(
    source: Any,
    frame_callback: Callable[[VideoFrame], None],
    put_metadata: Callable[[dict], None],
    target_width: int,
    target_height: int,
) -> None:
    """Decode `source` until it ends, calling frame_callback for every kept frame."""
    container = av.open(source, mode="r", options=_PROBE_OPTIONS)
    try:
        if not container.streams.video:
            logger.error("ai-runner double: the input has no video stream; nothing to decode")
            return
        if container.streams.audio:
            logger.warning("ai-runner double: the input's audio is dropped (no audio support)")
        stream = container.streams.video[0]
        put_metadata({"video": _video_metadata(stream), "audio": None})
        limiter = FrameRateLimiter()
        errors = 0
        for packet in container.demux(stream):
            if packet.dts is None:
                continue
            try:
                frames = packet.decode()
            except av.InvalidDataError:
                errors += 1
                logger.info(
                    "ai-runner double: invalid input packet pts=%s (%d)", packet.pts, errors
                )
                if errors > DECODE_ERROR_BUDGET:
                    raise RuntimeError("ai-runner double: too many input decode errors") from None
                continue
            errors = max(errors - len(frames), 0)
            for frame in frames:
                if frame.pts is None or not limiter.accept(float(frame.time)):
                    continue
                tensor = frame_to_tensor(frame, target_width, target_height)
                frame_callback(
                    VideoFrame(tensor, frame.pts, frame.time_base, {"frame_init": time.time()})
                )
    finally:
        container.close()
    logger.info("ai-runner double: input decoder stopped")


def _video_metadata(stream: av.video.stream.VideoStream) -> dict:
    codec = stream.codec_context
    return {
        "codec": codec.name,
        "width": codec.width,
        "height": codec.height,
        "pix_fmt": codec.pix_fmt,
        "time_base": stream.time_base,
        "framerate": codec.framerate,
        "stream_index": stream.index,
    }
