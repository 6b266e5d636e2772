"""Copier's message after `copier copy` says what ran: the after-copy steps, or, under
--skip-tasks, that none ran and the commands that do their work."""

import subprocess
import sys
from pathlib import Path

from .rendering import DOUBLE, shell_environment


def copy(template: Path, destination: Path, *options: str) -> subprocess.CompletedProcess:
    # UV_OFFLINE: a local ai-runner locks without a network; a failed lock never fails the copy
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *options]
    return subprocess.run(
        [*command, str(template), str(destination)],
        env=shell_environment(UV_OFFLINE="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_under_skip_tasks_the_message_says_nothing_ran_and_how_to_do_it(template, tmp_path):
    project = tmp_path / "project"
    done = copy(template, project, "--skip-tasks")
    assert done.returncode == 0, done.stderr
    message = done.stderr  # copier prints its message after copy on stderr
    assert "With --skip-tasks nothing ran after generation" in message
    assert "no uv.lock was written, no git repository\nwas created and no GPU smoke test ran" in (
        message
    )
    assert "\n    uv lock " in message
    assert '\n    git init && git add -A && git commit -m "Generate my-pipeline"' in message
    assert "--frames 300 --require-gpu" in message
    assert "The lines above say" not in message
    assert not (project / "uv.lock").exists() and not (project / ".git").exists()


def test_after_the_steps_ran_the_message_points_at_their_report(template, tmp_path):
    project = tmp_path / "project"
    local = ["-d", "ai_runner_source=path", "-d", f"ai_runner_path={DOUBLE}"]
    done = copy(template, project, *local)
    assert done.returncode == 0, done.stderr
    assert "[ok] git: git repository created with a first commit" in done.stdout
    message = done.stderr
    assert "The lines above say what the lock, git and smoke-test steps did" in message
    assert "--skip-tasks" not in message
    assert "git init" not in message
