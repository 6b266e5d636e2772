"""What both benchmarks report: the runtime and device they ran on, percentiles, model timing."""

import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

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
    return "cpu (no CUDA GPU visible to torch)"


def percentile_ms(seconds: list[float], percent: float) -> float:
    ordered = sorted(seconds)
    if not ordered:
        return float("nan")
    return 1000.0 * ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


MODEL_TIMING_RUNS = 50


def model_only_per_second(pipeline: object, width: int, height: int) -> float | None:
    """The model alone, through the pipeline's optional `benchmark_step(width, height)` hook:
    the ceiling for the pipeline. None when the pipeline has no such hook."""
    hook = getattr(pipeline, "benchmark_step", None)
    if hook is None:
        return None
    step = hook(width, height)
    with torch.inference_mode():
        return steps_per_second(step, MODEL_TIMING_RUNS)


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
