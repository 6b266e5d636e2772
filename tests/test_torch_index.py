"""torch in a generated project: the release table's pin, from the release table's PyTorch index,
configured the way ai-runner's own pipelines are.

The PyTorch index is out of reach from CI, so what upstream committed is written here as data
(never copied files); see docs/releases.md for how it was read.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from .rendering import DOUBLE, NEWEST_RELEASE, RELEASES, render, shell_environment
from .test_after_copy import copier_copy

BIN = Path(sys.executable).parent
RELEASE = RELEASES[NEWEST_RELEASE]

# What upstream committed for each release in the table, read from its git history:
# - ai-runner <tag>, live/streamdiffusion/pyproject.toml: the live pipeline upstream builds on
#   the same live-base image (its torch requirement, torch source and index);
# - its uv.lock: the version and `source = { registry = ... }` of torch and pytorch-triton;
# - ai-runner <tag>, runner/pyproject.toml: the index its own pytorch-triton source names.
# daydreamlive/scope-runner v0.1.1 (commit 8978dc9, on ai-runner v0.14.1) locks torch
# 2.8.0+cu128 and pytorch-triton 3.3.0 from the same index (torch routed for Linux and Windows).
UPSTREAM = {
    "v0.14.1": {
        "streamdiffusion_torch_requirement": "torch==2.7.1+cu128",
        "streamdiffusion_torch_source": {"index": "pytorch-cu128"},
        "streamdiffusion_index": {
            "name": "pytorch-cu128",
            "url": "https://download.pytorch.org/whl/cu128",
            "explicit": True,
        },
        "streamdiffusion_lock": {
            "torch": ("2.7.1+cu128", "https://download.pytorch.org/whl/cu128"),
            "pytorch-triton": ("3.3.0", "https://download.pytorch.org/whl/cu128"),
        },
        "ai_runner_index": {
            "name": "pytorch-cu128",
            "url": "https://download.pytorch.org/whl/cu128",
        },
    },
}

CELLS = [(kind, source) for kind in ("live", "batch") for source in ("git", "path")]


@pytest.fixture(scope="module", params=CELLS, ids=["-".join(cell) for cell in CELLS])
def pyproject(request, template, tmp_path_factory) -> dict:
    kind, source = request.param
    answers = {"pipeline_kind": kind, "ai_runner_source": source}
    if source == "path":
        answers["ai_runner_path"] = str(DOUBLE)
    project = render(template, tmp_path_factory.mktemp(f"{kind}-{source}") / "project", **answers)
    done = subprocess.run(
        [str(BIN / "validate-pyproject"), "pyproject.toml"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return tomllib.loads((project / "pyproject.toml").read_text())


def torch_requirements(pyproject: dict) -> list[str]:
    dependencies = pyproject["project"]["dependencies"]
    return [d for d in dependencies if Requirement(d).name == "torch"]


def test_torch_is_pinned_to_the_release_tables_version(pyproject):
    assert torch_requirements(pyproject) == [f"torch=={RELEASE['torch']}"]


def test_torch_comes_from_the_release_tables_index_and_only_torch_does(pyproject):
    uv = pyproject["tool"]["uv"]
    index = RELEASE["torch_index"]
    assert uv["index"] == [{"name": index["name"], "url": index["url"], "explicit": True}]
    routed = {name for name, source in uv["sources"].items() if "index" in source}
    assert routed == {"torch"}
    assert uv["sources"]["torch"] == {"index": index["name"]}


def test_the_configuration_has_the_shape_of_upstreams_streamdiffusion(pyproject):
    uv = pyproject["tool"]["uv"]
    upstream = UPSTREAM[NEWEST_RELEASE]
    assert uv["index"] == [upstream["streamdiffusion_index"]]
    assert uv["sources"]["torch"] == upstream["streamdiffusion_torch_source"]
    # The same release and build: upstream writes the build's local label in the pin, the
    # project leaves it to the index (so that a CPU environment can take the same release).
    build = upstream["streamdiffusion_index"]["url"].rsplit("/", 1)[-1]
    pinned = torch_requirements(pyproject)[0]
    assert f"{pinned}+{build}" == upstream["streamdiffusion_torch_requirement"]


@pytest.mark.parametrize("tag", list(RELEASES))
def test_every_rows_torch_and_index_are_what_upstreams_lock_resolved(tag):
    assert tag in UPSTREAM, f"record what ai-runner {tag}'s own pipelines pin in UPSTREAM above"
    row, upstream = RELEASES[tag], UPSTREAM[tag]
    index = {key: row["torch_index"][key] for key in ("name", "url")}
    # one index for torch and for ai-runner's own pytorch-triton: the same name and URL
    assert index == upstream["ai_runner_index"]
    locked = upstream["streamdiffusion_lock"]
    build = index["url"].rsplit("/", 1)[-1]
    assert locked["torch"] == (f"{row['torch']}+{build}", index["url"])
    assert locked["pytorch-triton"][1] == index["url"]


def test_the_lock_resolves_the_pinned_torch_with_the_rest(template, tmp_path):
    """Against the double, with the index's name answered by PyPI (tests/conftest.py): the pin
    resolves together with diffusers, transformers and ai-runner's extras."""
    project = render(
        template, tmp_path / "project", ai_runner_source="path", ai_runner_path=str(DOUBLE)
    )
    subprocess.run(
        [str(BIN / "uv"), "lock", "--quiet"], cwd=project, env=shell_environment(), check=True
    )
    locked = tomllib.loads((project / "uv.lock").read_text())["package"]
    versions = {package["name"]: package["version"] for package in locked}
    assert versions["torch"].split("+")[0] == RELEASE["torch"]


