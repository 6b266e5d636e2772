"""The author questions default to the user's git identity (extensions/git.py, loaded through
copier-template-extensions), and to placeholders where git has none."""

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .rendering import REPO, shell_environment

COPY = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--skip-tasks"]


def copy_with_git_config(template: Path, tmp_path: Path, gitconfig: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "gitconfig").write_text(gitconfig)
    env = shell_environment(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
    )
    project = tmp_path / "project"
    done = subprocess.run(
        [*COPY, str(template), str(project)],
        cwd=home,  # not inside a repository whose own config would answer
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return project


def authors(project: Path) -> list[dict]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["authors"]


def test_defaults_come_from_git_config(template, tmp_path):
    gitconfig = '[user]\n\tname = Zoë \\"Z\\" O\'Neil\n\temail = zoe@studio.example\n'
    project = copy_with_git_config(template, tmp_path, gitconfig)
    assert authors(project) == [{"name": 'Zoë "Z" O\'Neil', "email": "zoe@studio.example"}]
    # the template's own machinery is not rendered into the project
    assert not (project / "extensions").exists() and not (project / "hooks").exists()


def test_without_a_git_identity_the_placeholders_stay(template, tmp_path):
    project = copy_with_git_config(template, tmp_path, "")
    assert authors(project) == [{"name": "Your Name", "email": "you@example.com"}]


def test_an_email_the_validator_refuses_falls_back_to_the_placeholder(template, tmp_path):
    project = copy_with_git_config(template, tmp_path, "[user]\n\temail = root@localhost\n")
    assert authors(project)[0]["email"] == "you@example.com"


@pytest.fixture
def git_extension():
    spec = importlib.util.spec_from_file_location("git_extension", REPO / "extensions" / "git.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_git_the_extension_answers_empty(git_extension, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    assert git_extension.git_user_name() == ""
    assert git_extension.git_user_email() == ""
