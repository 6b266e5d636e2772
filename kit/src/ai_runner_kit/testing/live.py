"""Contract tests for live pipelines: subclass one in a test module and name the pipeline.

    from ai_runner_kit.testing import TorchLivePipelineContract

    class TestContract(TorchLivePipelineContract):
        spec = "my_pipeline.main:pipeline_spec"     # or the PipelineSpec itself
        params = {"width": 384, "height": 384}      # what each pipeline is initialized with
        reload_params = {"style": "noir"}           # a change that needs new weights, if any

`LivePipelineContract` checks what ai-runner's contract asks of any live pipeline;
`TorchLivePipelineContract` adds what the kit's `TorchLivePipeline` promises, checked through
its `run_model` and `load_model` seams (a model held on a gate, a load that fails), so no test
touches a private attribute and none waits on a wall clock: each counts events.

The pipeline runs with MODEL_DIR set to the `prepared_model_dir` fixture: the kit's pytest
plugin (ai_runner_kit.testing.plugin) runs `prepare_models()` into a temporary folder once per
test class; a project that must seed something first (a download cache) defines its own
`prepared_model_dir` fixture in conftest.py.
"""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import torch
from pydantic import ValidationError
from runner.live.pipelines import Pipeline, PipelineSpec
from runner.live.pipelines.loader import load_pipeline_class, parse_pipeline_params
from runner.live.trickle import VideoFrame, VideoOutput

from ai_runner_kit.live.local_stream import stream_frames, synthetic_frame
from ai_runner_kit.live.worker import WorkerStopped
from ai_runner_kit.specs import resolve_spec

# How long any single wait may take before a test fails instead of hanging: a guard against a
# deadlock, never a measure of speed (a loaded machine only gets nearer to it).
HANG_S = 120.0
TIME_BASE = Fraction(1, 30)
T = TypeVar("T")


def spec_of(value: str | PipelineSpec) -> PipelineSpec:
    spec = resolve_spec(value) if isinstance(value, str) else value
    if not isinstance(spec, PipelineSpec):
        raise TypeError(f"{value!r} is not a live pipeline's spec")
    return spec


class Gate:
    """Holds the model on its thread until opened; counts the runs that started and ended, and
    lets the event loop wait for a count without polling a clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._open = threading.Event()
        self.started = 0
        self.finished = 0
        self._changed = asyncio.Event()

    def wrap(self, run: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any, **kwargs: Any) -> Any:
            self._loop.call_soon_threadsafe(self._count, "started")
            self._open.wait(HANG_S)
            try:
                return run(*args, **kwargs)
            finally:
                self._loop.call_soon_threadsafe(self._count, "finished")

        return gated

    def open(self) -> None:
        self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def _count(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)
        self._changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._changed.clear()
            await within(self._changed.wait())


async def within(awaitable: Awaitable[T]) -> T:
    """The awaitable's result; TimeoutError after HANG_S (asyncio.timeout is 3.11+)."""
    return await asyncio.wait_for(awaitable, HANG_S)


