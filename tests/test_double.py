"""Tests of the ai-runner v0.14.1 offline double (tests/ai_runner_double).

Run in a venv where the double is installed (pip install -e tests/ai_runner_double)
together with torch, diffusers and transformers.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from importlib import metadata
from pathlib import Path

import httpx
import pytest
import runner
import torch
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import ValidationError
from runner.app import create_app
from runner.live.pipelines import BaseParams, Pipeline, PipelineSpec, builtin_pipeline_spec
from runner.live.pipelines.loader import load_pipeline, parse_pipeline_params
from runner.live.pipelines.noop import Noop
from runner.live.trickle import VideoFrame, VideoOutput
from runner.pipelines.base import HealthCheck
from runner.pipelines.base import Pipeline as BatchPipeline

SUBPROCESS_TIMEOUT_S = 60
HEALTH_TIMEOUT_S = 20

# A live pipeline that records every call into the file named by $DOUBLE_TEST_RECORD
# (an env var rather than a param, since the retry drops the params).
RECORDING_PIPELINE_MODULE = """
import asyncio
import json
import os

from runner.live.pipelines import Pipeline


def record(event, **details):
    with open(os.environ["DOUBLE_TEST_RECORD"], "a") as record_file:
        record_file.write(json.dumps({"event": event, **details}) + "\\n")


class SlowStartPipeline(Pipeline):
    async def initialize(self, **params):
        record("initialize", params=params, hub_cache=os.environ.get("HUGGINGFACE_HUB_CACHE"))
        await asyncio.sleep(1.0)

    async def put_video_frame(self, frame, request_id):
        record("put_video_frame")

    async def get_processed_video_frame(self):
        record("get_processed_video_frame")

    async def update_params(self, **params):
        record("update_params")

    async def stop(self):
        record("stop")

    @classmethod
    def prepare_models(cls):
        record("prepare_models")


class BrokenPipeline(SlowStartPipeline):
    async def initialize(self, **params):
        record("initialize", params=params)
        raise RuntimeError("weights missing")
"""


def write_module(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def run_python(script: str, cwd: Path, *args: str, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for_health(pipeline, wanted: str) -> str:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    status = pipeline.get_health().status
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
        status = pipeline.get_health().status
    return status


# --- identity ---------------------------------------------------------------------


def test_package_says_it_is_a_double():
    assert runner.IS_DOUBLE is True
    assert runner.DOUBLE_OF == "v0.14.1"
    assert metadata.version("ai-runner") == "0.14.1+double"
    requirements = metadata.requires("ai-runner") or []
    assert not [r for r in requirements if r.lower().startswith("torch")]
    assert {"realtime", "realtime-dev", "batch"} <= set(
        metadata.metadata("ai-runner").get_all("Provides-Extra")
    )


def test_light_modules_do_not_import_torch(tmp_path):
    result = run_python(
        """
        import sys
        import runner.app, runner.live.pipelines, runner.live.pipelines.loader
        import runner.live.trickle
        print(sorted(m for m in ("torch", "numpy", "av", "diffusers") if m in sys.modules))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- BaseParams and PipelineSpec ---------------------------------------------------


@pytest.mark.parametrize("size", [383, 1025, 500, 320])
def test_base_params_rejects_sizes_out_of_range_or_step(size):
    with pytest.raises(ValidationError):
        BaseParams(width=size)
    with pytest.raises(ValidationError):
        BaseParams(height=size)


@pytest.mark.parametrize("size", [384, 512, 1024, 448])
def test_base_params_accepts_sizes(size):
    params = BaseParams(width=size, height=size)
    assert params.get_output_resolution() == (size, size)


def test_base_params_defaults_and_extra_keys():
    params = BaseParams(prompt="ignored", strength=0.3)
    assert (params.width, params.height, params.show_reloading_frame) == (512, 512, True)
    assert not hasattr(params, "prompt")


