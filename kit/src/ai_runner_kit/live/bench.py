"""Benchmark: prepare, initialize, stream frames through the pipeline as ai-runner does.

    <name>-bench                                  # 300 frames at 30 fps, 512x512
    <name>-bench --input-fps 0 --json             # capacity; JSON on the last line
    <name>-bench --frames 10000 --input-fps 60    # soak: does it drift?
    ai-runner-kit bench --spec noop               # any ai-runner live pipeline

The pipeline is the one the spec names, with parameters validated by its params class, as
ai-runner loads them. Three things are timed: the model alone (through the Pipeline's optional
`benchmark_step` hook), the pipeline streaming frames, and a pass-through pipeline on the same
path (passthrough.py: what the path costs without a model). Numbers cover the pipeline process
only; video decoding, encoding and transport are ai-runner's and are not measured here.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch
from pydantic import ValidationError
from runner.live.pipelines import Pipeline, PipelineSpec
from runner.live.pipelines.loader import load_pipeline_class, parse_pipeline_params

from ai_runner_kit.measure import (
    NO_GPU,
    describe_device,
    describe_runtime,
    model_only_per_second,
    peak_gpu_mib,
    peak_rss_mib,
    percentile_ms,
    report_json,
    rss_mib,
    step_times_s,
)

from .device import DEVICE_VARIABLE, model_device
from .local_stream import StreamResult, stream_frames, synthetic_frame
from .passthrough import PassthroughPipeline

T = TypeVar("T")

FRAME_POOL = 30
# At --input-fps 0 frames come this many times faster than the model alone can take them.
CAPACITY_OVERDRIVE = 2.0
MODEL_LATENCY_RUNS = 30  # the model alone, timed one run at a time for its percentiles
SOAK_WINDOW = 1000  # frames at each end of a long run whose latencies are compared
PASSTHROUGH_FRAMES = 300
PRIMING_FRAMES = 10  # through the pipeline before the model is timed alone (see prime())


class BenchThread:
    """The one thread that runs the benchmark's own torch work: the frame pool and the model
    alone. Off the event loop's thread, as ai-runner's loop runs no torch operation on a CPU
    frame either; and always the same thread, because on a CPU each thread that runs torch keeps
    a team of OpenMP threads of its own, and how many teams a process holds decides whether
    libgomp's threads spin or sleep between operations. asyncio.to_thread picks whichever of its
    pool's threads is free, so the number of teams, and with it the model alone's speed, changed
    from run to run (docs/performance.md)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-torch")

    async def run(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


async def make_frame_pool(bench_thread: BenchThread, width: int, height: int) -> list[torch.Tensor]:
    """FRAME_POOL frames, made once and reused by every stream of a run, so that making frames
    costs the streams nothing (ai-runner's decoder runs in another process)."""
    return await bench_thread.run(
        lambda: [synthetic_frame(width, height, i) for i in range(FRAME_POOL)]
    )


def frames_from(pool: list[torch.Tensor], count: int) -> Iterator[torch.Tensor]:
    return (pool[i % len(pool)] for i in range(count))


async def prime(pipeline: Pipeline, pool: list[torch.Tensor]) -> None:
    """Runs a few frames through the pipeline, so that the model alone is then timed in the
    state the stream runs in: every thread the pipeline uses has started. On a CPU that
    matters: once a second thread has run torch, torch's OpenMP threads stop spinning between
    operations, and the default model alone, timed before the pipeline's first frame, was 20
    to 30% faster than it ever runs again in that process (docs/performance.md)."""
    await stream_frames(pipeline, frames_from(pool, PRIMING_FRAMES), fps=0.0, keep_outputs=False)


def progress_bar(label: str, total: int) -> Callable[[int], None]:
    """Shows `done/total` on stderr while a stream runs, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return lambda done: None
    shown = [0.0]

    def show(done: int) -> None:
        now = time.monotonic()
        if now - shown[0] < 0.1 and done < total:
            return
        shown[0] = now
        filled = 30 * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled:<30}] {done}/{total}", end=end, file=sys.stderr)

    return show


async def stream(
    pipeline: Pipeline, pool: list[torch.Tensor], args: argparse.Namespace, fps: float, label: str
):
    """(result, RSS growth in MiB from the first output, or from output SOAK_WINDOW in a run
    long enough to have one, to the end)."""
    show = progress_bar(label, args.frames)
    outputs = 0
    rss_from: float | None = None

    def on_output(_output: object, _latency_s: float) -> None:
        nonlocal outputs, rss_from
        outputs += 1
        if outputs == 1 or outputs == SOAK_WINDOW:
            rss_from = rss_mib()
        show(outputs)

    frames = frames_from(pool, args.frames)
    result = await stream_frames(pipeline, frames, fps=fps, keep_outputs=False, on_output=on_output)
    show(args.frames)
    now = rss_mib()
    growth = None if now is None or rss_from is None else now - rss_from
    return result, growth


def latency_keys(result: StreamResult) -> dict:
    latencies = result.latencies_s
    soak = len(latencies) >= 2 * SOAK_WINDOW
    return {
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "p99_ms": percentile_ms(latencies, 99),
        "p50_first_1000_ms": percentile_ms(latencies[:SOAK_WINDOW], 50) if soak else None,
        "p50_last_1000_ms": percentile_ms(latencies[-SOAK_WINDOW:], 50) if soak else None,
    }


async def passthrough_fps(pool: list[torch.Tensor]) -> float:
    """Frames one at a time through the pass-through pipeline: 1000 / this is what the path
    costs each frame, in ms, with no model in it."""
    pipeline = PassthroughPipeline()
    await pipeline.initialize()
    try:
        frames = frames_from(pool, PASSTHROUGH_FRAMES)
        result = await stream_frames(pipeline, frames, fps=0.0, keep_outputs=False)
    finally:
        await pipeline.stop()
    return result.output_fps


async def run(spec: PipelineSpec, args: argparse.Namespace) -> dict:
    params = parse_pipeline_params(
        spec, {**spec.initial_params, **args.params, "width": args.width, "height": args.height}
    )
    pipeline_class = load_pipeline_class(spec.pipeline_cls)
    device = os.environ.get(DEVICE_VARIABLE) or "auto"
    report: dict = {
        "pipeline": spec.name,
        "runtime": describe_runtime(),
        "device": f"{describe_device()}; {DEVICE_VARIABLE}={device}",
        "params": params.model_dump(mode="json"),
        "width": args.width,
        "height": args.height,
    }
    print(f"pipeline: {spec.name} ({spec.pipeline_cls})")
    print(f"runtime : {report['runtime']}")
    print(f"device  : {report['device']}")
    if not args.no_prepare:
        started = time.perf_counter()
        pipeline_class.prepare_models()
        report["prepare_s"] = time.perf_counter() - started
        print(f"prepare : {report['prepare_s']:.2f} s ({pipeline_class.__name__}.prepare_models)")

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    pipeline = pipeline_class()
    started = time.perf_counter()
    await pipeline.initialize(**params.model_dump())
    report["initialize_s"] = time.perf_counter() - started
    print(f"init    : {report['initialize_s']:.2f} s (load, warm-up at {args.width}x{args.height})")
    bench_thread = BenchThread()
    try:
        size = (args.width, args.height)
        pool = await make_frame_pool(bench_thread, *size)
        await prime(pipeline, pool)
        report["raw_fps"] = await bench_thread.run(model_only_per_second, pipeline, *size)
        # At the input's pace, so that the pipeline's latency is compared with the model's
        # own at the same pace; back to back at capacity.
        pace_s = 1 / args.input_fps if args.input_fps > 0 else 0.0
        report["model_every_ms"] = 1000 * pace_s or None
        model_times = await bench_thread.run(
            step_times_s, pipeline, *size, MODEL_LATENCY_RUNS, pace_s
        )
        input_fps = args.input_fps
        if input_fps == 0 and report["raw_fps"] is not None:
            input_fps = CAPACITY_OVERDRIVE * report["raw_fps"]
        result, report["rss_growth_mb"] = await stream(pipeline, pool, args, input_fps, "pipeline")
    finally:
        await pipeline.stop()
        bench_thread.close()
    report["passthrough_fps"] = await passthrough_fps(pool)

    report |= latency_keys(result) | {
        "input_fps": input_fps,
        "frames_in": result.frames_in,
        "frames_out": result.frames_out,
        "dropped": result.frames_in - result.frames_out,
        "pipeline_fps": result.output_fps,
        "model_p50_ms": percentile_ms(model_times, 50) if model_times else None,
        "model_p95_ms": percentile_ms(model_times, 95) if model_times else None,
        "peak_rss_mb": peak_rss_mib(),
        "peak_gpu_mb": peak_gpu_mib(),
    }
    print_table(report)
    return report


def print_table(report: dict) -> None:
    fps = report["input_fps"]
    paced = f"paced at {fps:g} fps" if fps else "each once the previous came out"
    print(
        f"stream  : {report['frames_in']} frames in ({paced}), {report['frames_out']} out "
        f"({report['dropped']} dropped: the pipeline works on the newest frame)"
    )
    print(f"{'':12}{'fps':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    if report["raw_fps"] is None:
        print("model   : not timed alone (add `benchmark_step` to the Pipeline: see ai_runner_kit)")
    else:
        every = report["model_every_ms"]
        pace = f"{'':12}(latency: a run every {every:.0f} ms, the input's pace)" if every else ""
        print(
            f"{'model alone':12}{report['raw_fps']:9.1f}{report['model_p50_ms']:9.1f}"
            f"{report['model_p95_ms']:9.1f}{pace}"
        )
    print(
        f"{'pipeline':12}{report['pipeline_fps']:9.1f}{report['p50_ms']:9.1f}"
        f"{report['p95_ms']:9.1f}{report['p99_ms']:9.1f}   (put -> get; latency p50 "
        f"{report['p50_ms']:.1f} ms)"
    )
    passthrough = report["passthrough_fps"]
    print(f"{'passthrough':12}{passthrough:9.1f}   ({1000 / passthrough:.2f} ms a frame, no model)")
    if report["raw_fps"] and fps >= report["raw_fps"]:  # the input outran the model
        print(f"ratio   : pipeline/model = {report['pipeline_fps'] / report['raw_fps']:.2f}")
    growth = report["rss_growth_mb"]
    grew = "" if growth is None else f", {growth:+.1f} MiB during the stream"
    gpu = report["peak_gpu_mb"]
    print(f"memory  : peak RSS {report['peak_rss_mb']:.0f} MiB{grew}" + (
        f"; peak GPU {gpu:.0f} MiB" if gpu is not None else ""
    ))  # fmt: skip
    if report["p50_first_1000_ms"] is not None:
        print(
            f"soak    : latency p50 {report['p50_first_1000_ms']:.1f} ms over the first "
            f"{SOAK_WINDOW} frames, {report['p50_last_1000_ms']:.1f} ms over the last {SOAK_WINDOW}"
        )


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('give a JSON object of parameters, e.g. {"strength": 0.5}')
    return value


def parse_args(argv: Sequence[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames to send (default 300)")
    parser.add_argument("--width", type=int, default=512, help="frame width (default 512)")
    parser.add_argument("--height", type=int, default=512, help="frame height (default 512)")
    parser.add_argument(
        "--input-fps",
        "--fps",
        dest="input_fps",
        type=float,
        default=30.0,
        help="frames sent per second, like a live stream (default 30); 0: capacity, frames sent "
        f"{CAPACITY_OVERDRIVE:g}x faster than the model alone takes them (one at a time when the "
        "pipeline has no benchmark_step)",
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help=f"run the model there: sets {DEVICE_VARIABLE}, which the kit's model_device() reads "
        "(default: cuda when torch sees a GPU, else cpu)",
    )
    parser.add_argument(
        "--params",
        type=json_object,
        default={},
        help="the stream's parameters as a JSON object (default: the params class defaults)",
    )
    parser.add_argument("--no-prepare", action="store_true", help="skip prepare_models()")
    parser.add_argument("--require-gpu", action="store_true", help="fail if no CUDA GPU is visible")
    parser.add_argument(
        "--json", action="store_true", help="print the numbers as one JSON object, last line"
    )
    parser.add_argument("--json-file", metavar="PATH", help="also write that JSON to this file")
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error("--frames must be at least 1")
    if args.input_fps < 0:
        parser.error("--input-fps must be 0 (capacity) or more")
    return args


def main(spec: PipelineSpec, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    if args.require_gpu and not torch.cuda.is_available():
        print(NO_GPU, file=sys.stderr)
        return 2
    if args.device:
        os.environ[DEVICE_VARIABLE] = args.device
    try:
        model_device()  # what the pipelines will pick: a device torch cannot use fails here
    except ValueError as error:
        print(f"Cannot benchmark: {error}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(run(spec, args))
    except ValidationError as error:  # bad --width/--height/--params: pydantic names the field
        print(f"Invalid benchmark parameters: {error}", file=sys.stderr)
        return 2
    if args.json_file:
        with open(args.json_file, "w") as out:
            print(report_json(report), file=out)
    if args.json:
        print(report_json(report), flush=True)  # the last line of stdout: `| tail -n 1`
    return 0