class LivePipelineContract:
    """What ai-runner asks of every live pipeline."""

    spec: ClassVar[str | PipelineSpec]
    params: ClassVar[dict[str, Any]] = {}

    # --- fixtures -------------------------------------------------------------------------------

    @pytest.fixture
    def pipeline_class(self, prepared_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> type:
        monkeypatch.setenv("MODEL_DIR", str(prepared_model_dir))
        return load_pipeline_class(spec_of(self.spec).pipeline_cls)

    @pytest.fixture
    async def pipeline(self, pipeline_class: type) -> AsyncIterator[Pipeline]:
        live = pipeline_class()
        await live.initialize(**self.params)
        yield live
        await live.stop()

    # --- helpers --------------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        parsed = parse_pipeline_params(spec_of(self.spec), self.params)
        return parsed.get_output_resolution()

    def frame(self, index: int = 0, tensor: torch.Tensor | None = None) -> VideoFrame:
        if tensor is None:
            width, height = self.size()
            tensor = synthetic_frame(width, height, index)
        return VideoFrame(tensor, index, TIME_BASE)

    async def process(
        self, pipeline: Pipeline, frame: VideoFrame, request_id: str = "contract"
    ) -> VideoOutput:
        await pipeline.put_video_frame(frame, request_id)
        return await within(pipeline.get_processed_video_frame())

    # --- frames ---------------------------------------------------------------------------------

    async def test_output_has_ai_runners_frame_format(self, pipeline):
        output = await self.process(pipeline, self.frame())
        width, height = self.size()
        assert output.tensor.shape == (1, height, width, 3)
        assert output.tensor.dtype == torch.float32 and output.tensor.device.type == "cpu"
        assert 0.0 <= output.tensor.min() and output.tensor.max() <= 1.0

    async def test_output_keeps_request_id_and_timestamp(self, pipeline):
        output = await self.process(pipeline, self.frame(index=7), request_id="stream-42")
        assert (output.request_id, output.timestamp, output.time_base) == (
            "stream-42",
            7,
            TIME_BASE,
        )

    async def test_output_is_picklable_for_ai_runners_process_queue(self, pipeline):
        output = await self.process(pipeline, self.frame())
        torch.testing.assert_close(pickle.loads(pickle.dumps(output)).tensor, output.tensor)

    @pytest.mark.parametrize("value", [-3.0, 7.0, float("nan"), float("inf"), float("-inf")])
    async def test_output_is_finite_and_in_range_whatever_the_input(self, pipeline, value):
        # ai-runner encodes by multiplying by 255 without clamping: anything else wraps around.
        width, height = self.size()
        output = await self.process(
            pipeline, self.frame(tensor=torch.full((1, height, width, 3), value))
        )
        assert torch.isfinite(output.tensor).all()
        assert 0.0 <= output.tensor.min() and output.tensor.max() <= 1.0

    async def test_every_frame_comes_out_in_order_when_the_input_waits_for_it(self, pipeline):
        width, height = self.size()
        frames = (synthetic_frame(width, height, index) for index in range(10))
        result = await stream_frames(pipeline, frames, fps=0, drain_timeout_s=HANG_S)
        assert [output.timestamp for output in result.outputs] == list(range(10))

    # --- params ---------------------------------------------------------------------------------

    def test_params_module_imports_without_torch(self):
        # ai-runner parses params outside the pipeline's process, under a guard against heavy
        # imports. In the real ai-runner its own modules load torch before the guard looks, so
        # this checks what the params module loads itself, in a fresh process, after them.
        spec = spec_of(self.spec)
        module = (spec.params_cls or "runner.live.pipelines:BaseParams").split(":")[0]
        check = (
            "import importlib, sys\n"
            "import runner.live.pipelines.loader\n"
            "before = set(sys.modules)\n"
            f"importlib.import_module({module!r})\n"
            "heavy = {'torch', 'diffusers', 'transformers', 'streamdiffusion', 'comfystream'}\n"
            "print(sorted(heavy & (set(sys.modules) - before)))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", check], capture_output=True, text=True, timeout=HANG_S
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "[]", f"importing {module} loaded {done.stdout.strip()}"

    def test_params_are_validated_and_picklable(self):
        spec = spec_of(self.spec)
        parsed = parse_pipeline_params(spec, self.params)
        assert pickle.loads(pickle.dumps(parsed)) == parsed
        with pytest.raises(ValidationError, match="width"):
            parse_pipeline_params(spec, {**self.params, "width": 1})

    async def test_invalid_params_are_refused_and_the_stream_goes_on(self, pipeline):
        with pytest.raises(ValidationError, match="width"):
            await pipeline.update_params(**{**self.params, "width": 1})
        width, height = self.size()
        assert (await self.process(pipeline, self.frame())).tensor.shape == (1, height, width, 3)

    # --- lifecycle ------------------------------------------------------------------------------

    async def test_get_waits_for_a_frame_instead_of_returning_nothing(self, pipeline):
        waiting = asyncio.ensure_future(pipeline.get_processed_video_frame())
        for _ in range(20):  # let the loop run: a get that does not wait would be done now
            await asyncio.sleep(0)
        assert not waiting.done()
        await pipeline.put_video_frame(self.frame(), "late")
        assert (await within(waiting)).request_id == "late"

    async def test_a_new_instance_initializes_in_the_same_process_after_stop(self, pipeline_class):
        first = pipeline_class()
        await first.initialize(**self.params)
        await first.stop()
        second = pipeline_class()
        await second.initialize(**self.params)
        try:
            width, height = self.size()
            assert (await self.process(second, self.frame())).tensor.shape == (1, height, width, 3)
        finally:
            await second.stop()


class TorchLivePipelineContract(LivePipelineContract):
    """LivePipelineContract, plus what the kit's TorchLivePipeline promises.

    `reload_params`: a parameter change that makes `needs_reload` true (new weights), or {} for a
    pipeline that never reloads (its reload tests then check that no change reloads)."""

    reload_params: ClassVar[dict[str, Any]] = {}

    def gate_model(self, pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> Gate:
        gate = Gate(asyncio.get_running_loop())
        monkeypatch.setattr(pipeline, "run_model", gate.wrap(pipeline.run_model))
        return gate

    # --- frames ---------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "shape_and_type",
        [((8, 8, 3), torch.float32), ((1, 3, 8, 8), torch.float32),
         ((1, 8, 8, 3), torch.uint8), ((1, 8, 8, 4), torch.float32),
         ((1, 8, 8, 1), torch.float32), ((2, 8, 8, 3), torch.float32)],
        ids=["no-batch", "channels-first", "uint8", "rgba", "grey", "two-frames"],
    )  # fmt: skip
    async def test_a_bad_frame_is_refused_saying_what_ai_runner_sends(
        self, pipeline, shape_and_type
    ):
        shape, dtype = shape_and_type
        bad = self.frame(tensor=torch.zeros(shape, dtype=dtype))
        with pytest.raises(ValueError, match=r"\(1, height, width, 3\)"):
            await pipeline.put_video_frame(bad, "bad")

    async def test_output_has_the_params_size_whatever_the_frame_size(self, pipeline):
        width, height = self.size()
        bigger = self.frame(tensor=synthetic_frame(width + 64, height + 64, 0))
        assert (await self.process(pipeline, bigger)).tensor.shape == (1, height, width, 3)

    async def test_latency_stays_bounded_when_frames_come_faster_than_the_model(
        self, pipeline, monkeypatch
    ):
        gate = self.gate_model(pipeline, monkeypatch)
        await pipeline.put_video_frame(self.frame(index=0), "load")
        await gate.until(lambda: gate.started == 1)
        for index in range(1, 40):  # 39 frames while the model is busy with the first
            await pipeline.put_video_frame(self.frame(index=index), "load")
        gate.open()
        seen = []
        while not seen or seen[-1] != 39:
            seen.append((await within(pipeline.get_processed_video_frame())).timestamp)
        # The newest frame comes out next; those between were dropped, not queued.
        assert seen == [0, 39] and gate.started == 2

    async def test_the_event_loop_runs_while_the_model_works(self, pipeline, monkeypatch):
        gate = self.gate_model(pipeline, monkeypatch)
        output = asyncio.ensure_future(self.process(pipeline, self.frame()))
        await gate.until(lambda: gate.started == 1)
        for _ in range(10):  # a model on the loop's thread would hold the loop here
            await asyncio.sleep(0)
        assert not gate.is_open and not output.done()
        gate.open()
        assert (await within(output)).timestamp == 0

    async def test_a_model_error_reaches_the_caller_of_get(self, pipeline, monkeypatch):
        def broken(*args: Any) -> torch.Tensor:
            raise RuntimeError("CUDA error: out of memory (simulated)")

        monkeypatch.setattr(pipeline, "run_model", broken)
        with pytest.raises(RuntimeError, match="simulated"):
            await self.process(pipeline, self.frame())

    # --- reloads --------------------------------------------------------------------------------

    async def test_a_reload_keeps_frames_flowing_through_the_loaded_model(
        self, pipeline, monkeypatch
    ):
        if not self.reload_params:
            assert await pipeline.update_params(**self.params) is None  # nothing reloads
            return
        gate = Gate(asyncio.get_running_loop())
        monkeypatch.setattr(pipeline, "load_model", gate.wrap(pipeline.load_model))
        task = await pipeline.update_params(**self.params, **self.reload_params)
        assert isinstance(task, asyncio.Task), "a change that needs new weights returns a task"
        await gate.until(lambda: gate.started == 1)
        for index in range(3):  # the new weights are still loading
            assert (await self.process(pipeline, self.frame(index=index))).timestamp == index
        assert not task.done()
        gate.open()
        await within(task)
        assert (await self.process(pipeline, self.frame(index=3))).timestamp == 3

    async def test_a_failed_load_keeps_the_loaded_model_and_its_params(self, pipeline, monkeypatch):
        if not self.reload_params:
            return
        loaded = {name: getattr(pipeline.params, name) for name in self.reload_params}

        def failing(params: Any) -> Any:
            raise RuntimeError("CUDA error: out of memory while loading (simulated)")

        monkeypatch.setattr(pipeline, "load_model", failing)
        task = await pipeline.update_params(**self.params, **self.reload_params)
        await within(task)  # never raises: ai-runner would restart the whole pipeline process
        assert {name: getattr(pipeline.params, name) for name in self.reload_params} == loaded
        width, height = self.size()
        assert (await self.process(pipeline, self.frame())).tensor.shape == (1, height, width, 3)

    # --- stop -----------------------------------------------------------------------------------

    async def test_stop_waits_for_the_frame_in_flight_then_refuses_frames(
        self, pipeline, monkeypatch
    ):
        gate = self.gate_model(pipeline, monkeypatch)
        waiting = asyncio.ensure_future(pipeline.get_processed_video_frame())
        await pipeline.put_video_frame(self.frame(), "in-flight")
        await gate.until(lambda: gate.started == 1)
        stopping = asyncio.ensure_future(pipeline.stop())
        for _ in range(10):
            await asyncio.sleep(0)
        assert not stopping.done(), "stop returned while the model still ran"
        gate.open()
        await within(stopping)
        assert gate.finished == 1
        with pytest.raises(WorkerStopped):  # the get that waited is woken, not left hanging
            await within(waiting)
        with pytest.raises(WorkerStopped):
            await pipeline.put_video_frame(self.frame(), "after-stop")

    async def test_initialize_after_stop_serves_no_frame_from_before(
        self, pipeline_class, monkeypatch
    ):
        live = pipeline_class()
        await live.initialize(**self.params)
        gate = self.gate_model(live, monkeypatch)
        gate.open()
        await live.put_video_frame(self.frame(index=1), "before-stop")
        await gate.until(lambda: gate.finished == 1)  # its output waits, unread
        await live.stop()
        await live.initialize(**self.params)
        try:
            output = await self.process(live, self.frame(index=2), request_id="after-restart")
            assert (output.request_id, output.timestamp) == ("after-restart", 2)
        finally:
            await live.stop()
