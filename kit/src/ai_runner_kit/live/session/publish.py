"""Sending the input in real time, like a camera: each frame is encoded when it is due, and its
bytes go out at once in the current segment's upload."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import av

from .errors import ClientError
from .pacing import Pacer, wait_or_stop
from .progress import Progress
from .segments import TsSegment
from .trickle import SegmentUpload


@dataclass
class PublishResult:
    frames: int = 0
    segments: int = 0
    error: str | None = None


class Publisher(Protocol):
    def open_segment(self) -> SegmentUpload: ...


async def publish_frames(
    frames: Iterator[av.VideoFrame],
    publisher: Publisher,
    *,
    width: int,
    height: int,
    fps: Fraction,
    per_segment: int,
    pacer: Pacer,
    stop: asyncio.Event,
    progress: Progress,
) -> PublishResult:
    """Send the frames, `per_segment` to a segment. Ends at the input's end, on `stop` (with
    the segment under way completed), or when the channel closes (then `error` says so)."""
    result = PublishResult()
    segment: TsSegment | None = None
    upload: SegmentUpload | None = None
    pending: list[SegmentUpload] = []  # sent, the server's answer not yet checked

    async def settle(wait: bool) -> None:
        for item in [item for item in pending if wait or item.done]:
            pending.remove(item)
            await item.result()

    async def close_segment() -> None:
        nonlocal segment, upload
        assert segment is not None and upload is not None
        upload.write(await asyncio.to_thread(segment.finish))
        upload.close()
        pending.append(upload)
        result.segments += 1
        progress.line(
            f"sent segment {result.segments - 1}: {segment.frames} frames ({result.frames} in all)"
        )
        segment = upload = None

    try:
        while True:
            frame = await asyncio.to_thread(next, frames, None)
            if frame is None:
                break
            media_time = float(frame.pts * frame.time_base)
            if await wait_or_stop(stop, pacer.delay(media_time)):
                break
            await settle(wait=False)
            if segment is None:
                segment = TsSegment(width, height, fps)
                upload = publisher.open_segment()
            assert upload is not None
            upload.write(await asyncio.to_thread(segment.add, frame))
            result.frames += 1
            if segment.frames >= per_segment:
                await close_segment()
        if segment is not None:
            await close_segment()
        await settle(wait=True)
    except ClientError as error:
        result.error = str(error)
    finally:
        for item in [*pending, *([upload] if upload is not None else [])]:
            item.cancel()
    return result
