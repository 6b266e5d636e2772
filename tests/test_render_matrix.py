"""Every cell of the render matrix passes the checks its ecosystem uses."""

import itertools
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .rendering import DOUBLE, NEWEST_RELEASE, RELEASES, render

KINDS = ("live", "batch")
MODEL_SOURCES = ("builtin", "huggingface")
PYTHONS = tuple(RELEASES[NEWEST_RELEASE]["python"])
SOURCES = ("git", "path")
CELLS = list(itertools.product(KINDS, MODEL_SOURCES, PYTHONS, SOURCES))
BIN = Path(sys.executable).parent
MAX_NAME, MAX_CLASS = 28, 36  # the validators' limits for pipeline_name and class_name


def cell_id(cell: tuple[str, ...]) -> str:
    return "-".join(cell)


def answers(
    kind: str, model_source: str, python_version: str, ai_runner_source: str
) -> dict[str, str]:
    version = python_version.replace(".", "")
    chosen = {
        "pipeline_kind": kind,
        "model_source": model_source,
        "python_version": python_version,
        "ai_runner_source": ai_runner_source,
        # Names of the longest lengths the validators allow, with several dashes: the rendered
        # code must stay formatted (ruff format --check) whatever the names.
        "pipeline_name": f"{kind}-{model_source}-py{version}-".ljust(MAX_NAME, "x"),
        "class_name": f"{kind.title()}{model_source.title()}Py{version}".ljust(MAX_CLASS, "X"),
    }
    if ai_runner_source == "path":
        chosen["ai_runner_path"] = str(DOUBLE)
    return chosen


@pytest.fixture(scope="session")
def rendered(template, tmp_path_factory):
    """Renders each cell once, on first use."""
    projects: dict[tuple[str, ...], Path] = {}

    def get(cell: tuple[str, ...]) -> Path:
        if cell not in projects:
            destination = tmp_path_factory.mktemp(cell_id(cell)) / "project"
            projects[cell] = render(template, destination, **answers(*cell))
        return projects[cell]

    return get


@pytest.fixture(params=CELLS, ids=cell_id)
def project(request, rendered) -> Path:
    return rendered(request.param)


def run(*command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_ruff_lint_passes(project):
    run(str(BIN / "ruff"), "check", "--no-cache", ".", cwd=project)


def test_ruff_format_is_clean(project):
    run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".", cwd=project)


def test_pyproject_parses_and_validates(project):
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"].startswith(">=")
    run(str(BIN / "validate-pyproject"), "pyproject.toml", cwd=project)


def test_python_compiles(project):
    sources = sorted(project.rglob("*.py"))
    assert sources
    for path in sources:  # compile() as compileall would, without writing .pyc files
        compile(path.read_text(), str(path), "exec")


def test_dockerfile_passes_hadolint(project):
    run(str(BIN / "hadolint"), "Dockerfile", cwd=project)


def test_every_json_and_yaml_file_parses(project):
    data_files = [p for p in project.rglob("*") if p.suffix in {".json", ".yml", ".yaml"}]
    assert project / ".copier-answers.yml" in data_files
    for path in data_files:
        text = path.read_text()
        json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


# GitHub Actions' own expressions, ${{ secrets.X }}, in the project's workflows
GITHUB_EXPRESSION = re.compile(r"\$\{\{ [\w.]+ \}\}")


def test_no_template_syntax_is_left_behind(project):
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text()
            if path.parent.name == "workflows":
                text = GITHUB_EXPRESSION.sub("", text)
            assert "{{" not in text and "{%" not in text, path


@pytest.mark.parametrize("cell", [c for c in CELLS if c[-1] == "path"], ids=cell_id)
def test_lock_resolves_against_a_local_ai_runner(rendered, cell):
    """With the path source (here: the double), uv resolves the project's whole dependency set
    from the package index: metadata only, no install. (The git source needs GitHub.)"""
    project = rendered(cell)
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    run(str(BIN / "uv"), "lock", "--quiet", cwd=project, env=env)
    lock = tomllib.loads((project / "uv.lock").read_text())
    locked = {package["name"] for package in lock["package"]}
    assert {"ai-runner", "torch", "safetensors"} <= locked
