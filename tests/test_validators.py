"""Each question's validator: the defaults pass, and a bad answer is refused with a message
that says what is allowed."""

import tomllib

import pytest

from .rendering import render

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
        "my-pipeline-integrate": "my_pipeline.integrate.cli:main",
    }


def test_derived_names_follow_the_pipeline_name(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_name="neon-glow-fx")
    main = (project / "src" / "neon_glow_fx" / "main.py").read_text()
    assert 'name="neon-glow-fx"' in main
    assert "neon_glow_fx.pipeline.pipeline:NeonGlowFxPipeline" in main
    assert "neon_glow_fx.pipeline.params:NeonGlowFxParams" in main
    weights = (project / "src" / "neon_glow_fx" / "pipeline" / "weights.py").read_text()
    assert 'MODEL_FOLDER = "NeonGlowFxPipeline--models"' in weights


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
    assert (package / "integrate" / "project.py").is_file()
    assert "FROM ${BASE_IMAGE}" in (project / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=livepeer/ai-runner:v0.14.1" in (project / "Dockerfile").read_text()
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert "ai-runner[realtime-base]" in dependencies
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {
        "my-pipeline": "my_pipeline.main:main",
        "my-pipeline-integrate": "my_pipeline.integrate.cli:main",
    }
