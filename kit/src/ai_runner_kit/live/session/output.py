"""What comes back: the output segments as they arrive, then the file they are saved to. `.ts`
keeps the segments as they came; `.mp4` is decoded and re-encoded, with timestamps that only
go forward (the segments' need not be continuous)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .pacing import LatencyTracker
from .progress import Progress
from .segments import inspect_segment


class OutputCollector:
    """A SegmentSink that keeps the output segments (a cut-off last one too), with progress
    lines and latency samples."""

    def __init__(self, progress: Progress, latency: LatencyTracker | None = None) -> None:
        self._progress = progress
        self._latency = latency
        self.segments: list[bytearray] = []
        self.last_data_at: float | None = None  # time.monotonic()
        self.frames_seen = 0
        self._started_at = 0.0

    def begin_segment(self, seq: int) -> None:
        self._started_at = time.monotonic()
        self.segments.append(bytearray())

    def add_data(self, data: bytes) -> None:
        self.segments[-1] += data
        self.last_data_at = time.monotonic()

    async def end_segment(self) -> None:
        info = await asyncio.to_thread(inspect_segment, bytes(self.segments[-1]))
        self.frames_seen += info.frames
        if self._latency is not None:
            self._latency.observe(info.first_pts, self._started_at)
        self._progress.line(
            f"received segment {len(self.segments) - 1}: {info.frames} frames "
            f"({self.frames_seen} in all)"
        )


@dataclass(frozen=True)
class OutputInfo:
    frames: int
    width: int | None
    height: int | None
    duration_seconds: float


def decode_segments(segments: Iterable[bytes]) -> Iterator[av.VideoFrame]:
    """Decode each segment on its own (they are standalone); a damaged one gives what it can."""
    for data in segments:
        if not data:
            continue
        try:
            with av.open(io.BytesIO(bytes(data)), "r", format="mpegts") as container:
                if not container.streams.video:
                    continue
                yield from container.decode(container.streams.video[0])
        except av.FFmpegError:
            continue


class ForwardClock:
    """Output times from 0 that always go forward: a missing, repeated or backward timestamp,
    or a big jump ahead (a discontinuity between segments), becomes one frame after the
    previous time, and later timestamps count on from there."""

    def __init__(self, fps: Fraction) -> None:
        self._step = float(1 / fps)
        self._previous: float | None = None
        self._origin = 0.0

    def place(self, stamp: float | None) -> float:
        if self._previous is None:
            self._origin = stamp if stamp is not None else 0.0
            self._previous = 0.0
            return 0.0
        expected = self._previous + self._step
        if stamp is None:
            self._previous = expected
            return expected
        candidate = stamp - self._origin
        if candidate <= self._previous or candidate - self._previous > max(1.0, 5 * self._step):
            self._origin += candidate - expected  # re-anchor after the jump
            candidate = expected
        self._previous = candidate
        return candidate


def write_output(segments: Sequence[bytes], path: Path, fps: Fraction) -> OutputInfo:
    """`.ts`: the raw segments; `.mp4` (anything else): decoded and re-encoded."""
    if path.suffix.lower() == ".ts":
        return write_ts(segments, path, fps)
    return write_mp4(segments, path, fps)


def write_ts(segments: Sequence[bytes], path: Path, fps: Fraction) -> OutputInfo:
    """The segments as they came, one after another (a valid MPEG-TS file)."""
    with path.open("wb") as file:
        for data in segments:
            file.write(data)
    clock = ForwardClock(fps)
    frames, width, height, last = 0, None, None, 0.0
    for frame in decode_segments(segments):
        frames, width, height, last = frames + 1, frame.width, frame.height, clock.place(frame.time)
    duration = last + float(1 / fps) if frames else 0.0
    return OutputInfo(frames, width, height, duration)


def write_mp4(segments: Sequence[bytes], path: Path, fps: Fraction) -> OutputInfo:
    """Decode the segments and encode one H.264 MP4 with forward-only timestamps."""
    time_base = Fraction(1, 90_000)
    clock = ForwardClock(fps)
    frames, width, height, last = 0, 0, 0, 0.0
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as mp4:
        stream: av.VideoStream | None = None
        for frame in decode_segments(segments):
            if stream is None:
                width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
                added = mp4.add_stream(
                    "libx264", rate=fps, options={"preset": "veryfast", "crf": "20"}
                )
                assert isinstance(added, av.VideoStream)  # libx264 makes a video stream
                stream = added
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.codec_context.time_base = time_base
            last = clock.place(frame.time)
            out = frame.reformat(width=width, height=height, format="yuv420p")
            out.pts = round(last / time_base)
            out.time_base = time_base
            for packet in stream.encode(out):
                mp4.mux(packet)
            frames += 1
        if stream is not None:
            for packet in stream.encode(None):
                mp4.mux(packet)
    duration = last + float(1 / fps) if frames else 0.0
    return OutputInfo(frames, width or None, height or None, duration)
