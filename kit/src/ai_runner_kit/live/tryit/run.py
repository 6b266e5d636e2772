"""One whole run, in order:

1. validate every parameter set with the spec's params class, as ai-runner does, and refuse a
   schedule that changes the output size (ai-runner refuses that mid-stream);
2. open the input (sources.py), so a bad one fails before the model loads;
3. load the class the spec names, prepare its models (unless --no-prepare) and
   initialize it with the spec's initial_params, as ai-runner's pipeline process does;
4. stream: put and get concurrently (local_stream.stream_frames), through the process loop
   that applies parameters and shows the loading overlay (process_loop.py), in real time for
   a stream and one image at a time for images; write each output as it comes (writers.py);
5. write the contact sheet and return the report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from pydantic import ValidationError
from runner.live.pipelines import Pipeline, PipelineSpec
from runner.live.pipelines.loader import load_pipeline_class, parse_pipeline_params
from runner.live.trickle import VideoOutput

from ai_runner_kit.contact_sheet import ContactSheet

from ..local_stream import stream_frames
from ..session.errors import EXIT_PARAMS, EXIT_STREAM, ClientError
from ..session.run import interrupt_handler
from .options import OUTPUT_FOLDER, TryOptions
from .process_loop import ParamChange, ProcessLoop, running
from .progress import ProgressBar
from .report import TryReport, latency_percentiles_ms
from .sources import Source, open_source
from .writers import Mp4Writer, PngFolderWriter, side_by_side

# ai-runner sizes the input from the start params' width and height, 512 when they have none
# (runner/live/api/api.py); the output size is the params class's get_output_resolution().
DEFAULT_INPUT_SIZE = 512
# How long one output may take: the first ones include a GPU's warm-up at a new size.
OUTPUT_TIMEOUT_S = 60.0

Say = Callable[[str], None]  # prints a line for the user


def param_changes(spec: PipelineSpec, options: TryOptions) -> list[ParamChange]:
    """The stream's parameter sets, validated; ClientError(EXIT_PARAMS) says what is wrong."""
    size = {k: v for k, v in (("width", options.width), ("height", options.height)) if v}
    first = size | options.params
    # Each set is whole (ai-runner does not merge them): later ones keep the stream's size.
    kept = {key: first[key] for key in ("width", "height") if key in first}
    wanted = [("--params", 0.0, first)] + [
        (f"--params-at {seconds:g}", seconds, kept | later) for seconds, later in options.params_at
    ]
    changes = []
    for what, seconds, raw in wanted:
        try:
            parsed = parse_pipeline_params(spec, raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']} (got {e.get('input')!r})"
                for e in error.errors()
            )
            raise ClientError(f"{what}: {problems}", EXIT_PARAMS) from None
        except (ImportError, TimeoutError) as error:  # ai-runner's guard on the params module
            raise ClientError(
                f"{what}: ai-runner cannot load the params class: {error}", EXIT_PARAMS
            ) from None
        changes.append(ParamChange(seconds, raw, parsed))
    start_size = "{}x{}".format(*changes[0].parsed.get_output_resolution())
    for (what, _, _), change in zip(wanted[1:], changes[1:], strict=True):
        later_size = "{}x{}".format(*change.parsed.get_output_resolution())
        if later_size != start_size:
            raise ClientError(
                f"{what} changes the output size from {start_size} to {later_size}: ai-runner "
                "refuses that mid-stream; give every set the same width and height",
                EXIT_PARAMS,
            )
    return changes


def default_outputs(options: TryOptions, source: Source) -> tuple[Path, Path]:
    suffix = "" if source.kind == "images" else ".mp4"
    output = options.output or OUTPUT_FOLDER / f"{source.name}{suffix}"
    sheet = options.contact_sheet or OUTPUT_FOLDER / f"{source.name}-contact-sheet.png"
    return output, sheet


class InputTap:
    """Hands the pipeline tensors made from the source's frames, and keeps each frame until its
    output arrives (for --side-by-side and the contact sheet) or a later output shows it was
    skipped."""

    def __init__(self, frames: Iterator[np.ndarray], stop: asyncio.Event) -> None:
        self._frames = frames
        self._stop = stop
        self._waiting: dict[int, np.ndarray] = {}

    def tensors(self) -> Iterator[torch.Tensor]:
        for index, rgb in enumerate(self._frames):
            if self._stop.is_set():  # Ctrl-C: end the input, keep what came out
                return
            self._waiting[index] = rgb
            # ai-runner's decoder: (1, H, W, 3) float32 in [0, 1], on the CPU
            yield torch.from_numpy(rgb).float().div_(255.0).unsqueeze(0)

    def take(self, index: int) -> np.ndarray:
        for skipped in [i for i in self._waiting if i < index]:
            del self._waiting[skipped]
        return self._waiting.pop(index)