def test_an_unreachable_torch_index_keeps_the_project_and_names_the_index(template, tmp_path):
    """As on a machine that cannot reach download.pytorch.org (here the index's name points where
    nothing answers): the copy succeeds, and the lock step names the address that failed and
    says how to lock later."""
    project = tmp_path / "project"
    nowhere = "http://127.0.0.1:9/simple"
    done = copier_copy(
        template,
        project,
        "--trust",
        "-d",
        "ai_runner_source=path",
        "-d",
        f"ai_runner_path={DOUBLE}",
        UV_INDEX=f"{RELEASE['torch_index']['name']}={nowhere}",
        UV_HTTP_RETRIES="0",
    )
    assert done.returncode == 0, done.stderr
    assert "[FAILED] lock: uv lock failed" in done.stdout
    assert nowhere in done.stdout
    assert f"run it later with: cd {project} && uv lock" in done.stdout
    assert (project / "pyproject.toml").is_file() and not (project / "uv.lock").exists()


@pytest.mark.parametrize("kind", ["live", "batch"])
def test_the_readmes_cpu_recipe_installs_the_lock_without_cuda_torch(template, tmp_path, kind):
    """The README's `uv export` line, run on a real lock: nothing CUDA-only (torch, its CUDA
    libraries, triton), and every other dependency of the project; torch's CPU build, installed
    first, brings its own pure-Python dependencies."""
    project = render(
        template,
        tmp_path / "project",
        pipeline_kind=kind,
        ai_runner_source="path",
        ai_runner_path=str(DOUBLE),
    )
    env = shell_environment()
    subprocess.run([str(BIN / "uv"), "lock", "--quiet"], cwd=project, env=env, check=True)
    readme = (project / "README.md").read_text()
    recipe = readme.split("### Without a GPU", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    export = recipe.replace("\\\n", " ").split("uv export ", 1)[1].split("|", 1)[0].split()
    done = subprocess.run(
        [str(BIN / "uv"), "export", *export, "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    exported = {
        Requirement(line.split(" ;")[0]).name
        for line in done.stdout.splitlines()
        if line and not line.startswith(("#", " ", "-e"))
    }
    locked = {p["name"] for p in tomllib.loads((project / "uv.lock").read_text())["package"]}
    cuda_libraries = {name for name in locked if name.startswith("nvidia-")}
    cuda_only = {"torch", "triton", "pytorch-triton"} | cuda_libraries
    assert "torch" in locked and cuda_libraries  # PyPI's torch for Linux brings them too
    assert exported <= locked and not exported & cuda_only
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    wanted = {Requirement(d).name for d in pyproject["project"]["dependencies"]}
    # ai-runner and the kit are path sources here (the double, the template's kit/): editable
    assert wanted - {"torch", "ai-runner", "ai-runner-kit"} <= exported
    assert f"-e {DOUBLE}" in done.stdout.splitlines()
    assert any(
        line.startswith("-e ") and line.endswith("/kit") for line in done.stdout.splitlines()
    )
