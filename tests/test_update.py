"""`copier update` from an older template release: your files stay yours, the template's files,
the ai-runner pin and the base image move, and the lock is refreshed after the merge.

The template has one release so far, so the tests cut their own in a scratch repository: v0.1.0
is this tree; v0.2.0 adds a newer ai-runner row, as every upstream release will, and moves a file
the user owns (README.md to docs/README.md) with the versioned migration such a move needs.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .rendering import DOUBLE, shell_environment, snapshot_template

VENV_BIN = Path(sys.executable).parent
NEWER_AI_RUNNER = "v0.15.0"
NEWER_ROW = {
    "live_base_image": f"livepeer/ai-runner:live-base-{NEWER_AI_RUNNER}",
    "batch_base_image": f"livepeer/ai-runner:{NEWER_AI_RUNNER}",
    "python": ["3.10", "3.11"],
    "python_below": "3.12",
    "notes": "A release made up by the update tests.",
}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Update Test",
    "GIT_AUTHOR_EMAIL": "update@example.com",
    "GIT_COMMITTER_NAME": "Update Test",
    "GIT_COMMITTER_EMAIL": "update@example.com",
}


def run(*command: str, cwd: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = shell_environment(**GIT_IDENTITY, **env_extra)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


def git(cwd: Path, *args: str) -> str:
    return run("git", *args, cwd=cwd).stdout


def copier(cwd: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "copier", *args, cwd=cwd, **env_extra)


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    repository = snapshot_template(tmp_path_factory.mktemp("releases") / "template")
    git(repository, "init", "--quiet")
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "-m", "Release v0.1.0")
    git(repository, "tag", "v0.1.0")
    table_path = repository / "data" / "ai_runner_releases.yml"
    table = yaml.safe_load(table_path.read_text())
    rows = table["ai_runner_releases"]["default"]
    table["ai_runner_releases"]["default"] = {NEWER_AI_RUNNER: NEWER_ROW, **rows}
    table_path.write_text(yaml.safe_dump(table, sort_keys=False))
    move_the_readme(repository)
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "-m", "Release v0.2.0: ai-runner v0.15.0, docs/README.md")
    git(repository, "tag", "v0.2.0")
    return repository


MOVED_README = "docs/README.md"


def move_the_readme(repository: Path) -> None:
    """What a release does to move a user-owned file: the template file moves, the template's
    own references follow, both paths stay user-owned, and a migration moves the user's copy."""
    template = repository / "template"
    (template / "docs").mkdir()
    for readme in template.glob("*README.md*.jinja"):
        git(repository, "mv", str(readme), str(template / "docs" / readme.name))
    for path, old, new in [
        ("pyproject.toml.jinja", 'readme = "README.md"', f'readme = "{MOVED_README}"'),
        ("Dockerfile.jinja", "COPY README.md ./", f"COPY {MOVED_README} ./docs/"),
    ]:
        text = (template / path).read_text()
        assert old in text, (path, old)
        (template / path).write_text(text.replace(old, new))
    config = repository / "copier.yml"
    text = config.read_text()
    text = text.replace(
        "_skip_if_exists:\n  - README.md\n",
        f"_skip_if_exists:\n  - README.md\n  - {MOVED_README}\n",
    )
    text = text.replace(
        "_migrations:\n",
        "_migrations:\n"
        "  - version: v0.2.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        "    command:\n"
        '      - "{{ _copier_python }}"\n'
        '      - "{{ _copier_conf.src_path }}/hooks/move_user_file.py"\n'
        f"      - README.md\n      - {MOVED_README}\n",
    )
    assert MOVED_README in text and "move_user_file.py" in text
    config.write_text(text)


def generate(releases: Path, project: Path, release: str, *answers: str, **env: str) -> Path:
    copier(project.parent, "copy", "--trust", "--defaults", "--vcs-ref", release, *answers,
           str(releases), str(project), **env)  # fmt: skip
    return project


def unresolved(project: Path) -> list[Path]:
    markers = [
        path
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts and "<<<<<<< " in path.read_text("latin-1")
    ]
    return markers + list(project.rglob("*.rej"))


LOCAL_AI_RUNNER = ("-d", "ai_runner_source=path", "-d", f"ai_runner_path={DOUBLE}")


