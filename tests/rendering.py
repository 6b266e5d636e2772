"""Render the template the way users do (copier's API, --trust, --defaults) into a folder.

Not pytest-copie (0.3.1): it always runs the tasks (`uv lock`, `git init`: seconds each, and
a network this machine lacks) where most tests check rendered files only; it renders from git
at HEAD, so an uncommitted change is copied with a DirtyLocalWarning and a temporary commit
that a later update cannot find; and it passes answers as user defaults, not as answers given.
Rendering a snapshot of the working tree with copier's own API is these few lines.
"""

import os
import shutil
import sys
import warnings
from pathlib import Path

import copier
import yaml

REPO = Path(__file__).resolve().parents[1]
DOUBLE = REPO / "tests" / "ai_runner_double"
RELEASES: dict = yaml.safe_load((REPO / "data" / "ai_runner_releases.yml").read_text())[
    "ai_runner_releases"
]["default"]
NEWEST_RELEASE = next(iter(RELEASES))

# What a template snapshot leaves out: VCS data and local environments, never template files.
NOT_TEMPLATE = shutil.ignore_patterns(
    ".git", ".venv", "quickstart", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info"
)


def snapshot_template(destination: Path) -> Path:
    """The working tree as a plain folder: copier renders it as is (no git, no dirty warning)."""
    shutil.copytree(REPO, destination, ignore=NOT_TEMPLATE)
    return destination


def render(template: Path, destination: Path, **answers: str) -> Path:
    """The rendered files only: the post-generation tasks have their own tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # copier warns that a plain folder has no version
        copier.run_copy(
            str(template),
            destination,
            data=answers,
            defaults=True,
            unsafe=True,
            quiet=True,
            skip_tasks=True,
        )
    return destination


def shell_environment(path: str | None = None, **extra: str) -> dict[str, str]:
    """The environment a user's shell gives copier and uv: this test environment's tools on PATH
    (or `path`), and no VIRTUAL_ENV, which would leak into the projects' uv calls."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = path or f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return env | extra
