"""What ai-runner's pipeline process puts between a stream and the pipeline, during a stream.

Read from ai-runner v0.14.1, runner/live/process/process.py (`_input_loop`, `_output_loop`,
`_param_update_loop`), and reproduced here so that a reload looks as it will on the network:

- Input frames move to the GPU, when torch sees one, before `put_video_frame`.
- Parameters go to `update_params(**params)` one whole set at a time, in a task of their own;
  when several are waiting, only the newest is applied. Each stream starts with one.
- When `update_params` returns a Task, the pipeline is "loading" until that task is done. While
  it is, and the params' `show_reloading_frame` is true (the default), input frames do not
  reach the pipeline: each is answered at once with a loading frame (loading_frame.py), and
  outputs the pipeline still gives are thrown away. The first output after the reload ends
  the overlay. With `show_reloading_frame` false, frames keep going to the pipeline.
- A set that `update_params` refuses (it raises) is logged and the stream goes on; a reload
  task that raises ends the pipeline process (ai-runner restarts it): here, the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
from runner.live.pipelines import BaseParams, Pipeline
from runner.live.trickle import VideoFrame, VideoOutput

from ..session.errors import EXIT_STREAM, ClientError
from .loading_frame import LoadingFrame


@dataclass(frozen=True)
class ParamChange:
    at_s: float  # stream time, from the first frame
    raw: dict[str, Any]  # what update_params receives
    parsed: BaseParams  # the same, validated by the spec's params class


class ProcessLoop:
    """Has the Pipeline's put/get methods, so stream_frames() can drive it like a pipeline."""

    def __init__(
        self,
        pipeline: Pipeline,
        changes: list[ParamChange],
        fps: Fraction | None,
        warn: Callable[[str], None],
    ) -> None:
        self._pipeline = pipeline
        self._waiting_changes = list(changes)  # in time order; the first starts the stream
        self._fps = fps  # None: frames are not on a clock (images), only the first set applies
        self._warn = warn
        self._params = changes[0].parsed
        self._requests: asyncio.Queue[ParamChange] = asyncio.Queue()
        self._outputs: asyncio.Queue[VideoOutput | BaseException] = asyncio.Queue()
        self._loading_frame = LoadingFrame()
        self._loading = asyncio.Event()  # set while a reload task runs
        self._settled = asyncio.Event()  # set while no change is waiting or running
        self._overlay_shown = False
        self._newest_out = -1
        self._tasks: list[asyncio.Task] = []
        self.loading_frames = 0
        self.changes_applied = 0

    async def start(self) -> None:
        """Start the output and parameter loops, with the stream's first parameter set."""
        self._tasks = [
            asyncio.create_task(self._output_loop()),
            asyncio.create_task(self._param_loop()),
        ]
        self._request(self._waiting_changes.pop(0))
        await asyncio.sleep(0)  # let update_params begin before the first frame, as a stream

    async def settled(self) -> None:
        """Until no parameter change is waiting or running (for images, which are no stream)."""
        await self._settled.wait()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def put_video_frame(self, frame: VideoFrame, request_id: str) -> None:
        if self._fps is not None:
            now_s = float(frame.timestamp / self._fps)
            while self._waiting_changes and self._waiting_changes[0].at_s <= now_s:
                self._request(self._waiting_changes.pop(0))
            await asyncio.sleep(0)  # the param loop picks it up now, as ai-runner's would
        if self._loading.is_set() and self._params.show_reloading_frame:
            self._overlay_shown = True
            width, height = self._params.get_output_resolution()
            tensor = self._loading_frame.render(width, height)
            self._deliver(
                VideoOutput(frame.replace_tensor(tensor), request_id, is_loading_frame=True)
            )
            self.loading_frames += 1
        else:
            if torch.cuda.is_available() and not frame.tensor.is_cuda:
                frame = frame.replace_tensor(frame.tensor.cuda())  # as ai-runner's input loop
            await self._pipeline.put_video_frame(frame, request_id)

    async def get_processed_video_frame(self) -> VideoOutput:
        item = await self._outputs.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def _request(self, change: ParamChange) -> None:
        self._settled.clear()
        self._requests.put_nowait(change)

    def _deliver(self, output: VideoOutput) -> None:
        self._newest_out = output.timestamp
        self._outputs.put_nowait(output)

    async def _output_loop(self) -> None:
        try:
            while True:
                output = await self._pipeline.get_processed_video_frame()
                self._loading_frame.remember(output.tensor)
                if self._overlay_shown:
                    if self._loading.is_set():
                        continue  # ai-runner drops these: they would flicker over the overlay
                    self._overlay_shown = False
                # Older than what went out (a frame queued before a reload): ai-runner would
                # send it and the encoder would go back in time; it is dropped here instead.
                if output.timestamp > self._newest_out:
                    self._deliver(output)
        except Exception as error:  # the pipeline's own error: end the run with it
            self._outputs.put_nowait(error)

    async def _param_loop(self) -> None:
        while True:
            change = await self._requests.get()
            while not self._requests.empty():  # only the newest set counts
                change = self._requests.get_nowait()
            try:
                reload = await self._pipeline.update_params(**change.raw)
            except Exception as error:
                self._warn(
                    f"update_params refused {change.raw} ({error}); the params in force stay"
                )
                self._settle()
                continue
            self._params = change.parsed
            self.changes_applied += 1
            if reload is not None:
                await self._run_reload(reload, change)
            self._settle()

    async def _run_reload(self, reload: asyncio.Task, change: ParamChange) -> None:
        self._loading_frame.begin()
        self._loading.set()
        try:
            await reload
        except Exception as error:
            self._outputs.put_nowait(
                ClientError(
                    f"the reload for {change.raw} failed: {error!r} (ai-runner would restart "
                    "the pipeline process: update_params' task must not raise)",
                    EXIT_STREAM,
                )
            )
        finally:
            self._loading.clear()

    def _settle(self) -> None:
        if self._requests.empty():
            self._settled.set()


@contextlib.asynccontextmanager
async def running(loop: ProcessLoop):
    await loop.start()
    try:
        yield loop
    finally:
        await loop.close()
