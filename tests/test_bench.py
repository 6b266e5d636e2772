"""The benchmarks of generated projects: `--json` prints one parseable object on the last line
with every number the performance docs quote, the pass-through pipeline returns frames intact,
`--input-fps` paces the input, and frames reach the device and come back as ai-runner wants.

Runs on the offline double with CPU torch, at the smallest size ai-runner accepts, from the
rendered sources (PYTHONPATH=src: nothing is installed, so these tests can run beside others
that install projects). Timings are printed by the benchmark, never asserted here, beyond what
pacing must give.
"""

import asyncio
import json
import math
import subprocess
import sys
import threading
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from .projects import project_env
from .rendering import render

SIZE = ["--width", "384", "--height", "384"]
LIVE_KEYS = {
    "raw_fps": float, "pipeline_fps": float, "passthrough_fps": float, "p50_ms": float,
    "p95_ms": float, "p99_ms": float, "dropped": int, "peak_rss_mb": float,
    "model_p50_ms": float, "model_p95_ms": float, "rss_growth_mb": float, "input_fps": float,
    "frames_in": int, "frames_out": int,
}  # fmt: skip
BATCH_KEYS = {"requests_per_s": float, "p50_ms": float, "p95_ms": float, "p99_ms": float,
              "peak_rss_mb": float, "raw_fps": float}  # fmt: skip


@pytest.fixture(scope="module")
def live_project(template, tmp_path_factory) -> Path:
    return render(template, tmp_path_factory.mktemp("bench") / "p", pipeline_name="bench-check")


