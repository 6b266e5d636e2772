"""The integration kit of a generated project: integration/ and `python -m <package>.integrate`.

The tool runs on copies of tests/fixtures/upstream (files written for these tests with the layout
of ai-runner's dl_checkpoints.sh and go-livepeer's docker.go), in a subprocess started with
`python -S`: no site-packages, so it proves the tool needs nothing but the standard library.
Live projects come first; batch projects (their own map, `--batch`, no aiModels.json) follow.
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .rendering import REPO, render

FIXTURES = REPO / "tests" / "fixtures" / "upstream"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
DL_CHECKPOINTS = "runner/dl_checkpoints.sh"
DOCKER_GO = "ai/worker/docker.go"

# Several dashes; two letters; the longest the validators allow (28 characters), longer than every
# key of the map, so gofmt alignment is tested on both sides.
NAMES = ("neon-glow-fx-2", "fx", "long-name-with-many-dashes-x")
# A registry with a port: the image holds a `:` that is not a tag.
IMAGES = {"neon-glow-fx-2": "registry.example.com:5000/team/neon-glow-fx-2"}
KINDS = ("live", "batch")


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


def lay_out_checkouts(folder: Path) -> dict[str, Path]:
    """Fresh copies of the two upstream fixtures, laid out as in their repositories."""
    roots = {"ai-runner": folder / "ai-runner", "go-livepeer": folder / "go-livepeer"}
    for root, relative in ((roots["ai-runner"], DL_CHECKPOINTS), (roots["go-livepeer"], DOCKER_GO)):
        (root / relative).parent.mkdir(parents=True)
        shutil.copy2(FIXTURES / Path(relative).name, root / relative)  # keeps the executable bit
    return roots


@pytest.fixture
def checkouts(tmp_path) -> dict[str, Path]:
    return lay_out_checkouts(tmp_path)


@pytest.fixture(scope="session")
def gofmt() -> str:
    found = shutil.which("gofmt")
    if not found:
        pytest.fail(
            "gofmt is not installed: `source dev/environment.sh` installs it (or install Go)"
        )
    return found


def package_of(project: Path) -> str:
    return next((project / "src").iterdir()).name


def integrate(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-S", "-m", f"{package_of(project)}.integrate", *arguments]
    return subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, timeout=60
    )


def both(checkouts: dict[str, Path]) -> list[str]:
    return [
        "--ai-runner",
        str(checkouts["ai-runner"]),
        "--go-livepeer",
        str(checkouts["go-livepeer"]),
    ]


def contents(checkouts: dict[str, Path]) -> dict[str, bytes]:
    return {
        DL_CHECKPOINTS: (checkouts["ai-runner"] / DL_CHECKPOINTS).read_bytes(),
        DOCKER_GO: (checkouts["go-livepeer"] / DOCKER_GO).read_bytes(),
    }


def image_of(name: str) -> str:
    return IMAGES.get(name, f"my-org/{name}")


def variable_of(name: str) -> str:
    return f"AI_RUNNER_{name.upper().replace('-', '_')}_IMAGE"


def function_of(name: str) -> str:
    return f"prepare_{name.replace('-', '_')}_models"


def run(*command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def git_apply(patch: Path, checkout: Path, *flags: str) -> subprocess.CompletedProcess:
    # Outside any repository, git apply patches files relative to the current folder; the
    # ceiling keeps it from finding a repository above the temporary one.
    environment = {**os.environ, "GIT_CEILING_DIRECTORIES": str(checkout.parent)}
    return run("git", "apply", *flags, str(patch), cwd=checkout, env=environment)


# --- applying ----------------------------------------------------------------------------------


def apply_once(project: Path, checkouts: dict[str, Path]):
    """Run the tool on both checkouts; return its run and the files it left."""
    first = integrate(project, *both(checkouts))
    assert first.returncode == 0, first.stderr
    return first, contents(checkouts)


def assert_a_second_run_changes_nothing(project: Path, checkouts: dict[str, Path], patched):
    second = integrate(project, *both(checkouts))
    assert second.returncode == 0, second.stderr
    assert contents(checkouts) == patched  # byte for byte
    assert second.stdout == ""
    assert second.stderr.count("already in, nothing to do") == 2


def assert_check_passes_once_applied(project: Path, checkouts: dict[str, Path]) -> None:
    """After applying, --check exits 0, prints nothing and writes nothing."""
    assert integrate(project, *both(checkouts)).returncode == 0
    applied = contents(checkouts)
    after = integrate(project, *both(checkouts), "--check")
    assert after.returncode == 0, after.stderr
    assert after.stdout == ""
    assert contents(checkouts) == applied


@pytest.mark.parametrize("name", NAMES)
def test_applies_every_piece_once_and_a_second_run_changes_nothing(projects, checkouts, name):
    project = projects(name)
    original = contents(checkouts)

    first, patched = apply_once(project, checkouts)
    script, go = patched[DL_CHECKPOINTS].decode(), patched[DOCKER_GO].decode()
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
    comment = f"\t// {name} is a custom live pipeline, built from its own repository\n"
    assert f'\t"scope": "daydreamlive/scope-runner",\n{comment}\t"{name}": "{image}",\n}}\n' in go
    added = [line for line in first.stdout.splitlines() if line.startswith("  ")]
    assert len(added) == 10, first.stdout  # nine pieces in the script, one in docker.go
    assert os.access(checkouts["ai-runner"] / DL_CHECKPOINTS, os.X_OK)  # mode kept
    assert patched != original

    assert_a_second_run_changes_nothing(project, checkouts, patched)


def test_a_partly_patched_file_gets_only_the_missing_pieces(projects, checkouts):
    project = projects("neon-glow-fx-2")
    assert integrate(project, *both(checkouts)).returncode == 0
    complete = contents(checkouts)
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    call = "    prepare_neon_glow_fx_2_models\n    ;;\n  *)"
    script.write_text(script.read_text().replace(call, "    ;;\n  *)"))

    again = integrate(project, "--ai-runner", str(checkouts["ai-runner"]))

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == [
        '  download_live_models: prepare_neon_glow_fx_2_models in "all")'
    ]
    assert contents(checkouts) == complete


@pytest.mark.parametrize("given", ["ai-runner", "go-livepeer"])
def test_either_checkout_alone_is_patched_and_the_other_left_alone(projects, checkouts, given):
    original = contents(checkouts)
    done = integrate(projects("neon-glow-fx-2"), f"--{given}", str(checkouts[given]))
    assert done.returncode == 0, done.stderr
    changed = {path for path, text in contents(checkouts).items() if text != original[path]}
    assert changed == {DL_CHECKPOINTS if given == "ai-runner" else DOCKER_GO}


def test_no_checkout_at_all_is_a_usage_error(projects):
    done = integrate(projects("neon-glow-fx-2"))
    assert done.returncode == 2
    assert "usage:" in done.stderr and "--ai-runner PATH, --go-livepeer PATH" in done.stderr


# --- --check -----------------------------------------------------------------------------------


def test_check_prints_the_diff_and_exits_1_then_0_once_applied_and_never_writes(
    projects, checkouts
):
    project = projects("neon-glow-fx-2")
    original = contents(checkouts)

    before = integrate(project, *both(checkouts), "--check")
    assert before.returncode == 1, before.stderr
    assert contents(checkouts) == original
    assert "--- a/runner/dl_checkpoints.sh\n+++ b/runner/dl_checkpoints.sh\n" in before.stdout
    assert "--- a/ai/worker/docker.go\n+++ b/ai/worker/docker.go\n" in before.stdout
    assert "\n+function prepare_neon_glow_fx_2_models() {\n" in before.stdout
    assert (
        '\n+\t"neon-glow-fx-2": "registry.example.com:5000/team/neon-glow-fx-2",\n' in before.stdout
    )
    assert re.search(r"^@@ -\d+,\d+ \+\d+,\d+ @@$", before.stdout, re.MULTILINE)

    assert_check_passes_once_applied(project, checkouts)


def test_the_check_diff_is_the_edit_the_tool_makes(projects, checkouts, tmp_path):
    """What --check prints, applied with git, gives what a run writes."""
    project = projects("neon-glow-fx-2")
    diff = tmp_path / "check.diff"
    diff.write_text(
        integrate(project, "--ai-runner", str(checkouts["ai-runner"]), "--check").stdout
    )
    assert git_apply(diff, checkouts["ai-runner"]).returncode == 0
    by_git = contents(checkouts)[DL_CHECKPOINTS]
    shutil.copy2(FIXTURES / "dl_checkpoints.sh", checkouts["ai-runner"] / DL_CHECKPOINTS)
    assert integrate(project, "--ai-runner", str(checkouts["ai-runner"])).returncode == 0
    assert contents(checkouts)[DL_CHECKPOINTS] == by_git


# --- what upstream's checks say about the result ----------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_patched_files_pass_bash_shellcheck_and_gofmt(projects, checkouts, gofmt, name, kind):
    assert integrate(projects(name, kind), *both(checkouts)).returncode == 0
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    go = checkouts["go-livepeer"] / DOCKER_GO

    syntax = run("bash", "-n", str(script), cwd=script.parent)
    assert syntax.returncode == 0, syntax.stderr
    lint = run(str(SHELLCHECK), str(script), cwd=script.parent)
    assert lint.returncode == 0, lint.stdout  # the fixture itself is shellcheck-clean
    formatting = run(gofmt, "-l", str(go), cwd=go.parent)
    assert formatting.returncode == 0, formatting.stderr
    assert formatting.stdout == "", run(gofmt, "-d", str(go), cwd=go.parent).stdout


def test_the_fixtures_themselves_pass_the_same_checks(gofmt):
    assert run("bash", "-n", str(FIXTURES / "dl_checkpoints.sh"), cwd=FIXTURES).returncode == 0
    assert run(str(SHELLCHECK), "dl_checkpoints.sh", cwd=FIXTURES).returncode == 0
    assert run(gofmt, "-l", "docker.go", cwd=FIXTURES).stdout == ""


@pytest.mark.parametrize("name", NAMES)
def test_the_patched_script_prepares_the_pipeline(projects, checkouts, name):
    """Runs the patched fixture (its docker is a stand-in that prints): the new branch calls the
    new function, which runs the image with the models folder; --tensorrt and `all` include it."""
    assert integrate(projects(name), "--ai-runner", str(checkouts["ai-runner"])).returncode == 0
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


# --- the reviewed diffs in integration/ ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_the_shipped_diffs_apply_cleanly_and_equal_the_tools_edit(
    projects, checkouts, tmp_path, name, kind
):
    project = projects(name, kind)
    for checkout, diff in (
        ("ai-runner", "dl_checkpoints.sh.diff"),
        ("go-livepeer", "docker.go.diff"),
    ):
        patch = project / "integration" / diff
        check = git_apply(patch, checkouts[checkout], "--check")  # unlike patch, never fuzzy
        assert check.returncode == 0, check.stderr
        assert git_apply(patch, checkouts[checkout]).returncode == 0

    by_tool = lay_out_checkouts(tmp_path / "by-tool")
    assert integrate(project, *both(by_tool)).returncode == 0
    assert contents(by_tool) == contents(checkouts)


# --- refusals ----------------------------------------------------------------------------------

# (file, regular expression, replacement, what the message must name): each edit hides one
# structure the tool looks for, as an upstream change could.
MISSING_ANCHORS = [
    (DOCKER_GO, r"var livePipelineToImage =", "var livePipelines =", "livePipelineToImage"),
    (DL_CHECKPOINTS, r"(?m)^AI_RUNNER_(\w+)_IMAGE=", r"RUNNER_\1_IMAGE=", "image variables"),
    (DL_CHECKPOINTS, r"- 'all': all pipelines", "- every pipeline", "- 'all'"),
    (
        DL_CHECKPOINTS,
        r"function download_live_models\(\)",
        "function live()",
        "download_live_models",
    ),
    (DL_CHECKPOINTS, r'case "\$PIPELINE" in', 'case "$MODE" in', 'case "$PIPELINE" in'),
    (DL_CHECKPOINTS, r'"all"\)\n    prepare_stream', '"every")\n    prepare_stream', '`"all")`'),
    (DL_CHECKPOINTS, r'printf "Valid values: ', 'printf "Pipelines: ', "`Valid values:`"),
    (
        DL_CHECKPOINTS,
        r"function run_pipeline_prepare\(\)",
        "function prepare()",
        "run_pipeline_prepare",
    ),
]

# Each edit hides one structure a batch project's tool looks for, as an upstream change could.
BATCH_MISSING_ANCHORS = [
    (DOCKER_GO, r"var pipelineToImage =", "var batchImages =", "pipelineToImage"),
    (DL_CHECKPOINTS, r"(?m)^AI_RUNNER_(\w+)_IMAGE=", r"RUNNER_\1_IMAGE=", "image variables"),
    (DL_CHECKPOINTS, r'echo "  AI_RUNNER_', 'echo "  RUNNER_', "AI_RUNNER_..._IMAGE"),
    (DL_CHECKPOINTS, r"function display_help\(\)", "function usage()", "display_help"),
    (
        DL_CHECKPOINTS,
        r"function run_pipeline_prepare\(\)",
        "function prepare()",
        "run_pipeline_prepare",
    ),
    (
        DL_CHECKPOINTS,
        r"(?m)^function prepare_(\w+)_models\(\)",
        r"function setup_\1()",
        "prepare_<pipeline>_models",
    ),
    (
        DL_CHECKPOINTS,
        r"function download_batch_models\(\)",
        "function batch_models()",
        "download_batch_models",
    ),
]


def anchors_by_kind() -> list[tuple[str, ...]]:
    return [("live", *anchor) for anchor in MISSING_ANCHORS] + [
        ("batch", *anchor) for anchor in BATCH_MISSING_ANCHORS
    ]


@pytest.mark.parametrize(
    ("kind", "relative", "pattern", "replacement", "named"),
    anchors_by_kind(),
    ids=[f"{anchor[0]}-{anchor[4]}" for anchor in anchors_by_kind()],
)
@pytest.mark.parametrize("check", [False, True], ids=["apply", "check"])
def test_a_missing_anchor_is_refused_and_neither_file_is_written(
    projects, checkouts, kind, relative, pattern, replacement, named, check
):
    path = checkouts["go-livepeer" if relative == DOCKER_GO else "ai-runner"] / relative
    text, replaced = re.subn(pattern, replacement, path.read_text())
    assert replaced, pattern
    path.write_text(text)
    before = contents(checkouts)

    check_option = ["--check"] if check else []
    done = integrate(projects("neon-glow-fx-2", kind), *both(checkouts), *check_option)

    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}: cannot find " in done.stderr and named in done.stderr, done.stderr
    assert f"integration/{path.name}.diff" in done.stderr  # where to see the edit to make by hand
    assert "nothing was written" in done.stderr
    assert done.stdout == ""
    assert contents(checkouts) == before


def test_another_image_for_the_name_is_refused(projects, checkouts):
    go = checkouts["go-livepeer"] / DOCKER_GO
    go.write_text(
        go.read_text().replace('\t"scope"', '\t"neon-glow-fx-2": "other/image",\n\t"scope"')
    )
    before = contents(checkouts)
    done = integrate(projects("neon-glow-fx-2"), *both(checkouts))
    assert done.returncode == 2
    assert 'already maps "neon-glow-fx-2" to "other/image"' in done.stderr
    assert contents(checkouts) == before


def test_a_branch_that_would_catch_the_name_first_is_refused(projects, checkouts):
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    glob = '  neon-*)\n    prepare_scope_models\n    ;;\n  "streamdiffusion")'
    script.write_text(script.read_text().replace('  "streamdiffusion")', glob, 1))
    before = contents(checkouts)
    done = integrate(projects("neon-glow-fx-2"), *both(checkouts))
    assert done.returncode == 2
    assert "`neon-*)` branch" in done.stderr and "download_live_models" in done.stderr
    assert contents(checkouts) == before


def test_a_path_that_is_not_a_checkout_is_refused(projects, checkouts, tmp_path):
    before = contents(checkouts)
    done = integrate(
        projects("neon-glow-fx-2"),
        "--ai-runner",
        str(tmp_path),
        "--go-livepeer",
        str(checkouts["go-livepeer"]),
    )
    assert done.returncode == 2
    assert f"{tmp_path / DL_CHECKPOINTS} not found" in done.stderr
    assert "--ai-runner takes the root of your ai-runner checkout" in done.stderr
    assert contents(checkouts) == before


# --- the rendered files ------------------------------------------------------------------------


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
def test_the_tool_uses_the_specs_name_and_is_a_console_script(projects, name):
    project = projects(name)
    package = package_of(project)
    main = ast.parse((project / "src" / package / "main.py").read_text())
    spec_names = [
        keyword.value.value
        for node in ast.walk(main)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PipelineSpec"
        for keyword in node.keywords
        if keyword.arg == "name"
    ]
    constants = {}
    exec((project / "src" / package / "integrate" / "project.py").read_text(), constants)
    assert spec_names == [name] == [constants["PIPELINE_NAME"]]
    assert constants["DOCKER_IMAGE"] == image_of(name)

    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[f"{name}-integrate"] == f"{package}.integrate.cli:main"
    usage = integrate(project, "--help")
    assert usage.returncode == 0 and usage.stdout.startswith(f"usage: {name}-integrate")


# --- batch projects ----------------------------------------------------------------------------


def map_block(go: str, name: str) -> str:
    """The map literal `var <name> = map[string]string{ ... }` of a docker.go text."""
    found = re.search(rf"(?ms)^var {name} = map\[string\]string\{{$.*?^\}}$", go)
    assert found, name
    return found[0]


def download_batch_models(script: str) -> str:
    found = re.search(r"(?ms)^function download_batch_models\(\) \{$.*?^\}$", script)
    assert found
    return found[0]


@pytest.mark.parametrize("name", NAMES)
def test_a_batch_project_adds_its_pieces_once_and_a_second_run_changes_nothing(
    projects, checkouts, name
):
    project = projects(name, "batch")
    original = contents(checkouts)

    first, patched = apply_once(project, checkouts)
    script, go = patched[DL_CHECKPOINTS].decode(), patched[DOCKER_GO].decode()
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

    comment = f"\t// {name} is a custom batch pipeline, built from its own repository\n"
    llm = '\t"llm":                "livepeer/ai-runner:llm",\n'
    assert f'{llm}{comment}\t"{name}": "{image}",\n}}\n' in go
    original_go = original[DOCKER_GO].decode()
    assert map_block(go, "livePipelineToImage") == map_block(original_go, "livePipelineToImage")
    added = [line for line in first.stdout.splitlines() if line.startswith("  ")]
    assert len(added) == 5, first.stdout  # four pieces in the script, one in docker.go
    assert os.access(checkouts["ai-runner"] / DL_CHECKPOINTS, os.X_OK)

    assert_a_second_run_changes_nothing(project, checkouts, patched)


def test_a_live_project_leaves_the_batch_map_alone(projects, checkouts):
    original = contents(checkouts)[DOCKER_GO].decode()
    assert integrate(projects("neon-glow-fx-2"), *both(checkouts)).returncode == 0
    patched = contents(checkouts)[DOCKER_GO].decode()
    assert map_block(patched, "pipelineToImage") == map_block(original, "pipelineToImage")
    script = contents(checkouts)[DL_CHECKPOINTS].decode()
    assert "prepare_neon_glow_fx_2_models" not in download_batch_models(script)


def test_a_live_project_needs_none_of_the_batch_anchors(projects, checkouts):
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    script.write_text(script.read_text().replace("download_batch_models", "gone_batch_models"))
    go = checkouts["go-livepeer"] / DOCKER_GO
    go.write_text(go.read_text().replace("var pipelineToImage =", "var batchImages ="))

    done = integrate(projects("neon-glow-fx-2"), *both(checkouts))

    assert done.returncode == 0, done.stderr
    assert '"neon-glow-fx-2": "registry.example.com' in go.read_text()


def test_a_batch_project_needs_none_of_the_live_anchors(projects, checkouts):
    """Without download_live_models, build_tensorrt_models, the PIPELINE options of the help
    and livePipelineToImage, a batch project's tool still finds all it edits."""
    script = checkouts["ai-runner"] / DL_CHECKPOINTS
    text = script.read_text()
    for live_only in ("download_live_models", "build_tensorrt_models"):
        text = text.replace(f"function {live_only}()", f"function gone_{live_only}()")
    script.write_text(text.replace("- 'all': all pipelines", "- every pipeline"))
    go = checkouts["go-livepeer"] / DOCKER_GO
    go.write_text(go.read_text().replace("var livePipelineToImage =", "var liveImages ="))

    done = integrate(projects("neon-glow-fx-2", "batch"), *both(checkouts))

    assert done.returncode == 0, done.stderr
    assert "prepare_neon_glow_fx_2_models" in download_batch_models(script.read_text())


