"""The live benchmark's internals (ai_runner_kit.live.bench), in this process: the soak keys, the
order in which it primes the pipeline and times the model alone, and the pass-through pipeline
it compares with. The command itself runs on generated projects in tests/test_bench.py."""

import asyncio
import threading
from fractions import Fraction

import pytest
import torch
from ai_runner_kit.live import bench, local_stream, passthrough
from runner.live.pipelines import PipelineSpec
from runner.live.trickle import VideoFrame

SIZE = ["--width", "384", "--height", "384"]


def test_a_long_run_compares_its_first_and_last_thousand_frames():
    result = local_stream.StreamResult(latencies_s=[0.010] * 1000 + [0.5] * 500 + [0.020] * 1000)
    keys = bench.latency_keys(result)
    assert keys["p50_first_1000_ms"] == pytest.approx(10.0)
    assert keys["p50_last_1000_ms"] == pytest.approx(20.0)
    assert keys["p99_ms"] == pytest.approx(500.0)
    assert bench.latency_keys(local_stream.StreamResult(latencies_s=[0.01] * 1999))[
        "p50_first_1000_ms"
    ] is None  # fmt: skip


def test_the_model_alone_is_timed_after_frames_went_through_and_off_the_event_loop(
    monkeypatch,
):
    # Timed before the pipeline's first frame, a CPU model is faster than it ever runs again
    # in that process; ai-runner's event loop runs no torch on a CPU frame, nor may the bench.
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
    spec = PipelineSpec(name="recording", pipeline_cls="tests:Recording")
    report = asyncio.run(bench.run(spec, args))

    first_model = events.index("model off the loop")
    assert events[:first_model] == ["frame"] * bench.PRIMING_FRAMES
    assert "model on the loop" not in events and frames_made == {"off the loop"}
    assert report["frames_in"] == 12 and report["raw_fps"] > 0


def test_passthrough_returns_each_frame_unchanged():
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


async def test_benchmark_step_runs_the_model_on_a_different_frame_each_call(monkeypatch, tmp_path):
    # One frame over and over stays in a CPU's cache: the model alone would look faster than
    # any stream, whose frames are all new, can run it.
    from ai_runner_kit.live.pipeline import BENCHMARK_FRAMES
    from invert_pipeline.pipeline import InvertPipeline

    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    InvertPipeline.prepare_models()
    pipeline = InvertPipeline()
    await pipeline.initialize(width=384, height=384)
    try:
        seen: list[int] = []
        monkeypatch.setattr(
            pipeline, "run_model", lambda model, frames, params: seen.append(frames.data_ptr())
        )
        step = pipeline.benchmark_step(384, 384)
        for _ in range(2 * BENCHMARK_FRAMES):
            step()
    finally:
        await pipeline.stop()
    assert BENCHMARK_FRAMES >= 8
    assert len(set(seen)) == BENCHMARK_FRAMES  # all different, then the same again
    assert seen[:BENCHMARK_FRAMES] == seen[BENCHMARK_FRAMES:]