@pytest.mark.parametrize(
    ("pipeline_cls", "expected_name"),
    [
        ("pkg.mod:MyEffectPipeline", "myeffect"),
        ("pkg.mod:Noop", "noop"),
        ("pkg.mod:Pipeline", ""),
        ("pkg.mod:PipelineOfMine", "pipelineofmine"),
    ],
)
def test_spec_derives_an_empty_name(pipeline_cls, expected_name):
    assert PipelineSpec(pipeline_cls=pipeline_cls).name == expected_name


def test_spec_keeps_an_explicit_name_and_round_trips_json():
    spec = PipelineSpec(
        name="fancy",
        pipeline_cls="pkg.mod:FancyPipeline",
        params_cls="pkg.params:FancyParams",
        initial_params={"strength": 0.5},
    )
    assert spec.name == "fancy"
    assert PipelineSpec.model_validate_json(spec.model_dump_json()) == spec


def test_builtin_pipeline_spec():
    noop = builtin_pipeline_spec("noop")
    assert noop is not None
    assert (noop.name, noop.pipeline_cls) == ("noop", "runner.live.pipelines.noop:Noop")
    assert builtin_pipeline_spec("streamdiffusion") is None
    assert isinstance(load_pipeline(noop), Noop)


def test_live_pipeline_is_abstract_and_built_without_arguments():
    with pytest.raises(TypeError):
        Pipeline()  # type: ignore[abstract]
    assert asyncio.run(Noop().stop()) is None


# --- the params import guard -------------------------------------------------------


GUARD_SCRIPT = """
import sys
from runner.live.pipelines import PipelineSpec
from runner.live.pipelines.loader import parse_pipeline_params

assert "torch" not in sys.modules and "streamdiffusion" not in sys.modules
spec = PipelineSpec(pipeline_cls="x:Y", params_cls=sys.argv[1])
try:
    parse_pipeline_params(spec, {})
except (ImportError, TimeoutError) as error:
    print(f"{type(error).__name__}: {error}")
"""


def test_guard_rejects_a_params_module_that_imports_torch(tmp_path):
    write_module(
        tmp_path,
        "torchy_params",
        """
        import torch
        from runner.live.pipelines import BaseParams

        class TorchyParams(BaseParams):
            strength: float = 0.5
        """,
    )
    result = run_python(GUARD_SCRIPT, tmp_path, "torchy_params:TorchyParams")
    assert result.returncode == 0, result.stderr
    # The time limit is checked first (as upstream), and importing torch alone usually
    # exceeds 0.5 s: either error is the guard refusing the module, and both name torch.
    assert result.stdout.startswith(("ImportError:", "TimeoutError:")), result.stdout
    assert "'torch'" in result.stdout and "double" in result.stdout


def test_guard_rejects_a_params_module_that_imports_a_guarded_module_fast(tmp_path):
    # A stand-in streamdiffusion that imports instantly, to reach the ImportError branch.
    write_module(tmp_path, "streamdiffusion", "LOADED = True\n")
    write_module(
        tmp_path,
        "sd_params",
        """
        import streamdiffusion
        from runner.live.pipelines import BaseParams

        class SdParams(BaseParams):
            pass
        """,
    )
    result = run_python(GUARD_SCRIPT, tmp_path, "sd_params:SdParams")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ImportError:"), result.stdout
    assert "'streamdiffusion'" in result.stdout and "double" in result.stdout


