"""The integration kit of a generated project: integration/, applied with `git apply`.

The diffs are applied to copies of tests/fixtures/upstream (files written for these tests with the
layout of ai-runner's dl_checkpoints.sh and go-livepeer's docker.go), each laid out as a git
repository with the fixture committed, the way `git -C <checkout> apply` meets them. Live projects
come first; batch projects (their own map, `--batch`, no aiModels.json) follow.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .rendering import REPO, render

FIXTURES = REPO / "tests" / "fixtures" / "upstream"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
DL_CHECKPOINTS = "runner/dl_checkpoints.sh"
DOCKER_GO = "ai/worker/docker.go"
# The file each checkout's diff patches.
PATCHED = {"ai-runner": DL_CHECKPOINTS, "go-livepeer": DOCKER_GO}
# The blobs the diffs were made against, named on their `index` lines for `git apply --3way`:
# runner/dl_checkpoints.sh of ai-runner v0.14.1, ai/worker/docker.go of go-livepeer 176aa415.
UPSTREAM_BLOBS = {
    DL_CHECKPOINTS: "c1b87f6dfe2fed57ddf2d59ee62439339d8be128",
    DOCKER_GO: "75735ed7aa49ce4e9a6b77501d2935e878e14621",
}

# Several dashes; two letters; the longest the validators allow (28 characters), longer than every
# key of the map, so gofmt alignment is tested on both sides.
NAMES = ("neon-glow-fx-2", "fx", "long-name-with-many-dashes-x")
# A registry with a port: the image holds a `:` that is not a tag.
IMAGES = {"neon-glow-fx-2": "registry.example.com:5000/team/neon-glow-fx-2"}
KINDS = ("live", "batch")

# Each kind's map in the docker.go fixture: its opening line and the entry the diff adds after.
MAP_OPENING = {
    "live": "var livePipelineToImage = map[string]string{\n",
    "batch": "var pipelineToImage = map[string]string{\n",
}
LAST_ENTRY = {
    "live": '\t"scope": "daydreamlive/scope-runner",\n',
    "batch": '\t"llm":                "livepeer/ai-runner:llm",\n',
}


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def projects(template, tmp_path_factory):
    """Renders a project per pipeline name and kind, once."""
    rendered: dict[tuple[str, str], Path] = {}

    def get(name: str, kind: str = "live") -> Path:
        if (name, kind) not in rendered:
            answers = {"pipeline_name": name, "pipeline_kind": kind}
            if name in IMAGES:
                answers["docker_image"] = IMAGES[name]
            folder = tmp_path_factory.mktemp(f"{kind}-{name}") / "project"
            rendered[name, kind] = render(template, folder, **answers)
        return rendered[name, kind]

    return get


def run(*command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def git(checkout: Path, *arguments: str) -> subprocess.CompletedProcess:
    """git in a checkout, with none of this machine's git configuration and a fixed identity."""
    environment = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Fixture",
        "GIT_AUTHOR_EMAIL": "fixture@example.com",
        "GIT_COMMITTER_NAME": "Fixture",
        "GIT_COMMITTER_EMAIL": "fixture@example.com",
    }
    return run("git", *arguments, cwd=checkout, env=environment)


@pytest.fixture
def checkouts(tmp_path) -> dict[str, Path]:
    """Fresh copies of the two upstream fixtures, each committed in a repository of its own."""
    roots = {repository: tmp_path / repository for repository in PATCHED}
    for repository, relative in PATCHED.items():
        (roots[repository] / relative).parent.mkdir(parents=True)
        shutil.copy2(FIXTURES / Path(relative).name, roots[repository] / relative)  # mode too
        for command in (("init", "-q"), ("add", "."), ("commit", "-qm", "upstream")):
            assert git(roots[repository], *command).returncode == 0, command
    return roots


@pytest.fixture(scope="session")
def gofmt() -> str:
    found = shutil.which("gofmt")
    if not found:
        pytest.fail(
            "gofmt is not installed: `source dev/environment.sh` installs it (or install Go)"
        )
    return found


def diff_of(project: Path, repository: str) -> Path:
    return project / "integration" / f"{Path(PATCHED[repository]).name}.diff"


def git_apply(
    project: Path, checkouts: dict[str, Path], repository: str, *options: str
) -> subprocess.CompletedProcess:
    """`git -C <checkout> apply [options] <absolute path of the diff>`, as the README says."""
    return git(checkouts[repository], "apply", *options, str(diff_of(project, repository)))


