"""What each design choice of the generated live pipeline buys, measured by taking it away.

    python dev/ablation.py PACKAGE [--frames 600] [--size 512] [--repeat 3]   (dev/benchmark.sh)

PACKAGE is a generated default project's package, importable (installed, or on PYTHONPATH), with
its model prepared in MODEL_DIR. Each variant runs in a fresh process, patched from outside:
the project's own files are never changed, and none of this ships in a generated project.
For each: latency of the first frame after initialize(), the model alone, a stream at twice
what the model alone takes (capacity) and one at 30 fps, with the longest event-loop stall.
The variants take turns, `--repeat` rounds, and each number is the median of its rounds: on a
busy machine, load that comes and goes then falls on every variant alike.
"""

import argparse
import asyncio
import importlib
import json
import statistics
import subprocess
import sys
import time

VARIANTS = {
    "shipped": "as generated",
    "unbounded-queue": "pending frames queue without bound (no drop-oldest)",
    "inference-on-loop": "the model runs in put_video_frame, on the event loop",
    "no-warm-up": "initialize() loads the model but runs no frame through it",
    "contiguous-frames": "frames copied to contiguous (1, 3, H, W), not seen channels-last",
    "previous-backbone": "the toon backbone of template 0.2 (5x5 blur, brightness image)",
}


class InlineWorker:
    """The worker's interface, but infer runs at submit(), blocking the caller's event loop."""

    def __init__(self, infer, max_pending=1, max_results=2):
        self._infer, self._results = infer, asyncio.Queue()

    def start(self):
        pass

    def submit(self, job):
        try:
            self._results.put_nowait(self._infer(job))
        except Exception as error:
            self._results.put_nowait(error)

    async def next_result(self):
        result = await self._results.get()
        if isinstance(result, BaseException):
            raise result
        return result

    async def stop(self):
        pass


def previous_backbone():
    """The 0.2 toon backbone, rebuilt from its published definition, for the comparison."""
    import torch
    from torch import nn

    class PreviousToon(nn.Module):
        def __init__(self):
            super().__init__()
            self.smooth = nn.Conv2d(3, 3, 5, padding=2, groups=3, bias=False,
                                    padding_mode="replicate")  # fmt: skip
            self.gradients = nn.Conv2d(1, 2, 3, padding=1, bias=False, padding_mode="replicate")
            self.register_buffer("luma", torch.tensor((0.299, 0.587, 0.114)).view(1, 3, 1, 1))
            taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
            sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 4.0
            with torch.no_grad():
                self.smooth.weight.copy_((torch.outer(taps, taps) / 256.0).expand(3, 1, 5, 5))
                self.gradients.weight.copy_(torch.stack([sobel, sobel.T]).unsqueeze(1))

        def forward(self, frames):
            smooth = self.smooth(frames)
            bands = torch.round(smooth * 6) / 6
            brightness = (smooth * self.luma).sum(dim=1, keepdim=True)
            edge = self.gradients(brightness).square().sum(dim=1, keepdim=True).sqrt()
            return bands * (1.0 - torch.sigmoid((edge - 0.2) * 25.0))

    return PreviousToon()


def patch(package: str, variant: str) -> None:
    if variant == "unbounded-queue":
        worker = importlib.import_module("ai_runner_kit.live.worker").InferenceWorker
        original = worker.__init__
        worker.__init__ = lambda self, infer, max_pending=1, max_results=2: original(
            self, infer, 10**9, max_results
        )
    elif variant == "inference-on-loop":
        importlib.import_module("ai_runner_kit.live.pipeline").InferenceWorker = InlineWorker
    elif variant == "no-warm-up":
        kit_pipeline = importlib.import_module("ai_runner_kit.live.pipeline")
        kit_pipeline.TorchLivePipeline.warmup_runs = {"cpu": 0, "cuda": 0}
    elif variant == "contiguous-frames":
        device = importlib.import_module("ai_runner_kit.live.device")
        upload = device.DeviceFrames.upload
        device.DeviceFrames.upload = lambda self, frame: device.Upload(
            upload(self, frame).wait().contiguous()
        )
    elif variant == "previous-backbone":
        weights = importlib.import_module(f"{package}.pipeline.weights")
        weights.load_backbone = lambda directory: previous_backbone()