def bench(project: Path, package: str, *arguments: str) -> subprocess.CompletedProcess:
    env = project_env(project) | {"PYTHONPATH": str(project / "src")}
    env.pop("PIPELINE_DEVICE", None)
    return subprocess.run(
        [sys.executable, "-m", f"{package}.runtime.bench", *arguments],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def last_json_line(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_types(report: dict, keys: dict[str, type]) -> None:
    for key, kind in keys.items():
        value = report[key]
        assert isinstance(value, kind) and not isinstance(value, bool), (key, value)
        if kind is float:
            assert math.isfinite(value), (key, value)
            assert value >= 0 or key == "rss_growth_mb", (key, value)  # memory may shrink


def test_capacity_json_has_every_number_on_the_last_line(live_project):
    report = last_json_line(bench(live_project, "bench_check", *SIZE, "--frames", "40",
                                  "--input-fps", "0", "--json"))  # fmt: skip
    assert_types(report, LIVE_KEYS)
    assert report["peak_gpu_mb"] is None  # no GPU here
    # a short run has no soak window: the keys are there, empty
    assert report["p50_first_1000_ms"] is None and report["p50_last_1000_ms"] is None
    assert report["frames_in"] == 40 and report["dropped"] == 40 - report["frames_out"]
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    # capacity: the input outruns the model, at twice what it takes alone
    assert report["input_fps"] == pytest.approx(2 * report["raw_fps"])
    assert report["model_every_ms"] is None  # the model's latency, back to back


def test_input_fps_paces_the_stream(live_project):
    report = last_json_line(bench(live_project, "bench_check", *SIZE, "--frames", "24",
                                  "--input-fps", "12", "--no-prepare", "--json"))  # fmt: skip
    assert report["input_fps"] == 12
    # the model's own latency is timed at the same pace, one run every 1/12 s
    assert report["model_every_ms"] == pytest.approx(1000 / 12)
    # paced: no faster than the input, which took 2 s to send (capacity would be far faster)
    assert 0 < report["pipeline_fps"] <= 12 * 1.1, report


def test_human_table_without_json_and_a_clear_error_for_a_missing_gpu(live_project):
    table = bench(live_project, "bench_check", *SIZE, "--frames", "10", "--no-prepare")
    assert table.returncode == 0, table.stderr[-3000:]
    assert "passthrough" in table.stdout and "10 frames in" in table.stdout
    assert not table.stdout.strip().splitlines()[-1].startswith("{")
    if not torch.cuda.is_available():
        refused = bench(live_project, "bench_check", "--device", "cuda", "--frames", "5")
        assert refused.returncode == 2
        assert "PIPELINE_DEVICE" in refused.stderr and "no CUDA GPU" in refused.stderr


def test_batch_bench_json_last_line(template, tmp_path):
    project = render(template, tmp_path / "p", pipeline_name="bench-batch", pipeline_kind="batch")
    report = last_json_line(bench(project, "bench_batch", "--requests", "4", "--concurrency", "2",
                                  "--width", "64", "--height", "64", "--json"))  # fmt: skip
    assert_types(report, BATCH_KEYS)
    assert report["requests"] == 4


# --- in this process: the pass-through pipeline and the device module ---------------------------


@pytest.fixture(scope="module")
def runtime(live_project):
    sys.path.insert(0, str(live_project / "src"))
    try:
        from bench_check.runtime import device, passthrough

        yield device, passthrough
    finally:
        sys.path.remove(str(live_project / "src"))


def test_a_long_run_compares_its_first_and_last_thousand_frames(runtime):
    from bench_check.runtime import bench, local_stream

    result = local_stream.StreamResult(latencies_s=[0.010] * 1000 + [0.5] * 500 + [0.020] * 1000)
    keys = bench.latency_keys(result)
    assert keys["p50_first_1000_ms"] == pytest.approx(10.0)
    assert keys["p50_last_1000_ms"] == pytest.approx(20.0)
    assert keys["p99_ms"] == pytest.approx(500.0)
    assert bench.latency_keys(local_stream.StreamResult(latencies_s=[0.01] * 1999))[
        "p50_first_1000_ms"
    ] is None  # fmt: skip


def test_the_model_alone_is_timed_after_frames_went_through_and_off_the_event_loop(
    runtime, monkeypatch
):
    # Timed before the pipeline's first frame, a CPU model is faster than it ever runs again
    # in that process; ai-runner's event loop runs no torch on a CPU frame, nor may the bench.
    from bench_check.runtime import bench

    _, passthrough = runtime
    loop_thread = threading.current_thread()  # asyncio.run runs its loop on this thread
    events: list[str] = []

    def where() -> str:
        return "on the loop" if threading.current_thread() is loop_thread else "off the loop"

    class Recording(passthrough.PassthroughPipeline):  # each frame comes back as it went
        async def put_video_frame(self, frame, request_id):
            events.append("frame")
            await super().put_video_frame(frame, request_id)

        def benchmark_step(self, width, height):
            return lambda: events.append(f"model {where()}")

    frames_made: set[str] = set()
    make_frame = bench.synthetic_frame
    monkeypatch.setattr(
        bench, "synthetic_frame", lambda *args: frames_made.add(where()) or make_frame(*args)
    )
    monkeypatch.setattr(bench, "load_pipeline_class", lambda _path: Recording)
    args = bench.parse_args([*SIZE, "--frames", "12", "--input-fps", "0", "--no-prepare"])
    report = asyncio.run(bench.run(args))

    first_model = events.index("model off the loop")
    assert events[:first_model] == ["frame"] * bench.PRIMING_FRAMES
    assert "model on the loop" not in events and frames_made == {"off the loop"}
    assert report["frames_in"] == 12 and report["raw_fps"] > 0


def test_the_example_hook_runs_the_model_on_a_different_frame_each_call(
    runtime, monkeypatch, tmp_path
):
    # One frame over and over stays in a CPU's cache: the model alone would look faster than
    # any stream, whose frames are all new, can run it.
    from bench_check.pipeline import live

    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    live.BenchCheckPipeline.prepare_models()
    pipeline = live.BenchCheckPipeline()

    async def frames_the_model_sees() -> list[int]:
        await pipeline.initialize(width=384, height=384)
        try:
            seen: list[int] = []
            pipeline._effect = lambda frames, strength: seen.append(frames.data_ptr())
            step = pipeline.benchmark_step(384, 384)
            for _ in range(2 * live.BENCHMARK_FRAMES):
                step()
            return seen
        finally:
            await pipeline.stop()

    seen = asyncio.run(frames_the_model_sees())
    assert live.BENCHMARK_FRAMES >= 8
    assert len(set(seen)) == live.BENCHMARK_FRAMES  # all different, then the same again
    assert seen[: live.BENCHMARK_FRAMES] == seen[live.BENCHMARK_FRAMES :]


def test_passthrough_returns_each_frame_unchanged(runtime):
    from runner.live.trickle import VideoFrame

    _, passthrough = runtime
    frame = torch.rand(1, 64, 96, 3, generator=torch.Generator().manual_seed(1))

    async def one_frame():
        pipeline = passthrough.PassthroughPipeline()
        await pipeline.initialize()
        try:
            await pipeline.put_video_frame(VideoFrame(frame, 7, Fraction(1, 30)), "request-7")
            return await asyncio.wait_for(pipeline.get_processed_video_frame(), timeout=30)
        finally:
            await pipeline.stop()

    output = asyncio.run(one_frame())
    assert output.request_id == "request-7" and output.timestamp == 7
    assert output.tensor.dtype == torch.float32 and output.tensor.device.type == "cpu"
    torch.testing.assert_close(output.tensor, frame, rtol=0, atol=0)


def test_upload_on_the_cpu_is_a_channels_last_view_and_download_clamps(runtime):
    device, _ = runtime
    frames = device.DeviceFrames(torch.device("cpu"), torch.float32)
    frame = torch.rand(1, 32, 48, 3)
    pixels = frames.upload(frame).wait()
    assert pixels.shape == (1, 3, 32, 48)
    assert pixels.data_ptr() == frame.data_ptr()  # no copy
    assert pixels.is_contiguous(memory_format=torch.channels_last)

    image = torch.tensor([math.nan, math.inf, -math.inf, 1.5, -0.5, 0.25]).view(1, 3, 1, 2)
    back = frames.download(image.half())
    assert back.shape == (1, 1, 2, 3) and back.dtype == torch.float32 and back.is_contiguous()
    assert back.permute(0, 3, 1, 2).flatten().tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 0.25]


def test_half_precision_frames_round_trip_within_half_precision(runtime):
    device, _ = runtime
    frames = device.DeviceFrames(torch.device("cpu"), torch.float16)
    frame = torch.rand(1, 16, 16, 3)
    pixels = frames.upload(frame).wait()
    assert pixels.dtype == torch.float16
    torch.testing.assert_close(frames.download(pixels), frame, atol=1e-3, rtol=0)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("", "cuda" if torch.cuda.is_available() else "cpu"), ("cpu", "cpu"), (" cpu ", "cpu")],
)
def test_model_device_follows_pipeline_device(runtime, monkeypatch, wanted, expected):
    device, _ = runtime
    monkeypatch.setenv("PIPELINE_DEVICE", wanted)
    assert device.model_device().type == expected


@pytest.mark.parametrize(
    ("wanted", "says"),
    [("gpu", "not a torch device"), ("meta", "runs on cpu or cuda")]
    + ([] if torch.cuda.is_available() else [("cuda", "no CUDA GPU")]),
)
def test_model_device_refuses_what_it_cannot_use(runtime, monkeypatch, wanted, says):
    device, _ = runtime
    monkeypatch.setenv("PIPELINE_DEVICE", wanted)
    with pytest.raises(ValueError, match=says):
        device.model_device()