def edit_your_files(project: Path) -> dict[Path, str]:
    """What a user does after generating: their model, their tests, their README, a dependency."""
    edits = {
        project / "src" / "my_pipeline" / "pipeline" / "backbone.py": "\n# my own network\n",
        project / "tests" / "test_model.py": "\n\ndef test_mine():\n    assert True\n",
        project / "README.md": "\nOur notes on this pipeline.\n",
    }
    for path, addition in edits.items():
        path.write_text(path.read_text() + addition)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            '    "safetensors>=0.4",\n', '    "safetensors>=0.4",\n    "numpy>=1.26",\n'
        )
    )
    git(project, "commit", "--quiet", "--all", "-m", "My changes")
    return edits


def test_update_keeps_your_files_and_moves_the_release(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.1.0", *LOCAL_AI_RUNNER)
    edits = edit_your_files(project)

    updated = copier(project, "update", "--trust", "--defaults", "--vcs-ref", "v0.2.0",
                     "-d", f"ai_runner_version={NEWER_AI_RUNNER}")  # fmt: skip

    assert unresolved(project) == []
    readme = project / "README.md"
    moved = project / MOVED_README
    assert not readme.exists()
    assert moved.read_text().endswith(edits.pop(readme))  # moved, with the user's edit
    assert f"[ok] migration: moved README.md to {MOVED_README}" in updated.stdout
    for path, addition in edits.items():
        assert path.read_text().endswith(addition), path
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["readme"] == MOVED_README
    assert "numpy>=1.26" in pyproject["project"]["dependencies"]
    assert f"ARG BASE_IMAGE={NEWER_ROW['live_base_image']}" in (project / "Dockerfile").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["ai_runner_version"] == NEWER_AI_RUNNER
    assert "[ok] merge: no conflicts" in updated.stdout
    assert "[ok] lock: uv.lock written" in updated.stdout
    run(str(VENV_BIN / "uv"), "lock", "--check", cwd=project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Update the template to v0.2.0")
    assert git(project, "status", "--porcelain") == ""


def test_update_moves_the_git_pin_even_when_locking_cannot_run(releases, tmp_path):
    # uv told it has no network: it cannot resolve the git source, as without GitHub
    project = generate(releases, tmp_path / "my-pipeline", "v0.1.0", UV_OFFLINE="1")
    updated = copier(project, "update", "--trust", "--defaults", "--vcs-ref", "v0.2.0",
                     "-d", f"ai_runner_version={NEWER_AI_RUNNER}", UV_OFFLINE="1")  # fmt: skip
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources["ai-runner"]["tag"] == NEWER_AI_RUNNER
    # the update is applied, and the lock step says what failed and what to run
    assert "[FAILED] lock: uv lock failed" in updated.stdout
    assert "run it later with:" in updated.stdout
    assert unresolved(project) == []


def test_update_to_the_same_release_changes_nothing(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.2.0", *LOCAL_AI_RUNNER)
    copier(project, "update", "--trust", "--defaults", "--vcs-ref", "v0.2.0")
    assert git(project, "status", "--porcelain") == ""


def test_check_update_reports_a_newer_release(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.1.0", *LOCAL_AI_RUNNER)
    outdated = subprocess.run(
        [sys.executable, "-m", "copier", "check-update", "--quiet"],
        cwd=project,
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outdated.returncode == 2, outdated.stderr
    current = generate(releases, tmp_path / "current", "v0.2.0", *LOCAL_AI_RUNNER)
    copier(current, "check-update", "--quiet")


def test_the_update_hook_lists_what_the_merge_left_to_resolve(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "hooks"))
    from after_update import unresolved as left_to_resolve

    (tmp_path / "Dockerfile").write_text("<<<<<<< before updating\nA\n=======\nB\n>>>>>>> after\n")
    (tmp_path / "pyproject.toml.rej").write_text("@@ -1 +1 @@\n")
    (tmp_path / "clean.py").write_text("print('fine')\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert left_to_resolve(tmp_path) == ["Dockerfile", "pyproject.toml.rej"]


def test_a_move_never_overwrites_a_file_you_already_have(tmp_path):
    (tmp_path / "README.md").write_text("old place\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("new place\n")
    mover = Path(__file__).resolve().parents[1] / "hooks" / "move_user_file.py"
    refused = subprocess.run(
        [sys.executable, str(mover), "README.md", "docs/README.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert (tmp_path / "README.md").read_text() == "old place\n"
    assert (tmp_path / "docs" / "README.md").read_text() == "new place\n"