def test_a_batch_check_prints_the_diff_and_exits_1_then_0_and_never_writes(projects, checkouts):
    project = projects("neon-glow-fx-2", "batch")
    original = contents(checkouts)

    before = integrate(project, *both(checkouts), "--check")
    assert before.returncode == 1, before.stderr
    assert contents(checkouts) == original
    assert "\n+function prepare_neon_glow_fx_2_models() {\n" in before.stdout
    assert "\n+  prepare_neon_glow_fx_2_models\n }\n" in before.stdout
    assert "\n+\t// neon-glow-fx-2 is a custom batch pipeline" in before.stdout

    assert_check_passes_once_applied(project, checkouts)


@pytest.mark.parametrize("name", NAMES)
def test_the_patched_script_prepares_the_batch_pipeline_with_batch(projects, checkouts, name):
    """Runs the patched fixture (its docker and hf print instead of running): `--batch` prepares
    the pipeline after upstream's batch downloads; `--live` does not know it."""
    project = projects(name, "batch")
    assert integrate(project, "--ai-runner", str(checkouts["ai-runner"])).returncode == 0
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


def test_another_image_for_the_batch_name_is_refused(projects, checkouts):
    go = checkouts["go-livepeer"] / DOCKER_GO
    go.write_text(
        go.read_text().replace('\t"llm": ', '\t"neon-glow-fx-2": "other/image",\n\t"llm": ')
    )
    before = contents(checkouts)
    done = integrate(projects("neon-glow-fx-2", "batch"), *both(checkouts))
    assert done.returncode == 2
    assert 'pipelineToImage already maps "neon-glow-fx-2" to "other/image"' in done.stderr
    assert contents(checkouts) == before


