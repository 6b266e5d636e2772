"""Drive a live pipeline the way ai-runner's pipeline process does, without its transport.

ai-runner calls initialize(), then update_params() with the stream's parameters, then runs
put_video_frame() and get_processed_video_frame() in two concurrent loops on one event loop.
stream_frames() does the same with frames you give it, so the tests and the benchmark exercise
the real call order. It does not decode or encode video: use ai-runner itself for that.
"""

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import torch
from runner.live.pipelines import Pipeline
from runner.live.trickle import VideoFrame, VideoOutput

# A frame's timestamp counts frames at this rate; outputs carry their input's timestamp.
TIME_BASE = Fraction(1, 30)


@dataclass
class StreamResult:
    outputs: list[VideoOutput] = field(default_factory=list)  # empty unless keep_outputs
    latencies_s: list[float] = field(default_factory=list)
    frames_in: int = 0
    elapsed_s: float = 0.0

    @property
    def frames_out(self) -> int:
        return len(self.latencies_s)

    @property
    def output_fps(self) -> float:
        return self.frames_out / self.elapsed_s if self.elapsed_s else 0.0

    def latency_percentile_ms(self, percent: float) -> float:
        from ai_runner_kit.measure import (
            percentile_ms,  # one percentile for every report (statistics)
        )

        return percentile_ms(self.latencies_s, percent)


def synthetic_frame(width: int, height: int, index: int) -> torch.Tensor:
    """A moving colour gradient with a bright square, in ai-runner's frame format:
    (1, height, width, 3), float32, values in [0, 1]."""
    ys = torch.linspace(0.0, 1.0, height).view(height, 1).expand(height, width)
    xs = torch.linspace(0.0, 1.0, width).view(1, width).expand(height, width)
    phase = (index % 60) / 60.0
    frame = torch.stack([(xs + phase) % 1.0, ys, (xs + ys) / 2.0], dim=-1)
    side = min(width, height) // 4
    left = (index * 4) % max(1, width - side)
    frame[height // 3 : height // 3 + side, left : left + side] = 1.0
    return frame.unsqueeze(0).contiguous()


async def stream_frames(
    pipeline: Pipeline,
    frames: Iterable[torch.Tensor],
    *,
    request_id: str = "local-stream",
    fps: float = 0.0,
    drain_timeout_s: float = 30.0,
    keep_outputs: bool = True,
    on_output: Callable[[VideoOutput, float], None] | None = None,
) -> StreamResult:
    """Send every frame while collecting outputs concurrently, and return once the output of
    the last frame arrives (the newest frame is never the one a pipeline drops).

    `fps` > 0 paces the input like a live stream. `fps` = 0 sends each frame as soon as the
    previous one came out: the pipeline's capacity, with no queueing in the latency.
    `on_output(output, latency_s)` sees each output as it arrives; with `keep_outputs=False`
    the result keeps only the latencies, so a long stream's memory stays flat.
    Raises TimeoutError if an awaited output does not arrive within `drain_timeout_s`."""
    result = StreamResult()
    sent_at: dict[int, float] = {}
    newest_out = -1  # the timestamp of the newest output so far
    progress = asyncio.Event()

    async def collect() -> None:
        nonlocal newest_out
        while True:
            output = await pipeline.get_processed_video_frame()
            latency_s = time.perf_counter() - sent_at.pop(output.timestamp)
            for skipped in [index for index in sent_at if index < output.timestamp]:
                del sent_at[skipped]  # dropped by the pipeline: never coming
            result.latencies_s.append(latency_s)
            if keep_outputs:
                result.outputs.append(output)
            if on_output is not None:
                on_output(output, latency_s)
            newest_out = max(newest_out, output.timestamp)
            progress.set()

    async def wait_for_output(timestamp: int) -> None:
        deadline = time.perf_counter() + drain_timeout_s
        while newest_out < timestamp:
            progress.clear()
            waiter = asyncio.ensure_future(progress.wait())
            done, _ = await asyncio.wait(
                {waiter, collector},
                timeout=max(0.0, deadline - time.perf_counter()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            if collector in done:
                collector.result()  # the pipeline raised: let it propagate
            if not done:
                raise TimeoutError(
                    f"no output for frame {timestamp} within {drain_timeout_s} s "
                    f"({result.frames_out} outputs for {result.frames_in} frames)"
                )

    collector = asyncio.create_task(collect())
    started = time.perf_counter()
    try:
        for index, tensor in enumerate(frames):
            if fps > 0:
                await asyncio.sleep(max(0.0, started + index / fps - time.perf_counter()))
            sent_at[index] = time.perf_counter()
            await pipeline.put_video_frame(VideoFrame(tensor, index, TIME_BASE), request_id)
            result.frames_in += 1
            if fps > 0:
                await asyncio.sleep(0)  # yield between frames, as ai-runner's input loop does
            else:
                await wait_for_output(index)
        if result.frames_in:
            await wait_for_output(result.frames_in - 1)
        result.elapsed_s = time.perf_counter() - started
        return result
    finally:
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
