"""data/reserved_names.yml holds what it says it holds, and the validators refuse every name in it.

The lists that come from Python (the standard library, the builtins) must equal what the running
Python says; the lists kept by hand must cover what the generated project really has (its
dependencies, its console scripts, the names its modules import)."""

import ast
import builtins
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from . import answers
from .rendering import DOUBLE, render

PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
CLASS = re.compile(r"[A-Z][A-Za-z0-9]*")
PIPELINE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
RESERVED = answers.reserved()
# A class name no template module uses, so that every other capitalised name is the template's.
PROBE_CLASS, PROBE_PARAMS = "ZqxProbePipeline", "ZqxProbeParams"
CONTEXT = {"pipeline_name": "my-pipeline", "pipeline_kind": "live"}


def normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@pytest.fixture(scope="module")
def projects(template, tmp_path_factory) -> list[Path]:
    """Both kinds with both model sources: every module the template can generate."""
    rendered = []
    for kind in ("live", "batch"):
        for source in ("builtin", "huggingface"):
            destination = tmp_path_factory.mktemp(f"reserved-{kind}-{source}") / "project"
            answers_ = {"pipeline_kind": kind, "model_source": source, "class_name": PROBE_CLASS}
            rendered.append(render(template, destination, **answers_))
    return rendered


def test_stdlib_is_the_running_pythons_standard_library():
    expected = sorted(n for n in sys.stdlib_module_names if PACKAGE.fullmatch(n))
    assert RESERVED["stdlib"] == expected, (
        f"data/reserved_names.yml's stdlib differs from Python {sys.version.split()[0]}'s "
        "sys.stdlib_module_names: regenerate it with the command in its header"
    )


def test_builtins_are_the_running_pythons_capitalised_builtins():
    expected = sorted(n for n in dir(builtins) if CLASS.fullmatch(n))
    assert RESERVED["builtins"] == expected
    assert {"True", "False", "None", "Exception", "ValueError"} <= set(expected)


def test_every_list_holds_only_names_its_question_could_take():
    assert all(PACKAGE.fullmatch(n) for n in RESERVED["stdlib"] + RESERVED["packages"])
    assert all(PIPELINE.fullmatch(n) for n in RESERVED["distributions"] + RESERVED["commands"])
    assert all(CLASS.fullmatch(n) for n in RESERVED["builtins"] + RESERVED["template_names"])
    for names in RESERVED.values():
        assert names == sorted(set(names)), "sorted, without duplicates"


