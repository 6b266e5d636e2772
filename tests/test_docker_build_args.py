"""Every `docker build` of the project's Dockerfile in its README passes the Dockerfile's build
arguments, so the image's /version says which commit it is instead of "undefined"."""

import re

import pytest

from .rendering import render


def build_arguments(dockerfile: str) -> list[str]:
    # BASE_IMAGE has a default that follows the release table: not the user's to pass
    return [name for name in re.findall(r"^ARG (\w+)", dockerfile, re.M) if name != "BASE_IMAGE"]


def docker_builds(markdown: str) -> list[str]:
    """Each `docker build` command, its continued lines joined, in code blocks or inline code."""
    joined = re.sub(r"\\\n\s*", " ", markdown)
    return [match.group(0) for match in re.finditer(r"docker build\b[^`\n]*", joined)]


def builds_the_project(command: str) -> bool:
    # `-f docker/Dockerfile` and the like build another project (go-livepeer's image)
    return not re.search(r"\s(-f|--file)[\s=]", command)


@pytest.mark.parametrize("kind", ["live", "batch"])
def test_readme_docker_builds_pass_every_build_argument(template, tmp_path, kind):
    project = render(template, tmp_path / "project", pipeline_kind=kind)
    arguments = build_arguments((project / "Dockerfile").read_text())
    assert {"GIT_SHA", "VERSION"} <= set(arguments)
    documents = [project / "README.md", project / "Dockerfile", *project.glob("integration/*.md")]
    text = "\n".join(path.read_text() for path in documents)
    builds = [command for command in docker_builds(text) if builds_the_project(command)]
    assert len(builds) >= 2, "README.md and the Dockerfile show how to build the image"
    for command in builds:
        for name in arguments:
            assert re.search(rf"--build-arg {name}=\S", command), f"{name} missing in: {command}"
