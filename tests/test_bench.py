"""The kit's benchmark on generated projects, named by their spec (`ai-runner-kit bench --spec
<package>.main:pipeline_spec`): `--json` prints one parseable object on the last line with every
number the performance docs quote, and `--input-fps` paces the input. The benchmark's internals
are tested in the kit (kit/tests/test_bench.py).

Runs on the offline double with CPU torch, at the smallest size ai-runner accepts, from the
rendered sources (PYTHONPATH=src: nothing is installed, so these tests can run beside others
that install projects). Timings are printed by the benchmark, never asserted here, beyond what
pacing must give.
"""

import json
import math
import subprocess
import sys
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
        [sys.executable, "-m", "ai_runner_kit", "bench", "--spec", f"{package}.main:pipeline_spec",
         *arguments],
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
