"""The documentation site: it builds in strict mode, every page is in the navigation, links stay
inside the site, the repository paths the pages name exist, and the questions reference is the
one copier.yml gives now."""

import importlib.util
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from .rendering import REPO

DOCS = REPO / "docs"
CONFIG = REPO / "mkdocs.yml"
ZENSICAL = Path(sys.executable).with_name("zensical")
REFERENCE_SCRIPT = REPO / "dev" / "questions_reference.py"

# A link target: [text](target) and <a href="target">, whatever follows the target.
LINK = re.compile(r"\]\(([^)\s]+)[^)]*\)|href=\"([^\"]+)\"")
# Inline code outside fenced blocks; fenced blocks hold commands and output, not references.
FENCE = re.compile(r"^([ \t]*)(```|~~~).*?^\1\2", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The folders of a generated project, as the pages name them: checked against template/.
PROJECT_FOLDERS = ("src", "runtime", "pipeline", "integration")
# This repository's own top-level folders and files: a path starting with one must exist here
# (tests/ may also be a generated project's, so it is checked against both).
REPOSITORY_ROOTS = ("hooks", "data", "dev", "extensions", ".ci", "template", "docs", "tests", "kit")
REPOSITORY_FILES = ("copier.yml", "mkdocs.yml", "CHANGELOG.md", "README.md", "pyproject.toml")
# Paths that no longer exist, named on purpose: what an update moves or removes.
FORMER_PATHS = {
    "pipeline/pipeline.py": "v0.1.0's layout, moved by the v0.2.0 migration (update.md)",
    "pipeline/worker.py": "v0.1.0's layout, removed by the v0.2.0 migration",
    "tests/test_worker.py": "v0.1.0's layout, removed by the v0.2.0 migration",
    "src/my_pipeline/integrate": "v0.1.0's integration tool (integration.md, Why no tool)",
    "docs/README.md": "a project's README in the scratch v0.4.0 release of tests/test_update.py",
    "src/my_pipeline/runtime": "v0.2.0's vendored platform code, the kit since v0.3.0 (update.md)",
    "runtime": "the same folder, as update.md and testing.md name it",
    "runtime/worker.py": "v0.2.0's worker, kept by the v0.3.0 migration when changed (update.md)",
}
FORMER_COMMANDS = {"integrate"}  # v0.1.0's `<pipeline-name>-integrate` (update.md)


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def nav_files(entries) -> list[str]:
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_files(value) if isinstance(value, list) else [value]
    return found


def prose(page: Path) -> str:
    return FENCE.sub("", page.read_text())


def test_site_builds_in_strict_mode(tmp_path: Path):
    assert ZENSICAL.exists(), "zensical is missing: dev/environment.sh installs it (requirements)"
    # Zensical keeps site_dir inside the project root: build a copy of the docs, not the tree.
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(CONFIG, tmp_path / "mkdocs.yml")
    done = subprocess.run(
        [str(ZENSICAL), "build", "--strict", "--clean"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Zensical colours its report whatever NO_COLOR says; its traceback adds nothing to it.
    output = ANSI.sub("", done.stdout + done.stderr).split("Traceback")[0]
    assert done.returncode == 0, output
    assert "Warning" not in output, output
    built = {path.relative_to(tmp_path / "site") for path in (tmp_path / "site").rglob("*.html")}
    for page in pages():
        assert page.relative_to(DOCS).with_suffix(".html") in built, page
    assert (tmp_path / "site" / "search.json").stat().st_size > 10_000


def test_navigation_lists_every_page_and_only_pages_that_exist():
    # Zensical's strict mode does not check the nav: a missing page would just be left out.
    listed = nav_files(yaml.safe_load(CONFIG.read_text())["nav"])
    assert len(listed) == len(set(listed)), "a page is listed twice in mkdocs.yml's nav"
    written = {str(page.relative_to(DOCS)) for page in pages()}
    assert sorted(set(listed) - written) == [], "mkdocs.yml's nav lists pages that do not exist"
    assert sorted(written - set(listed)) == [], "pages missing from mkdocs.yml's nav"


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_links_stay_inside_the_site(page: Path):
    # The site serves docs/ only: a relative link out of it (../hooks/x.py) is a 404 there.
    # Name a repository file in backticks instead; test_named_repository_paths_exist checks it.
    for match in LINK.finditer(prose(page)):
        target = (match.group(1) or match.group(2)).split("#")[0]
        if not target or re.match(r"[a-z]+:", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(DOCS), f"{page.name} links out of docs/: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"


@cache
def project_paths() -> set[str]:
    """Every file and folder a generated project can have, from template/'s file names."""
    found: set[str] = set()
    for path in (REPO / "template").rglob("*"):
        if path.is_dir() and not any(path.iterdir()):
            continue  # an empty folder left in a work tree: git keeps none, so no project has it
        relative = str(path.relative_to(REPO / "template")).removesuffix(".jinja")
        relative = re.sub(r"\{%.*?%\}", "", relative).replace("{{package_name}}", "my_pipeline")
        parts = relative.split("/")
        found.update("/".join(parts[index:]) for index in range(len(parts)))
    return found


def named_paths(page: Path) -> list[str]:
    """Backticked tokens that are paths of this repository or of a generated project."""
    named = []
    for match in INLINE_CODE.finditer(prose(page)):
        token = match.group(2).strip().replace("<package>", "my_pipeline")
        token = token.replace("<package_name>", "my_pipeline")
        if " " in token or "<" in token or "*" in token:
            continue
        first = token.split("/")[0]
        if token in REPOSITORY_FILES or (
            "/" in token and first in REPOSITORY_ROOTS + PROJECT_FOLDERS
        ):
            named.append(token.rstrip("/"))
    return named


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_named_repository_paths_exist(page: Path):
    project = project_paths()
    missing = []
    for token in named_paths(page):
        first = token.split("/")[0]
        here = (REPO / token).exists() if first in REPOSITORY_ROOTS + REPOSITORY_FILES else False
        in_project = token in project
        if not (here or in_project or token in FORMER_PATHS):
            missing.append(token)
    assert missing == [], (
        f"{page.name} names paths that exist neither here nor in a project: {missing}"
    )


def project_commands() -> set[str]:
    """The suffixes of the console scripts a project gets (`bench` for `<pipeline_name>-bench`)."""
    pyproject = (REPO / "template" / "pyproject.toml.jinja").read_text()
    return set(re.findall(r"^\{\{ pipeline_name \}\}-([a-z]+) =", pyproject, re.MULTILINE))


@pytest.mark.parametrize("page", pages(), ids=lambda page: page.name)
def test_named_commands_exist(page: Path):
    # Fenced blocks included: commands are what they hold.
    text = page.read_text()
    commands = set(
        re.findall(r"(?:my-pipeline|<pipeline_name>|<pipeline-name>|<name>)-([a-z]+)", text)
    )
    assert sorted(commands - project_commands() - FORMER_COMMANDS) == [], page.name
    project = project_paths()
    for module in re.findall(
        r"python -m (?:my_pipeline|<package>|<package_name>)((?:\.\w+)+)", text
    ):
        path = "src/my_pipeline" + module.replace(".", "/")
        assert {f"{path}.py", f"{path}/__main__.py"} & project, (
            f"{page.name}: python -m ...{module}"
        )


def test_former_paths_are_gone():
    # A path back in the tree must leave FORMER_PATHS, so that the check covers it again.
    project = project_paths()
    assert [path for path in FORMER_PATHS if path in project or (REPO / path).exists()] == []
    assert FORMER_COMMANDS & project_commands() == set()


def test_questions_reference_is_the_one_copier_yml_gives():
    done = subprocess.run(
        [sys.executable, str(REFERENCE_SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def load_reference_script():
    spec = importlib.util.spec_from_file_location("questions_reference", REFERENCE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_refuses_an_example_the_validator_accepts():
    reference = load_reference_script()
    reference.REFUSED_EXAMPLES["pipeline_name"] = ["my-pipeline"]
    with pytest.raises(SystemExit, match="'my-pipeline' is accepted"):
        reference.render_page()


def test_the_reference_needs_a_word_on_every_question():
    reference = load_reference_script()
    del reference.WHAT_IT_DECIDES["git_init"]
    with pytest.raises(SystemExit, match="git_init"):
        reference.render_page()


def test_readme_links_into_the_docs_resolve():
    for match in LINK.finditer((REPO / "README.md").read_text()):
        target = match.group(1) or match.group(2)
        if target.startswith("docs/"):
            assert (REPO / target.split("#")[0]).exists(), target