def apply_both(project: Path, checkouts: dict[str, Path]) -> None:
    for repository in PATCHED:
        done = git_apply(project, checkouts, repository)
        assert done.returncode == 0, done.stderr


def text_of(checkouts: dict[str, Path], repository: str) -> str:
    return (checkouts[repository] / PATCHED[repository]).read_text()


def image_of(name: str) -> str:
    return IMAGES.get(name, f"my-org/{name}")


def variable_of(name: str) -> str:
    return f"AI_RUNNER_{name.upper().replace('-', '_')}_IMAGE"


def function_of(name: str) -> str:
    return f"prepare_{name.replace('-', '_')}_models"


def map_entry(name: str, kind: str) -> str:
    """The lines the docker.go diff adds: a comment line of their own, then the entry."""
    comment = f"\t// {name} is a custom {kind} pipeline, built from its own repository\n"
    return f'{comment}\t"{name}": "{image_of(name)}",\n'


def map_block(go: str, name: str) -> str:
    """The map literal `var <name> = map[string]string{ ... }` of a docker.go text."""
    found = re.search(rf"(?ms)^var {name} = map\[string\]string\{{$.*?^\}}$", go)
    assert found, name
    return found[0]


def download_batch_models(script: str) -> str:
    found = re.search(r"(?ms)^function download_batch_models\(\) \{$.*?^\}$", script)
    assert found
    return found[0]


def shellcheck_findings(script: Path) -> list[str]:
    """shellcheck's findings without their line numbers, so a patched file compares with its
    original: the patch must add none."""
    done = run(str(SHELLCHECK), "--format=gcc", script.name, cwd=script.parent)
    return sorted(re.sub(r"^[^:]*:\d+:\d+: ", "", line) for line in done.stdout.splitlines())


# --- git apply on a fresh checkout --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_the_diffs_pass_check_on_a_fresh_checkout_and_apply(projects, checkouts, name, kind):
    project = projects(name, kind)
    for repository in PATCHED:
        original = text_of(checkouts, repository)
        not_yet = git_apply(project, checkouts, repository, "--reverse", "--check")
        assert not_yet.returncode == 1  # not mistaken for already applied

        check = git_apply(project, checkouts, repository, "--check")
        assert check.returncode == 0, check.stderr
        assert text_of(checkouts, repository) == original  # --check writes nothing
        done = git_apply(project, checkouts, repository)
        assert done.returncode == 0, done.stderr
        assert text_of(checkouts, repository) != original
    assert os.access(checkouts["ai-runner"] / DL_CHECKPOINTS, os.X_OK)  # mode kept


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_once_applied_check_fails_and_reverse_check_says_already_applied(
    projects, checkouts, name, kind
):
    project = projects(name, kind)
    apply_both(project, checkouts)
    for repository in PATCHED:
        again = git_apply(project, checkouts, repository, "--check")
        assert again.returncode == 1 and "patch does not apply" in again.stderr
        applied = git_apply(project, checkouts, repository, "--reverse", "--check")
        assert applied.returncode == 0, applied.stderr


@pytest.mark.parametrize("name", NAMES)
def test_the_live_diffs_add_every_piece(projects, checkouts, name):
    original_go = text_of(checkouts, "go-livepeer")
    apply_both(projects(name), checkouts)
    script, go = text_of(checkouts, "ai-runner"), text_of(checkouts, "go-livepeer")
    variable, function, image = variable_of(name), function_of(name), image_of(name)

    assert f"\n{variable}=${{{variable}:-{image}}}\nPIPELINE=" in script
    assert f'\n  echo "  {variable}  {name} Docker image (default: {image})"\n' in script
    assert f"\n  echo \"            - '{name}': custom live pipeline\"\n" in script
    live_branch = f'  "{name}")\n    printf "\\nPreparing {name} live models only...\\n"\n'
    assert f'{live_branch}    {function}\n    ;;\n  "all")\n' in script
    assert f"    prepare_scope_models\n    {function}\n    ;;\n  *)\n" in script
    assert script.count(f"comfyui, scope, {name}, all\\n") == 2  # both Valid values lines
    assert f'  "{name}")\n    printf "\\n{name} models already built on prepare...\\n"\n' in script
    assert (
        f'\n}}\n\nfunction {function}() {{\n  printf "\\nPreparing {name} models...\\n"\n' in script
    )
    assert f'  run_pipeline_prepare "{name}" "${variable}"\n}}\n' in script
    assert function not in download_batch_models(script)
    assert f"{LAST_ENTRY['live']}{map_entry(name, 'live')}}}\n" in go
    assert map_block(go, "pipelineToImage") == map_block(original_go, "pipelineToImage")


