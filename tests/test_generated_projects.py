"""Generated projects pass their own tests, on the offline double of ai-runner with CPU torch.

Each project is installed (editable, without dependencies: the environment already holds torch,
diffusers, transformers and the double) into this interpreter and tested in a subprocess, as a
user would run `pytest` in it. The same tests pass on the real ai-runner v0.14.1 (see docs/).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .rendering import DOUBLE, render

CELLS = {
    "default": {},
    "huggingface": {
        "pipeline_name": "hub-effect",
        "model_source": "huggingface",
        "python_version": "3.10",
        "ai_runner_source": "path",
        "ai_runner_path": str(DOUBLE),
    },
    "batch": {"pipeline_name": "batch-effect", "pipeline_kind": "batch"},
    "batch-huggingface": {
        "pipeline_name": "hub-batch",
        "pipeline_kind": "batch",
        "model_source": "huggingface",
    },
}
# A short run of each kind's benchmark, and a line it must print.
BENCH = {
    "live": (["--frames", "60", "--width", "384", "--height", "384"], "60 frames in"),
    "batch": (["--requests", "16", "--concurrency", "8"], "16 of 512x512 PNG, 8 at a time"),
}


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True, timeout=600)


@pytest.fixture(scope="module", params=CELLS, ids=str)
def installed(request, template, tmp_path_factory):
    project = render(
        template, tmp_path_factory.mktemp(request.param) / "project", **CELLS[request.param]
    )
    pip("install", "--no-deps", "--no-build-isolation", "--editable", str(project))
    name = (project / "pyproject.toml").read_text().split('name = "', 1)[1].split('"', 1)[0]
    yield project
    pip("uninstall", "--yes", name)


def project_env(project: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "MODEL_DIR"}
    return env | {"MODEL_DIR": str(project / "models"), "PYTHONDONTWRITEBYTECODE": "1"}


def test_generated_tests_pass_on_the_double(installed):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=installed,
        env=project_env(installed),
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert " passed" in summary and "skipped" not in summary, summary


# Offline, a Hub project's weights come from the cache its own tests lay out.
SEED_HUB_CACHE = (
    "from tests.hub_cache import seed_hub_cache\n"
    "from {package}.pipeline.weights import models_dir\n"
    "seed_hub_cache(models_dir())\n"
)


def test_benchmark_runs_and_says_it_ran_on_the_double(installed):
    package = next((installed / "src").iterdir()).name
    if (installed / "tests" / "hub_cache.py").exists():
        subprocess.run(
            [sys.executable, "-c", SEED_HUB_CACHE.format(package=package)],
            cwd=installed,
            env=project_env(installed),
            check=True,
            timeout=300,
        )
    kind = "batch" if (installed / "src" / package / "pipeline" / "api.py").exists() else "live"
    arguments, expected_line = BENCH[kind]
    done = subprocess.run(
        [sys.executable, "-m", f"{package}.bench", *arguments],
        cwd=installed,
        env=project_env(installed),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OFFLINE DOUBLE" in done.stdout
    assert expected_line in done.stdout
    assert "p50" in done.stdout
