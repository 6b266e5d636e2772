"""`copier update`: the user's files stay untouched, the template's files, the ai-runner pin and
the base image move, and the lock is refreshed after the merge.

Releases are cut in a scratch repository (tests never depend on this repository's tags):
- v0.1.0, the template's first release, from this repository's history (its commit "Release
  v0.1.0"): the layout before pipeline/ and runtime/ split;
- v0.2.0, from the commit "Release v0.2.0": pipeline/ and the vendored runtime/;
- v0.3.0, this tree: runtime/ is the kit (ai-runner-kit), a dependency;
- v0.4.0, v0.3.0 with every template-owned file changed, a newer ai-runner row (as every
  upstream release brings) and a user-owned file moved (README.md to docs/README.md) with the
  versioned migration such a move needs.
"""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from .ownership import files_by_owner, is_user_owned
from .projects import assert_own_tests_pass, installed, run_in
from .rendering import DOUBLE, REPO, shell_environment, snapshot_template

VENV_BIN = Path(sys.executable).parent
NEWER_AI_RUNNER = "v0.15.0"
NEWER_ROW = {
    "live_base_image": f"livepeer/ai-runner:live-base-{NEWER_AI_RUNNER}",
    "batch_base_image": f"livepeer/ai-runner:{NEWER_AI_RUNNER}",
    "python": ["3.10", "3.11"],
    "python_below": "3.12",
    "torch": "2.7.1",
    "torch_index": {"name": "pytorch-cu128", "url": "https://download.pytorch.org/whl/cu128"},
    "notes": "A release made up by the update tests.",
}
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Update Test",
    "GIT_AUTHOR_EMAIL": "update@example.com",
    "GIT_COMMITTER_NAME": "Update Test",
    "GIT_COMMITTER_EMAIL": "update@example.com",
}
REPLACED_MODEL = REPO / "tests" / "fixtures" / "replaced_model"
MOVED_README = "docs/README.md"
RELEASE_MARK = "Changed in release v0.4.0."