@pytest.mark.parametrize("name", NAMES)
def test_the_batch_diffs_add_their_pieces_and_none_of_the_live_ones(projects, checkouts, name):
    original_go = text_of(checkouts, "go-livepeer")
    apply_both(projects(name, "batch"), checkouts)
    script, go = text_of(checkouts, "ai-runner"), text_of(checkouts, "go-livepeer")
    variable, function, image = variable_of(name), function_of(name), image_of(name)

    assert f"\n{variable}=${{{variable}:-{image}}}\nPIPELINE=" in script
    help_line = f"{variable}  {name} batch Docker image, prepared by --batch (default: {image})"
    assert f'\n  echo "  {help_line}"\n' in script
    assert (
        f'\n}}\n\nfunction {function}() {{\n  printf "\\nPreparing {name} models...\\n"\n' in script
    )
    assert f'  run_pipeline_prepare "{name}" "${variable}"\n}}\n' in script
    assert download_batch_models(script).endswith(f"--cache-dir models\n  {function}\n}}")
    # None of the live pieces: a batch pipeline is not a PIPELINE value of --live or --tensorrt.
    assert f'"{name}")' not in script and f"scope, {name}, all" not in script
    assert f"- '{name}'" not in script
    assert f"{LAST_ENTRY['batch']}{map_entry(name, 'batch')}}}\n" in go
    assert map_block(go, "livePipelineToImage") == map_block(original_go, "livePipelineToImage")


# --- what upstream's checks say about the result ----------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_patched_files_pass_bash_shellcheck_and_gofmt(projects, checkouts, gofmt, name, kind):
    apply_both(projects(name, kind), checkouts)
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    go = checkouts["go-livepeer"] / DOCKER_GO

    syntax = run("bash", "-n", str(script), cwd=script.parent)
    assert syntax.returncode == 0, syntax.stderr
    assert shellcheck_findings(script) == shellcheck_findings(FIXTURES / "dl_checkpoints.sh")
    formatting = run(gofmt, "-l", str(go), cwd=go.parent)
    assert formatting.returncode == 0, formatting.stderr
    assert formatting.stdout == "", run(gofmt, "-d", str(go), cwd=go.parent).stdout


def test_the_fixtures_themselves_pass_the_same_checks(gofmt):
    assert run("bash", "-n", str(FIXTURES / "dl_checkpoints.sh"), cwd=FIXTURES).returncode == 0
    assert run(str(SHELLCHECK), "dl_checkpoints.sh", cwd=FIXTURES).returncode == 0
    assert run(gofmt, "-l", "docker.go", cwd=FIXTURES).stdout == ""


# --- git apply --3way, where upstream has moved -------------------------------------------------


def commit_upstream_change(checkouts: dict[str, Path], edit: Callable[[str], str]) -> None:
    """A later go-livepeer: docker.go edited and committed over the fixture, which stays in the
    repository's history as the base of a three-way merge."""
    go = checkouts["go-livepeer"] / DOCKER_GO
    go.write_text(edit(go.read_text()))
    assert git(checkouts["go-livepeer"], "commit", "-qam", "upstream moved").returncode == 0


def docker_go_diff_based_on_the_fixture(project: Path, base: Path, folder: Path) -> Path:
    """The shipped docker.go diff names upstream's blob as its base; here the base is the
    fixture's, so this copy names the fixture's blob (committed at HEAD~1) instead."""
    text = diff_of(project, "go-livepeer").read_text()
    assert text.count(f"\nindex {UPSTREAM_BLOBS[DOCKER_GO]}..") == 1
    fixture_blob = git(base, "rev-parse", f"HEAD~1:{DOCKER_GO}").stdout.strip()
    patch = folder / "docker.go.diff"
    patch.write_text(text.replace(UPSTREAM_BLOBS[DOCKER_GO], fixture_blob))
    return patch


