"""Benchmark: prepare, load, then send images through the real HTTP app, N at a time.

    <name>-bench --requests 64 --concurrency 8 --width 512 --height 512
    <name>-bench --json | tail -n 1     # the numbers as JSON

Requests go through ai-runner's app (create_app) in this process, from upload to answer, so the
numbers include decoding and encoding; the network does not come into them. The pipeline is
the class the spec names; what a request is comes from its optional `benchmark_request` hook
(the default uploads a PNG as the multipart field `image` to the router's first POST route).
"""

import argparse
import io
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import torch
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from runner.app import create_app
from runner.pipelines.base import Pipeline

from ai_runner_kit.measure import (
    NO_GPU,
    describe_device,
    describe_runtime,
    model_only_per_second,
    peak_gpu_mib,
    peak_rss_mib,
    percentile_ms,
    quiet_request_logs,
    report_json,
)
from ai_runner_kit.model_dir import model_dir_root
from ai_runner_kit.prepare import prepare
from ai_runner_kit.specs import BatchSpec, import_object

LOAD_TIMEOUT_S = 600


def sample_png(width: int, height: int) -> bytes:
    """A colour gradient: the same image on every machine."""
    ys = torch.linspace(0, 255, height).view(height, 1).expand(height, width)
    xs = torch.linspace(0, 255, width).view(1, width).expand(height, width)
    pixels = torch.stack([xs, ys, (xs + ys) / 2], dim=-1).round().to(torch.uint8).numpy()
    out = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(out, format="PNG")
    return out.getvalue()


def default_request(pipeline: Pipeline, png: bytes) -> dict:
    posts = [
        route.path
        for route in pipeline.router.routes
        if isinstance(route, APIRoute) and "POST" in (route.methods or ())
    ]
    if not posts:
        raise SystemExit(
            f"{type(pipeline).__name__}.router has no POST route: define "
            "`benchmark_request(self, png)` on it to say what a benchmark request is."
        )
    return {"method": "POST", "url": posts[0], "files": {"image": ("bench.png", png, "image/png")}}


def benchmark_request(pipeline: Pipeline, png: bytes) -> dict:
    hook = getattr(pipeline, "benchmark_request", None)
    return hook(png) if hook is not None else default_request(pipeline, png)


def wait_until_loaded(client: TestClient) -> str:
    """Poll /health as go-livepeer does; return the first status that is not LOADING."""
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while (status := client.get("/health").json()["status"]) == "LOADING":
        if time.monotonic() > deadline:
            return "LOADING"
        time.sleep(0.05)
    return status


def run(spec: BatchSpec, args: argparse.Namespace) -> dict | None:
    """Prints the numbers as it goes; returns them, or None if the pipeline did not load."""
    pipeline_class = import_object(spec.pipeline_cls)
    print(f"pipeline: {spec.name} ({pipeline_class.__module__}:{pipeline_class.__name__})")
    print(f"runtime : {describe_runtime()}")
    print(f"device  : {describe_device()}")
    if not args.no_prepare:
        started = time.perf_counter()
        if prepare(pipeline_class):
            print(f"prepare : {time.perf_counter() - started:.2f} s")
        else:
            print("prepare : none (the pipeline has no prepare_models)")
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    png = sample_png(args.width, args.height)

    started = time.perf_counter()
    pipeline = pipeline_class(spec.name, str(model_dir_root()))
    with TestClient(create_app(pipeline)) as client:
        status = wait_until_loaded(client)
        if status != "OK":
            detail = getattr(pipeline, "load_error", None) or "see the log above"
            print(f"The pipeline is {status}, not OK, after loading: {detail}", file=sys.stderr)
            return None
        print(f"load    : {time.perf_counter() - started:.2f} s (until /health said OK)")
        request = benchmark_request(pipeline, png)
        turned_away: list[int] = []

        def send(_: int) -> float:
            """One request, retried as a well-behaved client would when the pipeline is busy
            (503 with Retry-After); its latency includes the waits."""
            sent = time.perf_counter()
            while (answer := client.request(**request)).status_code == 503 and (
                retry_after := answer.headers.get("retry-after")
            ):
                turned_away.append(1)
                time.sleep(float(retry_after))
            answer.raise_for_status()
            return time.perf_counter() - sent

        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as senders:
            latencies = list(senders.map(send, range(args.requests)))
        elapsed = time.perf_counter() - started
        model_fps = model_only_per_second(pipeline, args.width, args.height)

    report = {
        "pipeline": spec.name,
        "runtime": describe_runtime(),
        "device": describe_device(),
        "width": args.width,
        "height": args.height,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "requests_per_s": args.requests / elapsed,
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "p99_ms": percentile_ms(latencies, 99),
        "retried_503": len(turned_away),
        "raw_fps": model_fps,
        "peak_rss_mb": peak_rss_mib(),
        "peak_gpu_mb": peak_gpu_mib(),
    }
    print(
        f"requests: {args.requests} of {args.width}x{args.height} PNG, {args.concurrency} at a "
        f"time: {report['requests_per_s']:.1f} requests/s"
    )
    print(
        f"latency : p50 {report['p50_ms']:.1f} ms, p95 {report['p95_ms']:.1f} ms, "
        f"p99 {report['p99_ms']:.1f} ms (upload to answer)"
    )
    if turned_away:
        print(f"busy    : {len(turned_away)} answers were 503, each retried after its Retry-After")
    if model_fps is None:
        print("model   : not timed alone (add `benchmark_step` to the Pipeline: see ai_runner_kit)")
    else:
        print(f"model   : {model_fps:.1f} images/s alone, one at a time")
    gpu = report["peak_gpu_mb"]
    print(f"memory  : peak RSS {report['peak_rss_mb']:.0f} MiB" + (
        f"; peak GPU {gpu:.0f} MiB" if gpu is not None else ""
    ))  # fmt: skip
    return report


def parse_args(argv: Sequence[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64, help="requests to send (default 64)")
    parser.add_argument("--concurrency", type=int, default=8, help="at a time (default 8)")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--no-prepare", action="store_true", help="skip prepare_models()")
    parser.add_argument("--require-gpu", action="store_true", help="fail if no CUDA GPU is visible")
    parser.add_argument(
        "--json", action="store_true", help="print the numbers as one JSON object, last line"
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    return args


def main(spec: BatchSpec, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    quiet_request_logs()
    args = parse_args(argv, prog)
    if args.require_gpu and not torch.cuda.is_available():
        print(NO_GPU, file=sys.stderr)
        return 2
    report = run(spec, args)
    if report is None:
        return 1
    if args.json:
        print(report_json(report), flush=True)  # the last line of stdout: `| tail -n 1`
    return 0
