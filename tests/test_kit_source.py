"""Where a generated project takes the kit from (extensions/kit.py, data/kit.yml): the template's
own repository at the release's tag when it was generated from a git URL (so a fork's projects
take the fork's kit), the checkout's kit/ when it was generated from a local folder."""

import importlib.util
import tomllib

import pytest
import yaml

from .rendering import REPO, render


def load_extension():
    """extensions/kit.py, which copier loads by path (the folder is no package)."""
    spec = importlib.util.spec_from_file_location("kit_extension", REPO / "extensions" / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


template_source = load_extension().template_source

KIT = yaml.safe_load((REPO / "data" / "kit.yml").read_text())["kit"]["default"]


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("https://github.com/org/template.git", "https://github.com/org/template.git"),
        ("gh:org/template", "https://github.com/org/template.git"),
        ("gl:group/template", "https://gitlab.com/group/template.git"),
        ("git@github.com:org/template.git", "git@github.com:org/template.git"),
    ],
)
def test_a_template_from_a_git_url_gives_that_repository(given, url):
    assert template_source(given) == {"git": url}


def test_a_template_from_a_folder_gives_its_kit_folder(tmp_path, monkeypatch):
    (tmp_path / "template" / "kit").mkdir(parents=True)
    (tmp_path / "template" / "kit" / "pyproject.toml").write_text("[project]\n")
    monkeypatch.chdir(tmp_path)  # copier keeps a relative path as it was typed
    assert template_source("template") == {"path": (tmp_path / "template").as_posix()}


def test_a_folder_without_a_kit_or_no_source_gives_nothing(tmp_path):
    assert template_source(str(tmp_path)) == {}
    assert template_source("") == {}


def test_a_project_pins_the_release_kit_and_takes_it_from_the_local_template(template, tmp_path):
    project = render(template, tmp_path / "project")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert f"ai-runner-kit=={KIT['version']}" in pyproject["project"]["dependencies"]
    source = pyproject["tool"]["uv"]["sources"]["ai-runner-kit"]
    assert source == {"path": f"{template.as_posix()}/kit", "editable": True}
    assert "ai-runner-kit from the template checkout" in (project / "Dockerfile").read_text()


def test_the_release_pins_the_kit_this_repository_builds():
    kit = tomllib.loads((REPO / "kit" / "pyproject.toml").read_text())["project"]
    assert kit["version"] == KIT["version"]
