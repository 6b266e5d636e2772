"""Each question's validator: the defaults pass, and a bad answer is refused with a message
that says what is allowed."""

import ast
import keyword
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.version import Version

from .rendering import REPO, render, shell_environment

REFUSED = [
    ({"pipeline_kind": "stream"}, "Invalid choice for 'pipeline_kind'"),
    ({"pipeline_name": "My_Pipeline"}, "pipeline_name must be lowercase letters, digits"),
    ({"pipeline_name": "double--dash"}, "single dashes"),
    ({"pipeline_name": "trailing-"}, "not ending with a dash"),
    ({"package_name": "9lives"}, "package_name must be lowercase letters, digits and underscores"),
    ({"package_name": "class"}, "is a Python keyword"),
    ({"package_name": "runner"}, "would shadow the module `runner`"),
    ({"package_name": "torch"}, "would shadow the module `torch`"),
    ({"package_name": "tests"}, "would shadow the module `tests`"),
    ({"class_name": "my_pipeline"}, "class_name must be CamelCase"),
    ({"class_name": "Pipeline"}, "already an ai-runner name"),
    ({"description": "two\nlines"}, "description must be one line"),
    ({"description": "  "}, "description must not be empty"),
    ({"author_name": ""}, "author_name must not be empty"),
    ({"author_email": "not-an-address"}, "author_email must look like name@example.com"),
    ({"docker_image": "My-Org/Image:latest"}, "docker_image must be a lowercase image name"),
    ({"base_image": "Not An Image"}, "base_image must be empty (the release's image"),
    ({"ai_runner_version": "v0.0.1"}, "Invalid choice for 'ai_runner_version'"),
    ({"python_version": "3.9"}, "Invalid choice for 'python_version'"),
    ({"ai_runner_source": "svn"}, "Invalid choice for 'ai_runner_source'"),
    ({"ai_runner_source": "path", "ai_runner_path": " "}, "ai_runner_path must not be empty"),
    ({"ai_runner_source": "path", "ai_runner_path": 'a"b'}, "without quotes, backslashes"),
    ({"ai_runner_source": "path", "ai_runner_path": "a\\b"}, "without quotes, backslashes"),
    ({"model_source": "s3"}, "Invalid choice for 'model_source'"),
    ({"model_source": "huggingface", "hf_repo_id": "no-slash"}, "hf_repo_id must look like"),
    ({"model_source": "huggingface", "hf_revision": "main"}, "must be a full commit hash"),
]


@pytest.mark.parametrize(("bad", "message"), REFUSED, ids=lambda value: str(value)[:40])
def test_bad_answer_is_refused_with_what_is_allowed(template, tmp_path, bad, message):
    with pytest.raises(ValueError) as refusal:
        render(template, tmp_path / "project", **bad)
    assert message in str(refusal.value)
    assert not (tmp_path / "project" / "pyproject.toml").exists()


def test_defaults_are_accepted(template, tmp_path):
    project = render(template, tmp_path / "project")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-pipeline"
    assert pyproject["project"]["scripts"] == {
        "my-pipeline": "my_pipeline.main:main",
        "my-pipeline-bench": "my_pipeline.runtime.bench:main",
    }


def test_derived_names_follow_the_pipeline_name(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_name="neon-glow-fx")
    main = (project / "src" / "neon_glow_fx" / "main.py").read_text()
    assert 'name="neon-glow-fx"' in main
    assert "neon_glow_fx.pipeline.live:NeonGlowFxPipeline" in main
    assert "neon_glow_fx.pipeline.params:NeonGlowFxParams" in main
    model_dir = (project / "src" / "neon_glow_fx" / "runtime" / "model_dir.py").read_text()
    assert 'MODEL_FOLDER = "NeonGlowFxPipeline--models"' in model_dir


def test_text_answers_survive_toml_escaping(template, tmp_path):
    tricky = 'Quotes " and \\ backslashes, accents é, emoji 😀'
    project = render(
        template, tmp_path / "project", description=tricky, author_name='Zoë "Z" O\'Neil'
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == tricky
    assert pyproject["project"]["authors"][0]["name"] == 'Zoë "Z" O\'Neil'


def test_batch_answers_render_a_batch_project_on_the_batch_base_image(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_kind="batch")
    package = project / "src" / "my_pipeline"
    assert (package / "pipeline" / "api.py").is_file()
    assert not (package / "pipeline" / "worker.py").exists()
    # The integration kit is generated for both kinds; aiModels.json only for live (go-livepeer
    # refuses a custom batch pipeline in -aiModels).
    assert (project / "integration" / "image-overrides.json").is_file()
    assert not (project / "integration" / "aiModels.local.json").exists()
    assert not (package / "integrate").exists()
    assert "FROM ${BASE_IMAGE}" in (project / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=livepeer/ai-runner:v0.14.1" in (project / "Dockerfile").read_text()
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert "ai-runner[realtime-base]" in dependencies
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {
        "my-pipeline": "my_pipeline.main:main",
        "my-pipeline-bench": "my_pipeline.runtime.bench:main",
    }


def test_the_keyword_list_is_exactly_pythons_lowercase_keywords():
    validator = (REPO / "copier.yml").read_text()
    listed = re.search(r"\{% set python_keywords = (\[.*?\]) %\}", validator, re.DOTALL)
    assert listed, "copier.yml's package_name validator sets python_keywords"
    keywords = ast.literal_eval(" ".join(listed.group(1).split()))
    assert keywords == [k for k in keyword.kwlist if k.islower()]


@pytest.mark.parametrize("name", ["true", "false", "none", "match", "case", "type"])
def test_names_that_are_not_keywords_are_accepted(template, tmp_path, name):
    # True/False/None are keywords only capitalised; soft keywords are importable names.
    project = render(template, tmp_path / "project", package_name=name)
    assert (project / "src" / name / "__init__.py").is_file()


def test_min_copier_version_validates_defaults_and_the_docs_say_why():
    # copier 9.6-9.7 skipped the validators of default answers under --defaults (fixed in 9.8.0)
    config = (REPO / "copier.yml").read_text()
    pinned = re.search(r'^_min_copier_version: "?([0-9.]+)"?$', config, re.MULTILINE)
    assert pinned and Version(pinned.group(1)) >= Version("9.8.0")
    assert f"copier {pinned.group(1)} or newer" in (REPO / "docs" / "generate.md").read_text()


def test_the_command_line_refuses_a_bad_derived_default(template, tmp_path):
    # package_name is not given: its default, derived from pipeline_name, must be validated too
    destination = tmp_path / "project"
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults"]
    done = subprocess.run(
        [*command, "-d", "pipeline_name=torch", str(template), str(destination)],
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "package_name `torch` would shadow the module `torch`" in done.stdout + done.stderr
    assert not destination.exists()