def test_an_unknown_kind_in_project_py_is_refused(projects, checkouts, tmp_path):
    project = shutil.copytree(projects("neon-glow-fx-2", "batch"), tmp_path / "edited")
    constants = project / "src" / "neon_glow_fx_2" / "integrate" / "project.py"
    constants.write_text(constants.read_text().replace('"batch"', '"stream"'))
    before = contents(checkouts)
    done = integrate(project, *both(checkouts))
    assert done.returncode == 2
    assert (
        "PIPELINE_KIND 'stream' in integrate/project.py must be one of live, batch" in done.stderr
    )
    assert contents(checkouts) == before


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
    ]
    readme = (integration / "README.md").read_text()
    assert "Pipeline is not valid capability" in readme and "PipelineToCapability" in readme


@pytest.mark.parametrize("name", NAMES)
def test_the_batch_tool_uses_the_pipelines_name_and_is_a_console_script(projects, name):
    project = projects(name, "batch")
    package = package_of(project)
    pipeline = ast.parse((project / "src" / package / "pipeline" / "pipeline.py").read_text())
    class_names = [
        node.value.value
        for node in ast.walk(pipeline)
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", "") for target in node.targets] == ["name"]
    ]
    constants = {}
    exec((project / "src" / package / "integrate" / "project.py").read_text(), constants)
    assert class_names == [name] == [constants["PIPELINE_NAME"]]
    assert constants["PIPELINE_KIND"] == "batch"
    assert constants["DOCKER_IMAGE"] == image_of(name)

    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[f"{name}-integrate"] == f"{package}.integrate.cli:main"
    usage = integrate(project, "--help")
    assert usage.returncode == 0 and usage.stdout.startswith(f"usage: {name}-integrate")
    assert f"{name} batch pipeline" in usage.stdout
