"""`python -m ai_runner_kit` as a user runs it, in subprocesses: `bench --json` and `try --sample`
on ai-runner's builtin noop, and on a pipeline written without the kit
(tests/fixtures/upstream_pipeline) named by its class path and by its PipelineSpec. Each command
runs once (module fixtures); the tests read what it printed and wrote."""

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from ai_runner_kit import cli
from PIL import Image
from upstream_fixture import BATCH_CLASS, FOLDER, LIVE_CLASS, LIVE_SPEC, PACKAGE

BENCH = ["--json", "--frames", "30", "--width", "384", "--height", "384"]
# tests/test_bench.py's LIVE_KEYS but raw_fps and model_*: those time the Pipeline's optional
# benchmark_step, which neither noop nor the upstream pipeline has (they are None then).
BENCH_KEYS = {
    "pipeline_fps": float, "passthrough_fps": float, "p50_ms": float, "p95_ms": float,
    "p99_ms": float, "dropped": int, "peak_rss_mb": float, "rss_growth_mb": float,
    "input_fps": float, "frames_in": int, "frames_out": int,
}  # fmt: skip
UNTIMED_KEYS = ("raw_fps", "model_p50_ms", "model_p95_ms")
SAMPLE_FRAMES_IN_1_S = 24  # the sample clip is 23.976 fps
SAMPLE_SIZE = (512, 512)  # ai-runner's default width and height
# contact_sheet.py: a label row, then an input row above an output row of 192-pixel thumbnails
CONTACT_SHEET_HEIGHT = 24 + 2 * 192 + 3 * 4
SPECS = {"noop": "noop", "upstream class": LIVE_CLASS, "upstream spec": LIVE_SPEC}


def kit(cwd: Path, *arguments: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [str(FOLDER), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "ai_runner_kit", *arguments],
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{arguments}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def last_json_line(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=list(SPECS), ids=list(SPECS))
def bench_report(request) -> tuple[str, dict]:
    spec = SPECS[request.param]
    return spec, last_json_line(kit(FOLDER, "bench", "--spec", spec, *BENCH))


@pytest.fixture(scope="module", params=list(SPECS), ids=list(SPECS))
def try_run(request, tmp_path_factory) -> tuple[str, Path, dict]:
    spec, cwd = SPECS[request.param], tmp_path_factory.mktemp("try")
    done = kit(cwd, "try", "--spec", spec, "--sample", "--seconds", "1", "--json")
    return spec, cwd, last_json_line(done)


def test_bench_json_keeps_the_keys_and_counts_every_frame(bench_report):
    _, report = bench_report
    for key, kind in BENCH_KEYS.items():
        assert isinstance(report[key], kind), (key, report[key])
    assert all(report[key] is None for key in UNTIMED_KEYS)
    assert (report["width"], report["height"]) == (384, 384)
    assert report["frames_in"] == 30
    assert report["dropped"] == report["frames_in"] - report["frames_out"]
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]


def test_bench_runs_the_pipeline_the_spec_names_with_its_params(bench_report):
    spec, report = bench_report
    # a class path gets ai-runner's defaults: a name from the class, BaseParams
    expected = {"noop": ("noop", False), LIVE_CLASS: ("sepia", False)}
    expected[LIVE_SPEC] = ("sepia-upstream", True)
    name, own_params = expected[spec]
    assert report["pipeline"] == name
    assert ("strength" in report["params"]) is own_params


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def sepia_share(frame: np.ndarray) -> float:
    """The share of pixels with R >= G >= B (give or take the codec): all of a sepia frame's."""
    r, g, b = (frame[..., i].astype(np.int16) for i in range(3))
    return float(((r >= g - 6) & (g >= b - 6)).mean())


def test_try_writes_the_video_and_contact_sheet_where_it_says(try_run):
    _, cwd, summary = try_run
    assert summary["output"] == "try-output/sample.mp4"
    assert summary["contact_sheet"] == "try-output/sample-contact-sheet.png"
    assert summary["frames_in"] == SAMPLE_FRAMES_IN_1_S
    assert summary["frames_out"] == summary["frames_in"] - summary["skipped"]
    frames = decoded_frames(cwd / summary["output"])
    assert len(frames) == summary["frames_out"]
    assert {frame.shape for frame in frames} == {(*reversed(SAMPLE_SIZE), 3)}
    with Image.open(cwd / summary["contact_sheet"]) as sheet:
        assert sheet.format == "PNG" and sheet.height == CONTACT_SHEET_HEIGHT
        assert sheet.width >= 6 * 192  # six moments of a 24-frame run


def test_try_shows_what_the_pipeline_did(try_run):
    spec, cwd, summary = try_run
    shares = [sepia_share(frame) for frame in decoded_frames(cwd / summary["output"])]
    if spec == "noop":  # the colourful sample clip, as it went in
        assert max(shares) < 0.9, shares
    else:
        assert min(shares) > 0.99, shares


def test_the_upstream_params_import_without_torch_in_ai_runners_guard():
    # ai-runner's loader refuses a params module that loads torch; only a fresh process shows it.
    # The real ai-runner's modules load torch themselves: what counts is what the params add.
    code = (
        "import sys\n"
        "from runner.live.pipelines.loader import parse_pipeline_params\n"
        "before = set(sys.modules)\n"
        f"from {PACKAGE}.spec import pipeline_spec\n"
        "params = parse_pipeline_params(pipeline_spec, {'strength': 0.25})\n"
        "print(params.strength, 'torch' in set(sys.modules) - before)\n"
    )
    path = os.pathsep.join(filter(None, [str(FOLDER), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], env=os.environ | {"PYTHONPATH": path},
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.25", "False"]


def test_the_upstream_pipeline_is_written_without_the_kit():
    sources = sorted((FOLDER / PACKAGE).glob("*.py"))
    assert len(sources) >= 5
    assert [p.name for p in sources if "ai_runner_kit" in p.read_text()] == []


# The batch pipeline in this process: try on its sample image, as cli.main runs it.


@pytest.fixture
def upstream_cwd(monkeypatch, tmp_path) -> Path:
    monkeypatch.syspath_prepend(str(FOLDER))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_try_on_an_upstream_batch_pipeline_saves_its_answer(upstream_cwd, capsys):
    assert cli.main(["try", "--spec", BATCH_CLASS, "--sample", "--no-prepare", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["frames_in"], summary["frames_out"]) == (1, 1)
    with Image.open(upstream_cwd / summary["output"] / "sample.png") as answer:
        assert sepia_share(np.asarray(answer.convert("RGB"))) == 1.0
    assert (upstream_cwd / summary["contact_sheet"]).is_file()


def test_try_on_an_upstream_batch_pipeline_needs_no_prepare_models(upstream_cwd):
    assert cli.main(["try", "--spec", BATCH_CLASS, "--sample", "--json"]) == 0
