"""The steps after `copier copy` (hooks/after_copy.py): lock, first commit, GPU smoke test.

Each runs copier's command line as a user would and reads what it printed. Whatever fails, the
copy succeeds and the project stays, with the command to run later.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .rendering import DOUBLE, REPO, shell_environment


def copier_copy(
    template: Path, destination: Path, *options: str, path: str | None = None, **env_extra: str
):
    env = shell_environment(path, **env_extra)
    command = [sys.executable, "-m", "copier", "copy", "--defaults", *options]
    return subprocess.run(
        [*command, str(template), str(destination)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_copy_without_trust_is_refused_and_the_readme_says_why(template, tmp_path):
    refused = copier_copy(template, tmp_path / "project")
    assert refused.returncode == 4
    assert "unsafe" in (refused.stdout + refused.stderr)
    assert not (tmp_path / "project").exists()
    readme = (REPO / "README.md").read_text()
    assert "copier copy --trust" in readme and "docs/generate.md" in readme
    assert "Why `--trust`?" in (REPO / "docs" / "generate.md").read_text()


def test_lock_and_first_commit_with_a_local_ai_runner(template, tmp_path):
    project = tmp_path / "project"
    done = copier_copy(
        template,
        project,
        "--trust",
        "-d",
        "ai_runner_source=path",
        "-d",
        f"ai_runner_path={DOUBLE}",
    )
    assert done.returncode == 0, done.stderr
    assert "[ok] lock: uv.lock written" in done.stdout
    assert "[ok] git: git repository created with a first commit" in done.stdout
    assert len(git(project, "log", "--oneline").splitlines()) == 1
    assert git(project, "status", "--porcelain") == ""
    assert "uv.lock" in git(project, "ls-files").split()


def test_failed_lock_keeps_the_project_and_says_how_to_lock_later(template, tmp_path):
    project = tmp_path / "project"
    # the default git source, with uv told it has no network: the lock cannot resolve ai-runner
    done = copier_copy(template, project, "--trust", UV_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    assert "[FAILED] lock: uv lock failed" in done.stdout
    assert f"run it later with: cd {project} && uv lock" in done.stdout
    assert (project / "pyproject.toml").is_file()
    assert not (project / "uv.lock").exists()


def test_missing_uv_keeps_the_project_and_names_the_tool(template, tmp_path):
    project = tmp_path / "project"
    done = copier_copy(template, project, "--trust", path="/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert "[FAILED] lock: uv is not installed" in done.stdout
    assert (project / "src" / "my_pipeline" / "main.py").is_file()


def test_a_failing_git_never_fails_the_copy(template, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # copier itself uses git: only the commit fails
    (fake_bin / "git").write_text(
        "#!/bin/sh\n"
        'case " $* " in *" commit "*) echo "fatal: simulated failure" >&2; exit 128;; esac\n'
        'exec /usr/bin/git "$@"\n'
    )
    (fake_bin / "git").chmod(0o755)
    project = tmp_path / "project"
    done = copier_copy(template, project, "--trust", path=f"{fake_bin}:/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert "[FAILED] git" in done.stdout and "simulated failure" in done.stdout
    assert (project / "pyproject.toml").is_file()


def test_git_init_can_be_turned_off(template, tmp_path):
    project = tmp_path / "project"
    done = copier_copy(template, project, "--trust", "-d", "git_init=false", path="/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert not (project / ".git").exists()
    assert "git:" not in done.stdout


def test_no_repository_is_nested_in_an_existing_one(template, tmp_path):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    project = tmp_path / "pipelines" / "project"
    done = copier_copy(template, project, "--trust", path="/usr/bin:/bin")
    assert done.returncode == 0, done.stderr
    assert "already inside a git repository" in done.stdout
    assert not (project / ".git").exists()


def test_without_a_gpu_the_smoke_test_says_so_and_how_to_run_it(template, tmp_path):
    project = tmp_path / "project"
    done = copier_copy(template, project, "--trust", path="/usr/bin:/bin")
    assert "no NVIDIA GPU here" in done.stdout
    assert "uv run my-pipeline-bench --frames 300 --require-gpu" in done.stdout
    assert "its CPU mode, here:" in done.stdout
    assert "uv run pytest" in done.stderr  # copier's message after copy: the next commands


@pytest.fixture
def after_copy(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "hooks"))
    spec = importlib.util.spec_from_file_location("after_copy", REPO / "hooks" / "after_copy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_is_found_through_nvidia_smi_without_installing_anything(
    after_copy, tmp_path, monkeypatch
):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert after_copy.gpu_name() == "NVIDIA H100 80GB HBM3"


def test_no_gpu_when_nvidia_smi_lists_none(after_copy, tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'No devices were found' >&2\nexit 6\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert after_copy.gpu_name() is None


def test_a_batch_project_gets_its_own_smoke_test(template, tmp_path):
    project = tmp_path / "project"
    done = copier_copy(
        template, project, "--trust", "-d", "pipeline_kind=batch", path="/usr/bin:/bin"
    )
    assert done.returncode == 0, done.stderr
    assert "uv run my-pipeline-bench --requests 64 --require-gpu" in done.stdout