def three_way(project: Path, checkouts: dict[str, Path], folder: Path):
    patch = docker_go_diff_based_on_the_fixture(project, checkouts["go-livepeer"], folder)
    return git(checkouts["go-livepeer"], "apply", "--3way", str(patch))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_3way_merges_into_a_docker_go_where_upstream_moved(
    projects, checkouts, gofmt, tmp_path, name, kind
):
    opening = MAP_OPENING[kind]
    above = 'var aiRunnerRegistry = "livepeer"\n\n'
    inside = '\t// added upstream\n\t"added-upstream": "org/added-upstream",\n\n'
    commit_upstream_change(checkouts, lambda go: go.replace(opening, above + opening + inside))

    merged = three_way(projects(name, kind), checkouts, tmp_path)

    assert merged.returncode == 0, merged.stderr
    assert f"Applied patch to '{DOCKER_GO}' cleanly." in merged.stderr  # merged, not patched
    go = text_of(checkouts, "go-livepeer")
    assert f"{above}{opening}{inside}" in go  # upstream's changes kept
    assert go.count(f'"{name}": ') == 1
    assert f"{LAST_ENTRY[kind]}{map_entry(name, kind)}}}\n" in go
    assert run(gofmt, "-l", DOCKER_GO, cwd=checkouts["go-livepeer"]).stdout == ""


@pytest.mark.parametrize("kind", KINDS)
def test_3way_leaves_a_conflict_where_upstream_added_an_entry_at_the_same_place(
    projects, checkouts, tmp_path, kind
):
    """What integration/README.md shows: upstream's side as `ours`, the patch's as `theirs`."""
    added = '\t"added-upstream": "org/added-upstream",\n'
    commit_upstream_change(
        checkouts, lambda go: go.replace(LAST_ENTRY[kind], LAST_ENTRY[kind] + added)
    )
    project = projects("neon-glow-fx-2", kind)
    assert git_apply(project, checkouts, "go-livepeer", "--check").returncode == 1

    merged = three_way(project, checkouts, tmp_path)

    assert merged.returncode == 1
    assert f"Applied patch to '{DOCKER_GO}' with conflicts." in merged.stderr
    unmerged = git(checkouts["go-livepeer"], "diff", "--name-only", "--diff-filter=U")
    assert unmerged.stdout == f"{DOCKER_GO}\n"
    both_sides = (
        f"<<<<<<< ours\n{added}=======\n{map_entry('neon-glow-fx-2', kind)}>>>>>>> theirs\n"
    )
    assert both_sides in text_of(checkouts, "go-livepeer")


# --- the patched script at work ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_patched_script_prepares_the_pipeline(projects, checkouts, name):
    """Runs the patched fixture (its docker is a stand-in that prints): the new branch calls the
    new function, which runs the image with the models folder; --tensorrt and `all` include it."""
    assert git_apply(projects(name), checkouts, "ai-runner").returncode == 0
    runner = checkouts["ai-runner"] / "runner"

    def script(pipeline: str, mode: str) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PIPELINE": pipeline}
        return run("./dl_checkpoints.sh", mode, cwd=runner, env=environment)

    image = image_of(name)
    live = script(name, "--live")
    assert live.returncode == 0, live.stderr
    assert f"+ docker run --rm -v ./models:/models -e PREPARE_MODELS=1 {image}\n" in live.stdout
    assert f"+ docker image tag {image} livepeer/ai-runner:live-app-{name}\n" in live.stdout
    assert image not in script("scope", "--live").stdout
    assert f"-e PREPARE_MODELS=1 {image}\n" in script("all", "--live").stdout
    tensorrt = script(name, "--tensorrt")
    assert tensorrt.returncode == 0, tensorrt.stderr
    assert f"{name} models already built on prepare" in tensorrt.stdout
    rejected = script("no-such-pipeline", "--live")
    assert rejected.returncode == 1
    valid = f"Valid values: streamdiffusion, streamdiffusion-<variant>, comfyui, scope, {name}, all"
    assert f"{valid}\n" in rejected.stdout
    help_text = run("./dl_checkpoints.sh", "--help", cwd=runner).stdout
    assert variable_of(name) in help_text and f"- '{name}'" in help_text


