"""The boundary in a generated project: the template's modules reach the user's only through
ai-runner's contract, and the user's reach the kit only through its public API.

Checked on the source (ast), in every kind and model source: the model is the user's alone.
"""

import ast
import importlib
from pathlib import Path

import pytest

from .ownership import files_by_owner, imported_modules, package_of
from .rendering import render

CELLS = {
    "live": {},
    "live-huggingface": {"model_source": "huggingface"},
    "batch": {"pipeline_kind": "batch"},
    "batch-huggingface": {"pipeline_kind": "batch", "model_source": "huggingface"},
}
# The one template-owned module that may name the user's classes: by import path, in the spec.
SPEC_MODULE = "main.py"
KIT = "ai_runner_kit"
# The kit's modules whose __all__ is its public API (ai_runner_kit's docstring lists them).
PUBLIC_MODULES = {
    KIT,
    f"{KIT}.live",
    f"{KIT}.batch",
    f"{KIT}.commands",
    f"{KIT}.specs",
    f"{KIT}.testing",
}


@pytest.fixture(scope="module", params=CELLS, ids=str)
def project(request, template, tmp_path_factory) -> Path:
    return render(template, tmp_path_factory.mktemp(request.param) / "p", **CELLS[request.param])


def python_files(project: Path, relative_paths: list[Path]) -> list[Path]:
    return [project / path for path in relative_paths if path.suffix == ".py"]


def test_the_users_room_is_the_pipeline_folder_the_tests_and_the_readme(project):
    user, template = files_by_owner(project)
    package = package_of(project)
    rooms = {path.parts[0] if path.parts[0] != "src" else "/".join(path.parts[:3]) for path in user}
    assert rooms == {"README.md", "tests", f"src/{package}/pipeline"}
    assert Path("src", package, "main.py") in template
    assert all(not path.is_relative_to(Path("src", package, "pipeline")) for path in template)


def test_template_modules_import_nothing_of_the_users(project):
    package = package_of(project)
    users_room = f"{package}.pipeline"
    _, template = files_by_owner(project)
    for path in python_files(project, template):
        for module, _name in imported_modules(path, project):
            assert not (module == users_room or module.startswith(users_room + ".")), (
                f"{path.relative_to(project)} imports {module}: template code reaches the "
                "user's only through the classes main.py names and the Pipeline interface"
            )


def test_only_the_spec_names_the_users_classes(project):
    package = package_of(project)
    _, template = files_by_owner(project)
    for path in python_files(project, template):
        strings = [
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        naming = [text for text in strings if f"{package}.pipeline." in text]
        if path.name == SPEC_MODULE:
            assert naming, "main.py names the Pipeline class by its import path"
        else:
            assert naming == [], f"{path.relative_to(project)} names {naming}"


def test_user_code_uses_only_the_kits_public_api(project):
    user, _ = files_by_owner(project)
    for path in python_files(project, user):
        for module, name in imported_modules(path, project):
            if name is None or not (module == KIT or module.startswith(KIT + ".")):
                continue
            if f"{module}.{name}" in PUBLIC_MODULES:
                continue  # `from ai_runner_kit import live`: a public module itself
            assert module in PUBLIC_MODULES and name in public_names(module), (
                f"{path.relative_to(project)} imports {module}.{name}, which is not in the kit's "
                f"public API: the __all__ of {', '.join(sorted(PUBLIC_MODULES))}"
            )


def public_names(module: str) -> set[str]:
    return set(importlib.import_module(module).__all__)