async def measure(package: str, frames: int, size: int) -> dict:
    from runner.live.trickle import VideoFrame

    live = importlib.import_module(f"{package}.pipeline.live")
    local_stream = importlib.import_module("ai_runner_kit.live.local_stream")
    measure_module = importlib.import_module("ai_runner_kit.measure")
    bench = importlib.import_module("ai_runner_kit.live.bench")
    pipeline_class = next(
        value for name, value in vars(live).items() if name.endswith("Pipeline") and
        isinstance(value, type) and value.__module__ == live.__name__
    )  # fmt: skip
    pipeline = pipeline_class()
    await pipeline.initialize(width=size, height=size)
    # The benchmark's frames, made off the loop's thread on the benchmark's one thread; the
    # model is timed alone there too.
    bench_thread = bench.BenchThread()
    pool = await bench.make_frame_pool(bench_thread, size, size)
    try:
        started = time.perf_counter()
        await pipeline.put_video_frame(VideoFrame(pool[0], 0, local_stream.TIME_BASE), "first")
        await pipeline.get_processed_video_frame()
        first_ms = 1000 * (time.perf_counter() - started)
        raw = await bench_thread.run(measure_module.model_only_per_second, pipeline, size, size)
        capacity = await local_stream.stream_frames(
            pipeline, bench.frames_from(pool, frames), fps=2 * raw, keep_outputs=False
        )
        stall_s = [0.0]

        async def watch_loop():
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                stall_s[0] = max(stall_s[0], time.perf_counter() - before - 0.005)

        watcher = asyncio.create_task(watch_loop())
        paced = await local_stream.stream_frames(
            pipeline, bench.frames_from(pool, 150), fps=30.0, keep_outputs=False
        )
        watcher.cancel()
    finally:
        await pipeline.stop()
        bench_thread.close()
    latencies = capacity.latencies_s
    return {
        "first_frame_ms": first_ms,
        "raw_fps": raw,
        "capacity_fps": capacity.output_fps,
        "capacity_p50_ms": capacity.latency_percentile_ms(50),
        "capacity_last_100_p50_ms": measure_module.percentile_ms(latencies[-100:], 50),
        "at_30_out": paced.frames_out,
        "at_30_p95_ms": paced.latency_percentile_ms(95),
        "loop_stall_ms": 1000 * stall_s[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", help="the generated project's package, e.g. my_pipeline")
    parser.add_argument("--frames", type=int, default=600, help="frames in the capacity stream")
    parser.add_argument("--size", type=int, default=512, help="frame width and height")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every variant")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one, in-process
    args = parser.parse_args()
    if args.variant:
        patch(args.package, args.variant)
        print(json.dumps(asyncio.run(measure(args.package, args.frames, args.size))))
        return 0
    header = ("variant", "first ms", "raw fps", "cap fps", "cap p50", "last100 p50",
              "30fps out", "30fps p95", "loop stall")  # fmt: skip
    print(("{:<19}" + "{:>12}" * 8).format(*header))
    rounds: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.repeat):
        for variant in VARIANTS:
            done = subprocess.run(
                [sys.executable, __file__, args.package, "--variant", variant,
                 "--frames", str(args.frames), "--size", str(args.size)],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{variant}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            rounds[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for variant, rows in rounds.items():
        medians = [statistics.median(row[key] for row in rows) for key in rows[0]]
        print(("{:<19}" + "{:>12.1f}" * 8).format(variant, *medians))
    for variant, meaning in VARIANTS.items():
        print(f"  {variant}: {meaning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
