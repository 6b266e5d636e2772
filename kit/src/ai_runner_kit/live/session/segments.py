"""Standalone MPEG-TS segments: encoding the ones sent, and a quick look at the ones received."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
from av.video.frame import PictureType

SEGMENT_SECONDS = 1.0


def frames_per_segment(fps: Fraction) -> int:
    return max(1, round(SEGMENT_SECONDS * fps))


class _ChunkSink:
    """A write-only file for PyAV: keeps what the muxer wrote since the last take()."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class TsSegment:
    """One standalone MPEG-TS segment with its own H.264 encoder: it starts with PAT/PMT and a
    keyframe, and decodes alone. Timestamps are the frames' own, so they run on across
    segments. add() returns the bytes muxed so far, frame by frame, so a segment can be
    uploaded while it is being encoded."""

    def __init__(self, width: int, height: int, fps: Fraction) -> None:
        self._sink = _ChunkSink()
        # flush_packets: hand each frame's packets over at once rather than in 32 KiB blocks
        self._container = av.open(
            self._sink, "w", format="mpegts", container_options={"flush_packets": "1"}
        )
        stream = self._container.add_stream(
            "libx264",
            rate=fps,
            options={
                "preset": "veryfast",
                "tune": "zerolatency",
                "crf": "23",
                "x264-params": "scenecut=0",  # no keyframe but the first
            },
        )
        assert isinstance(stream, av.VideoStream)  # libx264 makes a video stream
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1) / fps
        stream.codec_context.gop_size = 100_000  # one keyframe: the first
        self._stream = stream
        self.frames = 0
        self._finished = False

    def add(self, frame: av.VideoFrame) -> bytes:
        # Decoders and filters stamp their frame types and x264 obeys them: choose ours.
        frame.pict_type = PictureType.I if self.frames == 0 else PictureType.NONE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1
        return self._sink.take()

    def finish(self) -> bytes:
        """Flush the encoder and close the segment; returns its last bytes."""
        if not self._finished:
            self._finished = True
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
        return self._sink.take()


@dataclass(frozen=True)
class SegmentInfo:
    frames: int
    first_pts: float | None  # seconds, as the MPEG-TS timestamps say


def inspect_segment(data: bytes) -> SegmentInfo:
    """Count a segment's video packets and read its first timestamp (no decoding)."""
    frames, first = 0, None
    try:
        with av.open(io.BytesIO(data), "r", format="mpegts") as container:
            if not container.streams.video:
                return SegmentInfo(0, None)
            for packet in container.demux(container.streams.video[0]):
                if packet.size == 0:
                    continue
                frames += 1
                if packet.pts is not None and packet.time_base is not None:
                    stamp = float(packet.pts * packet.time_base)
                    first = stamp if first is None else min(first, stamp)
    except av.FFmpegError:
        pass  # a truncated segment still counts what was read
    return SegmentInfo(frames, first)
