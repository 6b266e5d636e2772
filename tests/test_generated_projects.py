"""Generated projects pass their own tests, on the offline double of ai-runner with CPU torch.

Each project is installed (editable, without dependencies: the environment already holds torch,
diffusers, transformers and the double) into this interpreter and tested in a subprocess, as a
user would run `pytest` in it. The same tests pass on the real ai-runner v0.14.1 (see docs/).
"""

import tomllib

import pytest

from .ownership import package_of
from .projects import assert_own_tests_pass, installed, run_in
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


@pytest.fixture(scope="module", params=CELLS, ids=str)
def installed_project(request, template, tmp_path_factory):
    project = render(
        template, tmp_path_factory.mktemp(request.param) / "project", **CELLS[request.param]
    )
    with installed(project):
        yield project


def test_generated_tests_pass_on_the_double(installed_project):
    assert_own_tests_pass(installed_project)


# One cell of each kind: the benchmark's path does not depend on where the weights come from
# (a Hub project's own tests prepare from the Hub's cache), and a Hub model's run costs a minute.
@pytest.mark.parametrize("installed_project", ["default", "batch"], indirect=True)
def test_benchmark_runs_and_says_it_ran_on_the_double(installed_project):
    installed = installed_project
    package = package_of(installed)
    kind = "batch" if (installed / "src" / package / "pipeline" / "batch.py").exists() else "live"
    arguments, expected_line = BENCH[kind]
    command = tomllib.loads((installed / "pyproject.toml").read_text())["project"]["name"]
    done = run_in(installed, f"{command}-bench", *arguments)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OFFLINE DOUBLE" in done.stdout
    assert expected_line in done.stdout
    assert "p50" in done.stdout
