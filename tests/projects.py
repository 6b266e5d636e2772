"""Install a generated project into this test environment and run its own commands, as a user
would in it: editable, without dependencies (the environment already holds torch, diffusers,
transformers and the offline double of ai-runner)."""

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True, timeout=600)


@contextmanager
def installed(project: Path) -> Iterator[Path]:
    pip("install", "--no-deps", "--no-build-isolation", "--editable", str(project))
    try:
        yield project
    finally:
        name = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
        pip("uninstall", "--yes", name)


def project_env(project: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "MODEL_DIR"}
    return env | {"MODEL_DIR": str(project / "models"), "PYTHONDONTWRITEBYTECODE": "1"}


def run_in(project: Path, *command: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=project, env=project_env(project), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def assert_own_tests_pass(project: Path) -> None:
    """The project's `pytest`: every test passes, none skipped."""
    done = run_in(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert " passed" in summary and "skipped" not in summary, summary