@pytest.mark.parametrize("name", NAMES)
def test_the_patched_script_prepares_the_batch_pipeline_with_batch(projects, checkouts, name):
    """Runs the patched fixture (its docker and hf print instead of running): `--batch` prepares
    the pipeline after upstream's batch downloads; `--live` does not know it."""
    assert git_apply(projects(name, "batch"), checkouts, "ai-runner").returncode == 0
    runner = checkouts["ai-runner"] / "runner"
    image = image_of(name)

    batch = run("./dl_checkpoints.sh", "--batch", cwd=runner)
    assert batch.returncode == 0, batch.stderr
    upstream_download = batch.stdout.index("+ hf download facebook/sam2-hiera-large")
    prepare = batch.stdout.index(
        f"+ docker run --rm -v ./models:/models -e PREPARE_MODELS=1 {image}\n"
    )
    assert upstream_download < prepare
    live = run("./dl_checkpoints.sh", "--live", cwd=runner, env={**os.environ, "PIPELINE": name})
    assert live.returncode == 1 and "Invalid PIPELINE value" in live.stdout
    assert image not in run("./dl_checkpoints.sh", "--live", cwd=runner).stdout  # PIPELINE=all
    assert variable_of(name) in run("./dl_checkpoints.sh", "--help", cwd=runner).stdout


# --- the rendered files ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_integration_files_apply_with_git_and_name_no_tool(projects, kind):
    integration = projects("neon-glow-fx-2", kind) / "integration"
    for path in integration.iterdir():
        assert not re.search(r"\bintegrate\b", path.read_text()), path.name
    for path in (integration / "README.md", *integration.glob("*.diff")):
        text = path.read_text()
        for option in ("--check", "--reverse --check", "--3way"):
            assert f" apply {option} " in text, (path.name, option)
    for repository, relative in PATCHED.items():
        header = f"diff --git a/{relative} b/{relative}\nindex {UPSTREAM_BLOBS[relative]}.."
        assert header in diff_of(integration.parent, repository).read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_a_project_carries_no_integration_in_its_package_or_image(projects, kind):
    project = projects("neon-glow-fx-2", kind)
    files = [path for path in (project / "src").rglob("*") if path.is_file()]
    assert files and not any("integrate" in path.parts for path in files)
    assert [path for path in files if re.search(r"\bintegrate\b", path.read_text())] == []

    copies = [
        line.split()[1:-1]
        for line in (project / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    ]
    sources = {source for sources in copies for source in sources if not source.startswith("--")}
    assert sources - {"pyproject.toml", "uv.lock", ".python-version"} == {"README.md", "src/"}
    assert "integration" in (project / ".dockerignore").read_text().splitlines()


@pytest.mark.parametrize("name", NAMES)
def test_json_files_name_the_pipeline_and_its_image(projects, name):
    integration = projects(name) / "integration"
    overrides = json.loads((integration / "image-overrides.json").read_text())
    assert overrides == {"live": {name: f"{image_of(name)}:latest"}}

    local = json.loads((integration / "aiModels.local.json").read_text())
    assert local == [
        {"pipeline": "live-video-to-video", "model_id": name, "url": "http://localhost:8000"}
    ]
    container = json.loads((integration / "aiModels.container.json").read_text())
    assert len(container) == 1 and "url" not in container[0]
    assert container[0]["pipeline"] == "live-video-to-video" and container[0]["model_id"] == name
    assert container[0]["warm"] is True
    # go-livepeer's AIModelConfig (core/ai.go) has these JSON fields; prices must be numbers.
    assert set(container[0]) <= {
        "pipeline",
        "model_id",
        "url",
        "token",
        "warm",
        "capacity",
        "optimization_flags",
        "gateway",
        "price_per_unit",
        "pixels_per_unit",
        "currency",
    }
    assert isinstance(container[0]["price_per_unit"], int | float)


@pytest.mark.parametrize("name", NAMES)
def test_a_batch_project_gets_a_batch_override_and_no_aimodels_json(projects, name):
    integration = projects(name, "batch") / "integration"
    overrides = json.loads((integration / "image-overrides.json").read_text())
    assert overrides == {"batch": {name: f"{image_of(name)}:latest"}}
    # go-livepeer panics on an -aiModels pipeline it has no capability for: none is generated.
    assert sorted(path.name for path in integration.iterdir()) == [
        "README.md",
        "dl_checkpoints.sh.diff",
        "docker.go.diff",
        "image-overrides.json",
        "request-params.json",  # an example request's params, valid against --params-schema
        "runners.json",  # the live runner's static registration: the batch kind's way in
    ]
    readme = (integration / "README.md").read_text()
    assert "Pipeline is not valid capability" in readme and "PipelineToCapability" in readme