def as_rgb(output: VideoOutput) -> np.ndarray:
    # ai-runner's encoder multiplies by 255 and casts without a clamp, so values outside [0, 1]
    # wrap around on the network; here they are clamped (the project's tests check the range).
    pixels = output.tensor[0].detach().float().clamp(0.0, 1.0).mul(255.0).round()
    return pixels.to(torch.uint8).cpu().numpy()


async def load_pipeline(spec: PipelineSpec, prepare: bool, say: Say) -> Pipeline:
    pipeline_class = load_pipeline_class(spec.pipeline_cls)
    if prepare:
        started = time.perf_counter()
        await asyncio.to_thread(pipeline_class.prepare_models)
        say(f"prepared the models in {time.perf_counter() - started:.1f} s")
    pipeline = pipeline_class()
    started = time.perf_counter()
    await pipeline.initialize(**spec.initial_params)
    say(f"initialized {pipeline_class.__name__} in {time.perf_counter() - started:.1f} s")
    return pipeline


async def run_try(spec: PipelineSpec, options: TryOptions, say: Say, warn: Say) -> TryReport:
    """The whole run; ClientError for what the user can fix. `say` and `warn` print lines."""
    changes = param_changes(spec, options)
    width = int(changes[0].raw.get("width", DEFAULT_INPUT_SIZE))
    height = int(changes[0].raw.get("height", DEFAULT_INPUT_SIZE))
    source = open_source(options.source, options.camera, width, height, options.seconds)
    try:
        output_path, sheet_path = default_outputs(options, source)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        pipeline = await load_pipeline(spec, options.prepare, say)
        try:
            return await stream(options, source, changes, pipeline, output_path, sheet_path, warn)
        finally:
            await pipeline.stop()
    finally:
        source.close()


async def stream(
    options: TryOptions,
    source: Source,
    changes: list[ParamChange],
    pipeline: Pipeline,
    output_path: Path,
    sheet_path: Path,
    warn: Say,
) -> TryReport:
    fps: Fraction | None = source.fps
    if fps is None:
        writer: Mp4Writer | PngFolderWriter = PngFolderWriter(output_path, source.image_names)
    else:
        writer = Mp4Writer(output_path, fps)
    stop = asyncio.Event()
    tap = InputTap(source.frames, stop)
    sheet = ContactSheet()
    bar = ProgressBar(source.expected_frames, quiet=options.quiet)
    latencies_s: list[float] = []
    written = 0
    report = TryReport(source=describe(options, source), kind=source.kind)
    report.input_fps = float(fps) if fps else None

    def on_output(output: VideoOutput, latency_s: float) -> None:
        nonlocal written
        rgb, input_rgb = as_rgb(output), tap.take(output.timestamp)
        if not output.is_loading_frame:  # the overlay's latency is ai-runner's, not yours
            latencies_s.append(latency_s)
        writer.write(
            output.timestamp, side_by_side(input_rgb, rgb) if options.side_by_side else rgb
        )
        label = (
            source.image_names[output.timestamp]
            if fps is None
            else f"{float(output.timestamp / fps):.1f} s"
        )
        sheet.add(label, input_rgb, rgb)
        report.height, report.width = rgb.shape[:2]
        written += 1
        bar.update(written)

    loop = ProcessLoop(pipeline, changes, fps, warn)
    try:
        with interrupt_handler(stop):
            async with running(loop):
                if fps is None:
                    await loop.settled()  # images are no stream: each sees the new weights
                result = await stream_frames(
                    loop,
                    tap.tensors(),
                    request_id="try",
                    fps=float(fps or 0),
                    drain_timeout_s=OUTPUT_TIMEOUT_S,
                    keep_outputs=False,
                    on_output=on_output,
                )
    except TimeoutError as error:
        raise ClientError(f"the pipeline stopped giving outputs: {error}", EXIT_STREAM) from None
    finally:
        bar.finish()
        writer.close()
    if not result.frames_out:
        raise ClientError("the pipeline gave no output: nothing to save", EXIT_STREAM)
    report.output = str(output_path)
    report.contact_sheet = str(sheet_path) if sheet.save(sheet_path) else None
    report.frames_in, report.frames_out = result.frames_in, result.frames_out
    report.loading_frames, report.param_changes = loop.loading_frames, loop.changes_applied
    report.elapsed_s, report.output_fps = result.elapsed_s, result.output_fps
    report.latency_ms = latency_percentiles_ms(latencies_s)
    report.interrupted = stop.is_set()
    return report


def describe(options: TryOptions, source: Source) -> str:
    if source.kind == "camera":
        return f"camera {options.camera or 'default'}"
    return str(options.source) if options.source else "sample"
