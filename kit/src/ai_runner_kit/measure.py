"""What both benchmarks report: the runtime and device they ran on, percentiles, model timing,
memory; and how they print it."""

import json
import logging
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

NO_GPU = (
    "No CUDA GPU is visible to torch (torch.cuda.is_available() is False). Check `nvidia-smi`, "
    "that torch is a CUDA build, and `--gpus all` under Docker; or drop --require-gpu to "
    "benchmark on the CPU."
)


def describe_runtime() -> str:
    try:
        runner_version = version("ai-runner")
    except PackageNotFoundError:
        runner_version = "not installed"
    if "double" in runner_version:
        return (
            f"ai-runner {runner_version}: the OFFLINE DOUBLE of ai-runner's pipeline API, not the "
            "real runtime (same calls and frame format; no trickle transport, no process isolation)"
        )
    return f"ai-runner {runner_version}"


def describe_device() -> str:
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name()})"
    # how torch's CPU threads were set up: the numbers depend on it (commands.py says why)
    openmp = ", ".join(
        f"{name}={os.environ[name]}"
        for name in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")
        if os.environ.get(name)
    )
    count = torch.get_num_threads()
    threads = f"{count} torch thread{'' if count == 1 else 's'}" + (f", {openmp}" if openmp else "")
    return f"cpu (no CUDA GPU visible to torch; {threads})"


def percentile_ms(seconds: list[float], percent: float) -> float:
    """The `percent` percentile (0-100, in steps of 0.1) of durations in seconds, in ms,
    interpolated between samples; NaN when there are none."""
    if len(seconds) < 2:
        return 1000.0 * seconds[0] if seconds else float("nan")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be within 0-100, got {percent}")
    if percent in (0, 100):
        return 1000.0 * (min(seconds) if percent == 0 else max(seconds))
    cuts = statistics.quantiles(seconds, n=1000, method="inclusive")
    return 1000.0 * cuts[min(998, max(0, round(percent * 10) - 1))]


# The model alone is timed in MODEL_TIMING_ROUNDS rounds of MODEL_TIMING_RUNS runs, and the
# median round counts: one round is a fraction of a second, and on a shared machine a single
# round moved the number by 13% from one benchmark to the next.
MODEL_TIMING_RUNS = 40
MODEL_TIMING_ROUNDS = 5


def model_only_per_second(pipeline: object, width: int, height: int) -> float | None:
    """The model alone, through the pipeline's optional `benchmark_step(width, height)` hook:
    the ceiling for the pipeline. None when the pipeline has no such hook."""
    hook = getattr(pipeline, "benchmark_step", None)
    if hook is None:
        return None
    step = hook(width, height)
    with torch.inference_mode():
        rounds = [steps_per_second(step, MODEL_TIMING_RUNS) for _ in range(MODEL_TIMING_ROUNDS)]
    return statistics.median(rounds)


def step_times_s(
    pipeline: object, width: int, height: int, count: int, every_s: float = 0.0
) -> list[float] | None:
    """Each of `count` runs of the model alone, timed one by one (waiting for the GPU after
    each): the model's own latency, which the pipeline's is compared with. With `every_s` > 0,
    one run starts every `every_s` seconds, at a stream's pace: on a CPU the model run once
    every 33 ms is slower than back to back, since torch's threads fall asleep in between."""
    hook = getattr(pipeline, "benchmark_step", None)
    if hook is None:
        return None
    step = hook(width, height)
    times = []
    next_run = time.perf_counter()
    with torch.inference_mode():
        for _ in range(count):
            time.sleep(max(0.0, next_run - time.perf_counter()))
            next_run += every_s
            started = time.perf_counter()
            step()
            synchronize()
            times.append(time.perf_counter() - started)
    return times


def steps_per_second(step: Callable[[], object], count: int, warmup: int = 3) -> float:
    """Runs `step` `warmup` times, then times `count` runs, waiting for the GPU at both ends."""
    for _ in range(warmup):
        step()
    synchronize()
    started = time.perf_counter()
    for _ in range(count):
        step()
    synchronize()
    return count / (time.perf_counter() - started)


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_gpu_mib() -> float | None:
    if not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def peak_rss_mib() -> float:
    """The most memory this process has held (resident set), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes there, KiB here


def rss_mib() -> float | None:
    """The memory this process holds now (resident set), in MiB; None where /proc is absent."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * resource.getpagesize() / 2**20


def report_json(report: dict) -> str:
    """The report as one line of JSON (`--json` prints it last on stdout, for scripts to read
    with `tail -n 1`). NaN, where there were no samples, becomes null: JSON has no NaN."""
    clean = {
        key: None if isinstance(value, float) and value != value else value
        for key, value in report.items()
    }
    return json.dumps(clean, sort_keys=True)


def quiet_request_logs() -> None:
    """httpx logs every request at INFO, and the real ai-runner sets INFO logging up when its
    app is imported: a benchmark or try of a batch pipeline would print a line a request."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