def test_guard_rejects_a_slow_params_import(tmp_path, monkeypatch):
    write_module(
        tmp_path,
        "slow_double_params",
        """
        import time
        from runner.live.pipelines import BaseParams

        time.sleep(0.6)

        class SlowParams(BaseParams):
            pass
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = PipelineSpec(pipeline_cls="x:Y", params_cls="slow_double_params:SlowParams")
    with pytest.raises(TimeoutError, match=r"0\.5s"):
        parse_pipeline_params(spec, {})


def test_guard_accepts_a_light_params_module(tmp_path, monkeypatch):
    write_module(
        tmp_path,
        "light_double_params",
        """
        from runner.live.pipelines import BaseParams

        class LightParams(BaseParams):
            strength: float = 0.5
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = PipelineSpec(pipeline_cls="x:Y", params_cls="light_double_params:LightParams")
    params = parse_pipeline_params(spec, {"strength": 0.8, "width": 640, "unknown": 1})
    assert type(params).__name__ == "LightParams"
    assert (params.strength, params.get_output_resolution()) == (0.8, (640, 512))
    with pytest.raises(ValidationError):
        parse_pipeline_params(spec, {"width": 500})


def test_parse_without_params_cls_uses_base_params():
    params = parse_pipeline_params(PipelineSpec(pipeline_cls="x:Y"), {"height": 768})
    assert type(params) is BaseParams
    assert params.get_output_resolution() == (512, 768)


# --- frames ------------------------------------------------------------------------


def make_frame() -> VideoFrame:
    return VideoFrame(torch.rand(1, 8, 8, 3), 3000, Fraction(1, 90000), {"decoded": 1.5})


def test_video_frame_replace_tensor_keeps_timing_and_pickles():
    frame = make_frame()
    frame.side_data.skipped = False
    replaced = frame.replace_tensor(torch.zeros(1, 8, 8, 3))
    assert replaced is not frame
    assert (replaced.timestamp, replaced.time_base) == (3000, Fraction(1, 90000))
    assert replaced.log_timestamps == {"decoded": 1.5}
    assert replaced.side_data is frame.side_data
    assert torch.equal(replaced.tensor, torch.zeros(1, 8, 8, 3))

    restored = pickle.loads(pickle.dumps(replaced))
    assert (restored.timestamp, restored.time_base) == (3000, Fraction(1, 90000))
    assert torch.equal(restored.tensor, replaced.tensor)


def test_video_output_replace_tensor_keeps_request_id_and_pickles():
    output = VideoOutput(make_frame(), "req-1", is_loading_frame=True)
    replaced = output.replace_tensor(torch.ones(1, 8, 8, 3))
    assert (replaced.request_id, replaced.is_loading_frame) == ("req-1", True)
    assert (replaced.timestamp, replaced.time_base) == (3000, Fraction(1, 90000))
    assert replaced.log_timestamps == {"decoded": 1.5}
    assert torch.equal(replaced.tensor, torch.ones(1, 8, 8, 3))
    assert VideoOutput(make_frame()).request_id == ""
    assert VideoOutput(make_frame()).is_loading_frame is False

    restored = pickle.loads(pickle.dumps(replaced))
    assert (restored.request_id, restored.timestamp) == ("req-1", 3000)
    assert torch.equal(restored.tensor, replaced.tensor)


def test_noop_returns_a_copy_of_each_frame():
    async def round_trip() -> tuple[VideoFrame, VideoOutput]:
        noop = Noop()
        await noop.initialize()
        frame = make_frame()
        await noop.put_video_frame(frame, "req-7")
        return frame, await noop.get_processed_video_frame()

    frame, output = asyncio.run(round_trip())
    assert output.request_id == "req-7"
    assert output.tensor is not frame.tensor
    assert torch.equal(output.tensor, frame.tensor)
    assert output.timestamp == frame.timestamp


def test_trickle_transport_names_load_lazily_and_keep_params_light():
    # ai-runner exports its transport from runner.live.trickle; the double's own implementations
    # load on first use, so a params module that imports runner.live.* never pulls in torch or av.
    from runner.live import trickle

    assert trickle.TricklePublisher.__name__ == "TricklePublisher"
    with pytest.raises(AttributeError):
        trickle.NoSuchName  # noqa: B018


# --- create_app with a batch pipeline ----------------------------------------------


class EchoPipeline(BatchPipeline):
    name = "echo"

    def __init__(self, model_id: str = "echo-model", model_dir: str = ""):
        self.model_id = model_id

    def __call__(self, **kwargs):
        return kwargs

    @property
    def router(self) -> APIRouter:
        echo_router = APIRouter()

        @echo_router.post("/echo")
        def echo(body: dict) -> dict:
            return self(**body)

        return echo_router


class UnhealthyPipeline(EchoPipeline):
    def get_health(self) -> HealthCheck:
        raise ConnectionError("status unreachable")


class RouterlessPipeline(EchoPipeline):
    router = None  # type: ignore[assignment]


@pytest.fixture
def clear_runner_env(monkeypatch):
    for name in ("PIPELINE", "MODEL_ID", "VERSION", "AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_batch_app_serves_health_version_hardware_metrics(clear_runner_env):
    with TestClient(create_app(EchoPipeline())) as client:
        assert client.get("/health").json() == {"status": "OK"}
        assert client.get("/health/").json() == {"status": "OK"}
        assert client.get("/version").json() == {
            "pipeline": "echo",
            "model_id": "echo-model",
            "version": "undefined",
        }
        assert client.get("/hardware/info").json() == {
            "pipeline": "echo",
            "model_id": "echo-model",
            "gpu_info": {},
        }
        assert client.get("/hardware/stats").json()["gpu_stats"] == {}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "double" in metrics.text
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}

        clear_runner_env.setenv("PIPELINE", "from-env")
        clear_runner_env.setenv("MODEL_ID", "model-from-env")
        clear_runner_env.setenv("VERSION", "1.2.3")
        assert client.get("/version").json() == {
            "pipeline": "from-env",
            "model_id": "model-from-env",
            "version": "1.2.3",
        }


def test_health_answers_500_when_get_health_raises(clear_runner_env):
    with TestClient(create_app(UnhealthyPipeline())) as client:
        response = client.get("/health")
    assert response.status_code == 500
    assert "msg" in response.json()["detail"]


def test_app_refuses_to_start_without_pipeline_or_router(clear_runner_env):
    with pytest.raises(OSError, match="PIPELINE and MODEL_ID"), TestClient(create_app()):
        pass
    with (
        pytest.raises(NotImplementedError, match="router"),
        TestClient(create_app(RouterlessPipeline())),
    ):
        pass


# --- start_app ---------------------------------------------------------------------

START_APP_SCRIPT = """
import sys
from runner.app import start_app
from runner.live.pipelines import PipelineSpec

start_app(PipelineSpec(pipeline_cls="recording_pipeline:SlowStartPipeline"))
print("start_app returned")
"""


@pytest.mark.parametrize(
    ("env_extra", "argv"), [({"PREPARE_MODELS": "1"}, ()), ({}, ("--prepare-models",))]
)
def test_start_app_prepares_models_and_returns(tmp_path, env_extra, argv):
    write_module(tmp_path, "recording_pipeline", RECORDING_PIPELINE_MODULE)
    record = tmp_path / "record.jsonl"
    env = {**_base_env(), "DOUBLE_TEST_RECORD": str(record), **env_extra}
    result = run_python(START_APP_SCRIPT, tmp_path, *argv, env=env)
    assert result.returncode == 0, result.stderr
    assert "start_app returned" in result.stdout
    assert [r["event"] for r in read_records(record)] == ["prepare_models"]


def test_start_app_needs_diffusers_like_the_real_runner(tmp_path):
    write_module(tmp_path, "recording_pipeline", RECORDING_PIPELINE_MODULE)
    result = run_python(
        """
        import sys
        sys.modules["diffusers"] = None  # make the package look missing
        from runner.app import start_app
        from runner.live.pipelines import PipelineSpec

        try:
            start_app(PipelineSpec(pipeline_cls="recording_pipeline:SlowStartPipeline"))
        except ImportError as error:
            print("ImportError:", error)
        """,
        tmp_path,
        env={**_base_env(), "DOUBLE_TEST_RECORD": str(tmp_path / "record.jsonl")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ImportError:")
    assert "diffusers" in result.stdout and "real ai-runner" in result.stdout
    assert not (tmp_path / "record.jsonl").exists()


SERVE_SCRIPT = """
from runner.app import start_app
from runner.live.pipelines import PipelineSpec

# Deliberately unguarded by __main__: spawn re-imports this module in the pipeline process.
start_app(PipelineSpec(pipeline_cls="recording_pipeline:SlowStartPipeline"))
"""


def test_start_app_serves_a_spec_until_sigterm(tmp_path):
    write_module(tmp_path, "recording_pipeline", RECORDING_PIPELINE_MODULE)
    (tmp_path / "serve_main.py").write_text(SERVE_SCRIPT)
    record = tmp_path / "record.jsonl"
    port = _free_port()
    env = {**_base_env(), "DOUBLE_TEST_RECORD": str(record), "PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "serve_main.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = _poll_served_health(f"http://127.0.0.1:{port}", "IDLE")
        assert status == "IDLE"
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=SUBPROCESS_TIMEOUT_S)
    assert "OFFLINE DOUBLE" in stderr
    assert "leaked" not in stderr
    events = [r["event"] for r in read_records(record)]
    # as upstream, the output loop waits on get_processed_video_frame from the start
    assert (events[0], events[-1]) == ("initialize", "stop")
    assert "put_video_frame" not in events, "no stream, no frames"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _poll_served_health(base_url: str, wanted: str) -> str | None:
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT_S
    status = None
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            status = httpx.get(f"{base_url}/health").json()["status"]
        except httpx.TransportError:
            continue
    return status


def _base_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PREPARE_MODELS"}


# --- LiveVideoToVideoPipeline ------------------------------------------------------


@pytest.fixture
def live_pipeline_env(tmp_path, monkeypatch):
    write_module(tmp_path, "recording_pipeline", RECORDING_PIPELINE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    record = tmp_path / "record.jsonl"
    monkeypatch.setenv("DOUBLE_TEST_RECORD", str(record))
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    return record


def test_live_pipeline_goes_loading_then_idle_then_stops(live_pipeline_env, tmp_path):
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    spec = PipelineSpec(
        pipeline_cls="recording_pipeline:SlowStartPipeline", initial_params={"strength": 0.5}
    )
    live = LiveVideoToVideoPipeline(spec)
    try:
        assert (live.name, live.model_id) == ("live-video-to-video", "slowstart")
        assert live.get_health().status == "LOADING"
        assert wait_for_health(live, "IDLE") == "IDLE"
    finally:
        live.stop_process()

    records = read_records(live_pipeline_env)
    events = [r["event"] for r in records]
    assert (events[0], events[-1]) == ("initialize", "stop")
    assert "put_video_frame" not in events, "no stream, no frames"
    assert records[0]["params"] == {"strength": 0.5}
    assert records[0]["hub_cache"] == str(tmp_path / "models")
    assert live.get_health().status == "ERROR"


def test_live_pipeline_reports_error_after_two_failed_initializations(live_pipeline_env):
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    spec = PipelineSpec(
        pipeline_cls="recording_pipeline:BrokenPipeline", initial_params={"strength": 0.5}
    )
    live = LiveVideoToVideoPipeline(spec)
    try:
        assert wait_for_health(live, "ERROR") == "ERROR"
        assert "weights missing" in (live.last_error or "")
    finally:
        live.stop_process()

    # Each process tries the initial params, then none. The monitor restarts a dead process (as
    # upstream), so when the first ERROR went unseen a restarted one may have tried too.
    params = [r["params"] for r in read_records(live_pipeline_env)]
    assert params[:2] == [{"strength": 0.5}, {}]
    assert all(p in ({"strength": 0.5}, {}) for p in params)


def test_live_app_checks_stream_requests_as_upstream_does(clear_runner_env):
    from runner.pipelines.live_video_to_video import LiveVideoToVideoPipeline

    # Invalid initial params: the process retries with none, as ai-runner does.
    spec = PipelineSpec(
        name="noop", pipeline_cls="runner.live.pipelines.noop:Noop", initial_params={"width": 100}
    )
    live = LiveVideoToVideoPipeline(spec)
    try:
        with TestClient(create_app(live)) as client:
            assert client.get("/version").json()["pipeline"] == "live-video-to-video"
            stream_request = {"subscribe_url": "http://in", "publish_url": "http://out"}
            mismatch = client.post(
                "/live-video-to-video", json={**stream_request, "model_id": "other"}
            )
            assert mismatch.status_code == 400
            assert client.post("/live-video-to-video", json={}).status_code == 422

            assert wait_for_health(live, "IDLE") == "IDLE"
            live.process.kill()
            live.process.join(5)
            assert client.get("/health").json() == {"status": "ERROR"}
            # As upstream, the monitor restarts the dead pipeline process.
            assert wait_for_health(live, "IDLE") == "IDLE"
    finally:
        live.stop_process()