def run(*command: str, cwd: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = shell_environment(**GIT_IDENTITY, **env_extra)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done


def git(cwd: Path, *args: str) -> str:
    return run("git", *args, cwd=cwd).stdout


def copier(cwd: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "copier", *args, cwd=cwd, **env_extra)


# --- the releases -------------------------------------------------------------------------------


def release_commit(version: str) -> str:
    """This repository's commit "Release <version>" (CHANGELOG.md: how a release is cut)."""
    subject = f"Release {version}"
    found = subprocess.run(
        ["git", "log", "--format=%H %s", "--fixed-strings", f"--grep={subject}"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    commits = [line.split()[0] for line in found.stdout.splitlines() if line.endswith(subject)]
    if found.returncode != 0 or not commits:
        pytest.fail(
            f"No commit '{subject}' in {REPO}'s history: these tests need a full clone (not "
            f"shallow) to cut the earlier releases. git said: {found.stderr.strip()}"
        )
    return commits[-1]


def extract(commit: str, destination: Path) -> Path:
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
    return destination


def replace_tree(repository: Path, source: Path) -> None:
    for path in repository.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for path in source.iterdir():
        shutil.move(str(path), repository / path.name)


def release(repository: Path, version: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "-m", f"Release {version}")
    git(repository, "tag", version)


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    scratch = tmp_path_factory.mktemp("releases")
    repository = extract(release_commit("v0.1.0"), scratch / "template")
    git(repository, "init", "--quiet")
    release(repository, "v0.1.0")
    replace_tree(repository, extract(release_commit("v0.2.0"), scratch / "v0.2.0"))
    release(repository, "v0.2.0")
    replace_tree(repository, snapshot_template(scratch / "this-tree"))
    release(repository, "v0.3.0")
    add_an_ai_runner_release(repository)
    change_every_template_owned_file(repository)
    move_the_readme(repository)
    release(repository, "v0.4.0")
    return repository


def add_an_ai_runner_release(repository: Path) -> None:
    table_path = repository / "data" / "ai_runner_releases.yml"
    table = yaml.safe_load(table_path.read_text())
    rows = table["ai_runner_releases"]["default"]
    table["ai_runner_releases"]["default"] = {NEWER_AI_RUNNER: NEWER_ROW, **rows}
    table_path.write_text(yaml.safe_dump(table, sort_keys=False))


# Template files a user owns once generated (the paths copier.yml excludes on update), and
# copier's answers file.
USER_OWNED_IN_TEMPLATE = re.compile(
    r"^([^/]*README\.md[^/]*|src/\{\{package_name\}\}/pipeline/.*|tests/.*|.*answers_file.*)$"
)


def change_every_template_owned_file(repository: Path) -> None:
    """A release that touches every file the template owns, in a way each format allows."""
    template = repository / "template"
    for path in sorted(template.rglob("*")):
        relative = path.relative_to(template).as_posix()
        if not path.is_file() or USER_OWNED_IN_TEMPLATE.match(relative):
            continue
        text = path.read_text()
        rendered_name = re.sub(r"\{%.*?%\}", "", path.name).removesuffix(".jinja")
        if rendered_name.endswith(".json"):
            text += "\n"  # JSON has no comments: a blank line is this release's change
        elif rendered_name.endswith((".md", ".diff")):
            text = f"{RELEASE_MARK}\n\n{text}"
        else:
            text += f"# {RELEASE_MARK}\n"
        path.write_text(text)


def move_the_readme(repository: Path) -> None:
    """What a release does to move a user-owned file: the template file moves, the template's
    own references follow, both paths stay the user's, and a migration moves the user's copy."""
    template = repository / "template"
    (template / "docs").mkdir()
    for readme in template.glob("*README.md*.jinja"):
        git(repository, "mv", str(readme), str(template / "docs" / readme.name))
    for path, old, new in [
        ("pyproject.toml.jinja", 'readme = "README.md"', f'readme = "{MOVED_README}"'),
        ("Dockerfile.jinja", "COPY README.md ./", f"COPY {MOVED_README} ./docs/"),
    ]:
        text = (template / path).read_text()
        assert old in text, (path, old)
        (template / path).write_text(text.replace(old, new))
    config = repository / "copier.yml"
    text = config.read_text()
    excluded = "  - \"{% if _copier_operation == 'update' %}/README.md{% endif %}\"\n"
    assert excluded in text
    text = text.replace(excluded, excluded + excluded.replace("README.md", MOVED_README))
    text = text.replace(
        "_migrations:\n",
        "_migrations:\n"
        "  - version: v0.4.0\n"
        "    when: \"{{ _stage == 'before' }}\"\n"
        "    command:\n"
        '      - "{{ _copier_python }}"\n'
        '      - "{{ _copier_conf.src_path }}/hooks/move_user_file.py"\n'
        f"      - README.md\n      - {MOVED_README}\n",
    )
    assert "move_user_file.py" in text
    config.write_text(text)


# --- projects -----------------------------------------------------------------------------------

LOCAL_AI_RUNNER = ("-d", "ai_runner_source=path", "-d", f"ai_runner_path={DOUBLE}")


def generate(releases: Path, project: Path, version: str, *answers: str, **env: str) -> Path:
    copier(project.parent, "copy", "--trust", "--defaults", "--vcs-ref", version, *answers,
           str(releases), str(project), **env)  # fmt: skip
    return project


def update(project: Path, version: str, *answers: str, **env: str) -> subprocess.CompletedProcess:
    return copier(project, "update", "--trust", "--defaults", "--vcs-ref", version, *answers, **env)


def unresolved(project: Path) -> list[Path]:
    markers = [
        path
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and "<<<<<<< before updating" in path.read_text("latin-1")
    ]
    return markers + list(project.rglob("*.rej"))


def contents(project: Path, paths: list[Path]) -> dict[Path, bytes]:
    return {path: (project / path).read_bytes() for path in paths}


def changed_paths(project: Path) -> set[Path]:
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    return {Path(line[3:].split(" -> ")[-1]) for line in status.splitlines()}


def replace_the_model(project: Path) -> None:
    """What a user does on day one: another network, other params, no styles, their own tests
    and README. They touch only files they own."""
    package = project / "src" / "my_pipeline"
    for path in [*(package / "pipeline").glob("*.py"), *(project / "tests").glob("*.py")]:
        if path.name != "__init__.py":
            path.unlink()
    shutil.copytree(REPLACED_MODEL, project, dirs_exist_ok=True)


def assert_prepare_and_bench_run(project: Path) -> None:
    prepared = run_in(project, "my-pipeline", "--prepare-models", timeout=300)
    assert prepared.returncode == 0, prepared.stderr
    bench = run_in(project, "my-pipeline-bench", "--frames", "20", "--width", "384",
                   "--height", "384", "--params", '{"glow": 1.0}', timeout=600)  # fmt: skip
    assert bench.returncode == 0, bench.stderr[-3000:]
    assert "20 frames in" in bench.stdout
    assert "not timed alone" in bench.stdout  # the optional hook's default


# --- from the earlier layouts -----------------------------------------------------------------


def assert_on_the_kit(project: Path) -> None:
    """The v0.3.0 layout: no runtime/, the user's imports at the kit, lint-clean."""
    package = project / "src" / "my_pipeline"
    assert not (package / "runtime").exists()
    yours = [*(package / "pipeline").rglob("*.py"), *(project / "tests").rglob("*.py")]
    imports = re.compile(r"^\s*(?:from|import) \S*runtime\b", re.MULTILINE)
    assert [path for path in yours if imports.search(path.read_text())] == []
    ruff = str(VENV_BIN / "ruff")
    run(ruff, "check", "--no-cache", ".", cwd=project)
    run(ruff, "format", "--no-cache", "--check", ".", cwd=project)


def migration_lines(output: str) -> list[str]:
    """The v0.3.0 migration's messages, with the lines each wraps onto."""
    lines, inside = [], False
    for line in output.splitlines():
        inside = "migration v0.3.0:" in line or (inside and line.startswith("    "))
        if inside:
            lines.append(line)
    return lines


@pytest.mark.parametrize("kind", ["live", "batch"])
def test_a_first_release_project_updates_and_passes_its_own_tests(releases, tmp_path, kind):
    project = generate(releases, tmp_path / "my-pipeline", "v0.1.0", *LOCAL_AI_RUNNER,
                       "-d", f"pipeline_kind={kind}")  # fmt: skip
    updated = update(project, "v0.3.0")

    assert unresolved(project) == []
    assert f"moved src/my_pipeline/pipeline/pipeline.py to src/my_pipeline/pipeline/{kind}.py" in (
        updated.stdout
    )
    package = project / "src" / "my_pipeline"
    for gone in ("bench.py", "local_stream.py", "integrate", "pipeline/pipeline.py"):
        assert not (package / gone).exists(), gone
    assert "[ok] merge: no conflicts" in updated.stdout
    assert_on_the_kit(project)
    with installed(project):
        assert_own_tests_pass(project)


@pytest.mark.parametrize("kind", ["live", "batch"])
def test_a_v0_2_0_project_moves_onto_the_kit_and_passes_its_own_tests(releases, tmp_path, kind):
    project = generate(releases, tmp_path / "my-pipeline", "v0.2.0", *LOCAL_AI_RUNNER,
                       "-d", f"pipeline_kind={kind}")  # fmt: skip
    assert (project / "src" / "my_pipeline" / "runtime").is_dir()
    updated = update(project, "v0.3.0")

    assert unresolved(project) == []
    assert "[ok] merge: no conflicts" in updated.stdout
    said = " ".join(line.strip() for line in migration_lines(updated.stdout))
    assert "src/my_pipeline/runtime/ is gone: the kit (ai-runner-kit) replaces it" in said
    assert "imports point at the kit in src/my_pipeline/pipeline/" in said
    assert (project / "src" / "my_pipeline" / "pipeline" / "model_folder.py").is_file()
    assert all(len(line) <= 80 for line in migration_lines(updated.stdout))
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert any(dependency.startswith("ai-runner-kit==") for dependency in dependencies)
    assert_on_the_kit(project)
    with installed(project):
        assert_own_tests_pass(project)


def test_a_runtime_file_you_changed_is_kept_and_said(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.2.0", *LOCAL_AI_RUNNER)
    worker = project / "src" / "my_pipeline" / "runtime" / "worker.py"
    worker.write_text(worker.read_text() + "\n# tuned for our GPU\n")
    git(project, "commit", "--quiet", "--all", "-m", "Our worker")
    updated = update(project, "v0.3.0")

    assert worker.read_text().endswith("# tuned for our GPU\n")
    assert [path.name for path in worker.parent.iterdir() if path.suffix == ".py"] == ["worker.py"]
    lines = migration_lines(updated.stdout)
    said = " ".join(line.strip() for line in lines)
    assert all(len(line) <= 80 for line in lines)
    assert "kept src/my_pipeline/runtime/worker.py: you changed it" in said
    assert "src/my_pipeline/runtime/ keeps 1 file(s) of yours" in said
    assert not (project / ".copier-v0.3.0-kept").exists()
    assert unresolved(project) == []


# --- a replaced model across a release that changes every template file -------------------------


def test_a_replaced_model_survives_a_release_that_changes_every_template_file(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.3.0", *LOCAL_AI_RUNNER)
    replace_the_model(project)
    touched = [path for path in changed_paths(project) if not is_user_owned(project, path)]
    assert touched == [], "replacing the model touched the template's files"
    yours, _ = files_by_owner(project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Our own model")
    mine = contents(project, yours)

    ruff = str(VENV_BIN / "ruff")
    run(ruff, "check", "--no-cache", ".", cwd=project)
    run(ruff, "format", "--no-cache", "--check", ".", cwd=project)
    with installed(project):
        assert_own_tests_pass(project)
        assert_prepare_and_bench_run(project)

        updated = update(project, "v0.4.0")
        assert unresolved(project) == []
        assert "[ok] merge: no conflicts" in updated.stdout
        moved = {Path("README.md"): Path(MOVED_README)}
        assert {moved.get(path, path): text for path, text in mine.items()} == contents(
            project, [moved.get(path, path) for path in mine]
        )
        _, template_files = files_by_owner(project)  # as this tree's copier.yml sees them
        unchanged = [
            path
            for path in template_files
            if path not in {Path(MOVED_README), *moved.values()}
            and path.suffix != ".json"  # changed by a blank line only
            and RELEASE_MARK not in (project / path).read_text()
        ]
        assert unchanged == [], "the release's change did not reach these template files"
        assert not (project / "src" / "my_pipeline" / "pipeline" / "backbone.py").exists()
        assert_own_tests_pass(project)


# --- between releases of this layout ------------------------------------------------------------


def edit_your_files(project: Path) -> dict[Path, str]:
    """What a user does after generating: their model, their tests, their README, a dependency."""
    edits = {
        project / "src" / "my_pipeline" / "pipeline" / "backbone.py": "\n# my own network\n",
        project / "tests" / "test_model.py": "\n\ndef test_mine():\n    assert True\n",
        project / "README.md": "\nOur notes on this pipeline.\n",
    }
    for path, addition in edits.items():
        path.write_text(path.read_text() + addition)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            '    "safetensors>=0.4",\n', '    "safetensors>=0.4",\n    "numpy>=1.26",\n'
        )
    )
    git(project, "commit", "--quiet", "--all", "-m", "My changes")
    return edits


def test_update_keeps_your_files_and_moves_the_release(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.3.0", *LOCAL_AI_RUNNER)
    edits = edit_your_files(project)

    updated = update(project, "v0.4.0", "-d", f"ai_runner_version={NEWER_AI_RUNNER}")

    assert unresolved(project) == []
    readme = project / "README.md"
    moved = project / MOVED_README
    assert not readme.exists()
    assert moved.read_text().endswith(edits.pop(readme))  # moved, with the user's edit
    assert f"[ok] migration: moved README.md to {MOVED_README}" in updated.stdout
    for path, addition in edits.items():
        assert path.read_text().endswith(addition), path
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["readme"] == MOVED_README
    assert "numpy>=1.26" in pyproject["project"]["dependencies"]
    assert f"ARG BASE_IMAGE={NEWER_ROW['live_base_image']}" in (project / "Dockerfile").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["ai_runner_version"] == NEWER_AI_RUNNER
    assert "[ok] merge: no conflicts" in updated.stdout
    assert "[ok] lock: uv.lock written" in updated.stdout
    run(str(VENV_BIN / "uv"), "lock", "--check", cwd=project)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Update the template to v0.4.0")
    assert git(project, "status", "--porcelain") == ""


def test_update_never_brings_back_a_file_you_deleted_from_your_room(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.3.0", *LOCAL_AI_RUNNER)
    (project / "src" / "my_pipeline" / "pipeline" / "backbone.py").unlink()
    (project / "tests" / "test_model.py").unlink()
    git(project, "commit", "--quiet", "--all", "-m", "Not ours any more")
    update(project, "v0.4.0")
    assert not (project / "src" / "my_pipeline" / "pipeline" / "backbone.py").exists()
    assert not (project / "tests" / "test_model.py").exists()
    assert unresolved(project) == []


def test_update_moves_the_git_pin_even_when_locking_cannot_run(releases, tmp_path):
    # uv told it has no network: it cannot resolve the git source, as without GitHub
    project = generate(releases, tmp_path / "my-pipeline", "v0.3.0", UV_OFFLINE="1")
    updated = update(project, "v0.4.0", "-d", f"ai_runner_version={NEWER_AI_RUNNER}",
                     UV_OFFLINE="1")  # fmt: skip
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources["ai-runner"]["tag"] == NEWER_AI_RUNNER
    # the update is applied, and the lock step says what failed and what to run
    assert "[FAILED] lock: uv lock failed" in updated.stdout
    assert "run it later with:" in updated.stdout
    assert unresolved(project) == []


def test_update_to_the_same_release_changes_nothing(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.4.0", *LOCAL_AI_RUNNER)
    update(project, "v0.4.0")
    assert git(project, "status", "--porcelain") == ""


def test_check_update_reports_a_newer_release(releases, tmp_path):
    project = generate(releases, tmp_path / "my-pipeline", "v0.3.0", *LOCAL_AI_RUNNER)
    outdated = subprocess.run(
        [sys.executable, "-m", "copier", "check-update", "--quiet"],
        cwd=project,
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outdated.returncode == 2, outdated.stderr
    current = generate(releases, tmp_path / "current", "v0.4.0", *LOCAL_AI_RUNNER)
    copier(current, "check-update", "--quiet")


# --- the hooks on their own ---------------------------------------------------------------------

HOOKS = REPO / "hooks"


def test_the_update_hook_lists_what_the_merge_left_to_resolve(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HOOKS))
    from after_update import unresolved as left_to_resolve

    (tmp_path / "Dockerfile").write_text("<<<<<<< before updating\nA\n=======\nB\n>>>>>>> after\n")
    (tmp_path / "pyproject.toml.rej").write_text("@@ -1 +1 @@\n")
    (tmp_path / "clean.py").write_text("print('fine')\n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    # Ignored folders are never read: weights and environments hold nothing copier merged.
    (tmp_path / ".gitignore").write_text("models/\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "notes.txt").write_text("<<<<<<< before updating\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "clean.py", "Dockerfile"], cwd=tmp_path, check=True)
    assert left_to_resolve(tmp_path) == ["Dockerfile", "pyproject.toml.rej"]


def test_a_move_never_overwrites_a_file_you_already_have(tmp_path):
    (tmp_path / "README.md").write_text("old place\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("new place\n")
    refused = subprocess.run(
        [sys.executable, str(HOOKS / "move_user_file.py"), "README.md", "docs/README.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert (tmp_path / "README.md").read_text() == "old place\n"
    assert (tmp_path / "docs" / "README.md").read_text() == "new place\n"


def run_hook(project: Path, script: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HOOKS / script), *arguments, ".copier-answers.yml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )


def migrate_to_v0_2_0(project: Path) -> subprocess.CompletedProcess:
    return run_hook(project, "migrate_to_v0_2_0.py")


def test_the_v0_2_0_migration_keeps_a_worker_you_changed_and_runs_once(tmp_path):
    pipeline = tmp_path / "src" / "fx" / "pipeline"
    pipeline.mkdir(parents=True)
    (tmp_path / ".copier-answers.yml").write_text("package_name: fx\npipeline_kind: live\n")
    (pipeline / "worker.py").write_text("class InferenceWorker:  # my own\n    pass\n")
    mine = "from .worker import InferenceWorker\nfrom fx.local_stream import stream_frames\n"
    (pipeline / "pipeline.py").write_text(mine)

    first = migrate_to_v0_2_0(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "kept as yours" in first.stdout
    assert (pipeline / "worker.py").exists()
    # the moved module's import, then sorted by ruff (a third-party block before the local one)
    assert (pipeline / "live.py").read_text() == (
        "from fx.runtime.local_stream import stream_frames\n\nfrom .worker import InferenceWorker\n"
    )
    second = migrate_to_v0_2_0(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "imports updated" not in second.stdout
    assert (pipeline / "live.py").read_text().count("runtime") == 1


def test_the_v0_2_0_runtime_fingerprints_are_what_that_release_generates(tmp_path, monkeypatch):
    # The v0.3.0 migration keeps a runtime/ file only when it differs from these: they must be
    # v0.2.0's own files, whatever the answers were (the answers' lines are placeholders).
    monkeypatch.syspath_prepend(str(HOOKS))
    from migrate_to_v0_3_0 import V0_2_0_RUNTIME, fingerprint

    template = extract(release_commit("v0.2.0"), tmp_path / "v0.2.0")
    expected = json.loads(V0_2_0_RUNTIME.read_text())
    for kind in ("live", "batch"):
        project = tmp_path / kind
        copier(tmp_path, "copy", "--trust", "--defaults", "--skip-tasks", "-d",
               f"pipeline_kind={kind}", "-d", "pipeline_name=neon-fx", "-d",
               "class_name=NeonGlow", str(template), str(project))  # fmt: skip
        runtime = project / "src" / "neon_fx" / "runtime"
        found = {
            path.relative_to(runtime).as_posix(): fingerprint(path, "neon_fx", "NeonGlow--models")
            for path in sorted(runtime.rglob("*"))
            if path.is_file()
        }
        assert found == expected[kind], kind


def migrate_to_v0_3_0(project: Path, stage: str) -> subprocess.CompletedProcess:
    return run_hook(project, "migrate_to_v0_3_0.py", stage)


def test_the_v0_3_0_migration_points_imports_at_the_kit_and_runs_once(tmp_path):
    pipeline = tmp_path / "src" / "fx" / "pipeline"
    pipeline.mkdir(parents=True)
    (tmp_path / ".copier-answers.yml").write_text(
        "package_name: fx\npipeline_kind: live\nclass_name: Fx\n"
    )
    (pipeline / "live.py").write_text(
        "from ..runtime.device import DeviceFrames, model_device\n"
        "from ..runtime.model_dir import models_dir\n"
        "from ..runtime.worker import InferenceWorker\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_live.py").write_text(
        "from fx.runtime.local_stream import stream_frames\n"
        'PATCHED = "fx.runtime.worker.InferenceWorker"\n'
    )
    for stage in ("before", "after"):
        done = migrate_to_v0_3_0(tmp_path, stage)
        assert done.returncode == 0, done.stderr
    assert (pipeline / "live.py").read_text() == (
        "from ai_runner_kit.live import DeviceFrames, InferenceWorker, model_device\n"
        "\n"
        "from .model_folder import models_dir\n"
    )  # merged and sorted by ruff, as the project's own `just format` would
    assert (tmp_path / "tests" / "test_live.py").read_text() == (
        "from ai_runner_kit.live import stream_frames\n"
        "\n"
        'PATCHED = "ai_runner_kit.live.worker.InferenceWorker"\n'
    )
    assert 'MODEL_FOLDER = "Fx--models"' in (pipeline / "model_folder.py").read_text()
    again = [migrate_to_v0_3_0(tmp_path, stage) for stage in ("before", "after")]
    assert all(done.returncode == 0 for done in again)
    assert "imports point at the kit" not in again[0].stdout
    assert not (tmp_path / ".copier-v0.3.0-kept").exists()
