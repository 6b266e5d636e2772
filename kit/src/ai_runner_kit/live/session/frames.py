"""The frames sent: read from a video file or drawn as a test pattern, fitted to the size sent,
put on a constant-rate grid and numbered 0, 1, 2..."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av

from .errors import EXIT_INPUT, ClientError

# ai-runner's decoder keeps at most 24 fps: it adds 1/24 s per frame kept, in floating point,
# and drops a frame whose timestamp comes before that sum. The sum creeps ahead of an exact
# 24 fps stream's timestamps, and every so often a frame is dropped; 24000/1001 (23.976 fps)
# stays below it, so nothing is dropped by default.
MAX_RUNNER_FPS = Fraction(24000, 1001)
SAMPLE_SECONDS = 10.0

T = TypeVar("T")


def sending_fps(requested: Fraction | None, input_fps: Fraction | None) -> Fraction:
    """The rate frames are sent at: --fps, else the input's capped to what ai-runner takes."""
    if requested is not None:
        return requested
    if input_fps is None:
        return MAX_RUNNER_FPS
    return min(input_fps, MAX_RUNNER_FPS)


def retime(
    timed: Iterable[tuple[float, T]], fps: Fraction, max_seconds: float | None = None
) -> Iterator[tuple[int, T]]:
    """Put frames stamped in seconds onto a constant-rate grid: slot k (at k/fps) shows the
    newest frame whose time is at or before it. A faster source loses frames, a slower one
    repeats them. Times count from the first frame; slots stop at `max_seconds`."""
    tolerance = 1e-4
    start: float | None = None
    previous: T | None = None
    previous_time = 0.0
    slot = 0

    def slot_time(index: int) -> float:
        return float(index / fps)

    for stamp, item in timed:
        if start is None:
            start = stamp
        elapsed = max(stamp - start, previous_time)  # never backwards
        if previous is not None:
            while slot_time(slot) < elapsed - tolerance:
                if max_seconds is not None and slot_time(slot) >= max_seconds - tolerance:
                    return
                yield slot, previous
                slot += 1
        previous, previous_time = item, elapsed
    if previous is not None and slot_time(slot) <= previous_time + tolerance:
        if max_seconds is None or slot_time(slot) < max_seconds - tolerance:
            yield slot, previous


class FrameFitter:
    """Fits frames to width x height without distorting them, as ai-runner does: scale to
    cover, crop the middle. Returns new yuv420p frames (a repeated input is safe)."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._graph: Any = None
        self._geometry: tuple[int, int, str] | None = None

    def _build(self, frame: av.VideoFrame) -> None:
        graph = av.filter.Graph()
        chain = [
            graph.add_buffer(
                width=frame.width,
                height=frame.height,
                format=frame.format,
                time_base=frame.time_base or Fraction(1, 1000),
            ),
            graph.add("scale", f"{self.width}:{self.height}:force_original_aspect_ratio=increase"),
            graph.add("crop", f"{self.width}:{self.height}"),
            graph.add("format", "yuv420p"),
            graph.add("buffersink"),
        ]
        for upstream, downstream in itertools.pairwise(chain):
            upstream.link_to(downstream)
        graph.configure()
        self._graph = graph
        self._geometry = (frame.width, frame.height, frame.format.name)

    def fit(self, frame: av.VideoFrame) -> av.VideoFrame:
        if (frame.width, frame.height, frame.format.name) != self._geometry:
            self._build(frame)
        self._graph.push(frame)
        return self._graph.pull()


def stamp_frame(frame: av.VideoFrame, index: int, fps: Fraction) -> av.VideoFrame:
    """Number the frame `index` at `fps`: timestamps count frames, from 0."""
    frame.pts = index
    frame.time_base = Fraction(1) / fps
    return frame


@dataclass
class InputVideo:
    """An opened input file: its container, video stream and frame rate (None when unknown)."""

    container: Any
    stream: Any
    fps: Fraction | None

    def close(self) -> None:
        self.container.close()


def open_input(path: Path) -> InputVideo:
    """Open a video file, or raise ClientError(EXIT_INPUT) saying why it cannot be read."""
    if not path.is_file():
        raise ClientError(f"input video not found: {path}", EXIT_INPUT)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise ClientError(f"cannot read {path} as a video: {error}", EXIT_INPUT) from error
    if not container.streams.video:
        container.close()
        raise ClientError(f"{path} has no video stream", EXIT_INPUT)
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    rate = stream.average_rate or stream.guessed_rate
    fps = Fraction(rate) if rate and 0 < rate < 1000 else None
    return InputVideo(container=container, stream=stream, fps=fps)


def input_frames(
    video: InputVideo, width: int, height: int, fps: Fraction, max_seconds: float | None
) -> Iterator[av.VideoFrame]:
    """The input's frames at `fps`, fitted to width x height, stamped 0, 1, 2..."""
    source_fps = float(video.fps or MAX_RUNNER_FPS)

    def timed() -> Iterator[tuple[float, av.VideoFrame]]:
        try:
            for index, frame in enumerate(video.container.decode(video.stream)):
                stamp = frame.time if frame.time is not None else index / source_fps
                yield stamp, frame
        except av.FFmpegError as error:
            raise ClientError(f"cannot decode the input: {error}", EXIT_INPUT) from error

    fitter = FrameFitter(width, height)
    for index, frame in retime(timed(), fps, max_seconds):
        yield stamp_frame(fitter.fit(frame), index, fps)


def sample_frames(
    width: int, height: int, fps: Fraction, seconds: float = SAMPLE_SECONDS
) -> Iterator[av.VideoFrame]:
    """A synthetic clip: FFmpeg's moving test pattern (colour bars, a sweep and a clock) blended
    with slowly turning colour gradients. The bars alone are flat primaries that most effects
    leave as they are (the example's toon changed them by 1%); the gradients give an effect
    shades to band, recolour and outline (the toon: 8%), so its output is plain to see."""
    graph = av.filter.Graph()
    size_and_rate = f"size={width}x{height}:rate={fps.numerator}/{fps.denominator}"
    pattern = graph.add("testsrc2", size_and_rate)
    # Every colour and end point given: FFmpeg draws the ones left out at random.
    gradients = graph.add(
        "gradients",
        f"{size_and_rate}:speed=0.02:x0=0:y0=0:x1={width - 1}:y1={height - 1}:nb_colors=3"
        ":c0=0xff4040:c1=0x40c0ff:c2=0x60ff60",
    )
    blend = graph.add("blend", "all_mode=average")
    convert = graph.add("format", "yuv420p")
    sink = graph.add("buffersink")
    pattern.link_to(blend, 0, 0)
    gradients.link_to(blend, 0, 1)
    blend.link_to(convert)
    convert.link_to(sink)
    graph.configure()
    for index in range(max(1, math.ceil(seconds * fps - 1e-9))):
        frame = sink.pull()
        assert isinstance(frame, av.VideoFrame)  # the graph makes video
        yield stamp_frame(frame, index, fps)