def capitalised_names(source: str) -> set[str]:
    """Every capitalised name a module imports, defines or assigns, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {name for name in names if CLASS.fullmatch(name)}


def test_template_names_cover_every_name_the_generated_modules_bind(projects):
    # Only modules that name the user's classes can clash with them; runtime/ never does.
    bound = set()
    for project in projects:
        for path in project.rglob("*.py"):
            source = path.read_text()
            if PROBE_CLASS in source or PROBE_PARAMS in source:
                bound |= capitalised_names(source)
    assert {PROBE_CLASS, PROBE_PARAMS} <= bound, "the probe reached the modules"
    missing = bound - {PROBE_CLASS, PROBE_PARAMS} - set(RESERVED["template_names"])
    assert not missing, f"add to template_names in data/reserved_names.yml: {sorted(missing)}"


@pytest.fixture(scope="module")
def locked(template, tmp_path_factory) -> dict[str, str]:
    """{distribution: version} of fresh locks of both kinds (every group, every platform),
    resolved against the offline double (the real ai-runner needs GitHub): what
    dev/reserved_names.py reads."""
    packages = {}
    for kind in ("live", "batch"):
        answers_ = {
            "pipeline_kind": kind,
            "model_source": "huggingface",
            "ai_runner_source": "path",
            "ai_runner_path": str(DOUBLE),
        }
        project = render(template, tmp_path_factory.mktemp(f"lock-{kind}") / "project", **answers_)
        env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
        done = subprocess.run(
            [str(Path(sys.executable).parent / "uv"), "lock", "--quiet"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        lock = tomllib.loads((project / "uv.lock").read_text())
        packages |= {p["name"]: p["version"] for p in lock["package"] if "registry" in p["source"]}
    return packages


def top_level_modules(distribution: importlib.metadata.Distribution) -> set[str]:
    """The import names an installed distribution provides, lowercased as the list holds them."""
    names = set()
    for file in distribution.files or []:
        top, *rest = file.parts
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
            continue
        if not rest and not top.endswith((".py", ".so", ".pyd")):
            continue  # a .pth file, a licence
        # a folder is its own name (pillow.libs is no module); a file loses its suffixes
        name = (top if rest else top.split(".", 1)[0]).lower()
        if PACKAGE.fullmatch(name):
            names.add(name)
    return names


def test_the_lists_hold_every_distribution_of_a_fresh_lock(locked):
    # fails when the project's dependencies bring a new distribution: regenerate the lists
    missing = set(locked) - set(RESERVED["distributions"])
    assert not missing, (
        f"the lock now holds {sorted(missing)}: run dev/reserved_names.py (data/reserved_names.yml)"
    )


def test_the_lists_hold_every_import_name_of_the_locked_distributions_installed_here(locked):
    # reading every wheel needs the network (dev/reserved_names.py does); the distributions of
    # the lock that this environment has installed are checked here, offline
    checked, missing = 0, {}
    for distribution in importlib.metadata.distributions():
        name = normalized(distribution.metadata["Name"])
        if name in locked:
            checked += 1
            lacking = top_level_modules(distribution) - set(RESERVED["packages"])
            if lacking:
                missing[name] = sorted(lacking)
    assert checked >= 20, "most of the lock is installed in the test environment"
    assert not missing, f"run dev/reserved_names.py: import names not reserved: {missing}"


def test_test_and_a_transitive_dependencys_module_are_reserved():
    # the standard library's own test package, and modules only the lock brings in
    for name in ("test", "idna", "aiosignal", "yarl", "multidict", "nvidia"):
        assert name in RESERVED["packages"], name


def test_distributions_cover_every_requirement_of_the_project(projects):
    required = set()
    for project in projects:
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        requirements = [
            *pyproject["project"]["dependencies"],
            *pyproject["build-system"]["requires"],
            *(r for group in pyproject["dependency-groups"].values() for r in group),
        ]
        required |= {normalized(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}
    missing = required - set(RESERVED["distributions"])
    assert not missing, f"add to distributions in data/reserved_names.yml: {sorted(missing)}"


def test_commands_cover_the_scripts_of_every_installed_dependency():
    # This environment has most of the project's dependencies (torch, diffusers, fastapi...):
    # each console script they install would be overwritten by a pipeline of that name.
    reserved = set(RESERVED["distributions"])
    scripts = {
        entry.name
        for distribution in importlib.metadata.distributions()
        if normalized(distribution.metadata["Name"]) in reserved
        for entry in distribution.entry_points
        if entry.group in ("console_scripts", "gui_scripts") and PIPELINE.fullmatch(entry.name)
    }
    assert scripts, "some dependency with scripts is installed here"
    missing = scripts - set(RESERVED["commands"])
    assert not missing, f"add to commands in data/reserved_names.yml: {sorted(missing)}"
    venv_own = {"python", "python3", "pip", "pip3", "activate", "deactivate", "uv", "ruff"}
    assert venv_own <= set(RESERVED["commands"])


@pytest.mark.parametrize(
    ("question", "lists"),
    [
        ("pipeline_name", ("distributions", "commands")),
        ("pipeline_name", ("stdlib", "packages")),
        ("package_name", ("stdlib", "packages")),
        ("class_name", ("builtins", "template_names")),
    ],
)
def test_the_validators_refuse_every_reserved_name(question, lists):
    for name in (n for key in lists for n in RESERVED[key]):
        if question == "pipeline_name":
            name = name.replace("_", "-")
            if not PIPELINE.fullmatch(name):
                continue  # no pipeline name makes this package (e.g. __future__)
        message = answers.refusal(question, name, **CONTEXT)
        assert message, f"{question} {name!r} is accepted"
        assert len(message) <= answers.budget(question), message


@pytest.mark.parametrize(
    ("class_name", "params"), [("BasePipeline", "BaseParams"), ("EffectPipeline", "EffectParams")]
)
def test_a_class_whose_params_class_is_taken_is_refused(class_name, params):
    assert params in RESERVED["template_names"]
    assert (
        answers.refusal("class_name", class_name, **CONTEXT) == f"params class `{params}` is taken"
    )
