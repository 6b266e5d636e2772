"""Property-based tests over the answers (hypothesis): every answer set the validators accept
renders a project whose every file parses and passes its linters, with the answers in it as
given; every answer set they refuse gets the message of the question at fault, whole on an
80-column prompt.

Answers are hostile on purpose: quotes, backslashes, `$(...)`, backticks, Jinja syntax (which
must come out literally), characters outside the BMP, right-to-left text, combining marks,
typographic punctuation, very long strings, leading dashes, names of the standard library.

Every class of answers that once broke a project (CLASSES: names the lock installs, values YAML
reads as something else, a trailing newline, names ruff refuses, go-livepeer's own pipeline
names, line breaks, what a refusal echoes, invisible-only text) is a strategy of its own, tried
by its own test. A rendered project is checked beyond parsing and linting: its package imports
from where a wheel installs it (site-packages first), the YAML files a YAML 1.1 loader reads
hold the answers as given, .copier-answers.yml reads back every answer unchanged, and the
go-livepeer diff adds no key that the release's map has.

Rendering costs about half a second per project, so CI tries ANSWERS_EXAMPLES answer sets (40
by default, always the same ones) and a quarter as many per class; for a longer run by hand:
ANSWERS_EXAMPLES=300 pytest ... The validators alone (tests/answers.py, no rendering) try ten
times as many. The run ends with a line: answer sets tried, refused, rendered clean, broken.
"""

import ast
import builtins
import email.headerregistry
import json
import keyword
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from . import answers
from .answers import PREFIX
from .rendering import NEWEST_RELEASE, RELEASES, REPO, render

EXAMPLES = int(os.environ.get("ANSWERS_EXAMPLES", "40"))
# Answer sets per class of CLASSES (8 classes): a quarter of EXAMPLES each.
CLASS_EXAMPLES = max(EXAMPLES // 4, 1)
BIN = Path(sys.executable).parent
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same answer sets on every run: CI stays stable
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Rendering: no shrinking, which would render a project per step (minutes); a failure shows the
# answer set as generated.
RENDER_SETTINGS = settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
TEXT_QUESTIONS = ("description", "author_name")
RESERVED = answers.reserved()

# --- strategies ---------------------------------------------------------------------------------

HOSTILE = [
    '"', "'", "\\", '"""', "'''", "\\N{BULLET}", "\\x41", "$(id)", "`id`", "${HOME}", ";", "&&",
    "{{ 7 * 7 }}", "{% if true %}x{% endif %}", "{#", "#}", "{{", "}}", "{%", "%}",
    "\U0001f600", "\U0001d518\U0001d52b",  # outside the BMP: an emoji, mathematical letters
    "שלום", "مرحبا", "\u202e", "\u200f", "\u2066", "e\u0301", "\u0301", "\ufeff", "\u00a0",
    "\u2013", "\u2014", "\u201c", "\u201d", "\u2018", "\u2019", "\u2026", "-", "--", "-rf ",
    "<b>", "&amp;", "*x*", "_x_", "[a](b)", "![i](j)", "# ", "1. ", "> ", "|", "~~", "$x$",
    ": ", "- ", "? ", "!", "@", "%", ",", "\t", "\n", "\x7f", "\x85", "\u2028",
]  # fmt: skip
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"))
ANY_CHARACTER = st.characters(exclude_categories=("Cs",))  # no file can hold a lone surrogate
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.text(PRINTABLE, min_size=1, max_size=10),
        st.text(ANY_CHARACTER, max_size=3),
    ),
    min_size=1,
    max_size=8,
).map("".join)
long_text = st.builds(
    lambda piece, size: (piece * size)[:size],
    st.sampled_from(
        ["x", "\U0001f600", "\u2013 ", "\\", '"', "{{ x }}", "\u05e9\u05dc\u05d5\u05dd "]
    ),
    st.integers(100, 600),
)
free_text = st.one_of(hostile_text, hostile_text, hostile_text, long_text)

WORDS = ["My", "neon", "Glow", "FX", "3d", "Äpfel", "pipe line", "_", "--", "json", "Pipeline"]
natural = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
slug = st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,6}){0,3}", fullmatch=True)
pipeline_names = st.one_of(
    slug,
    slug,
    slug,
    slug,
    natural,
    free_text,
    st.sampled_from(RESERVED["commands"] + RESERVED["distributions"]),
    st.sampled_from(RESERVED["stdlib"] + RESERVED["packages"]).map(lambda n: n.replace("_", "-")),
)
package_names = st.one_of(
    st.none(),
    st.none(),
    slug.map(lambda n: n.replace("-", "_")),
    st.sampled_from(RESERVED["stdlib"] + RESERVED["packages"] + ["class", "__main__"]),
    natural,
    free_text,
)
camel = st.from_regex(r"[A-Z][a-z0-9]{0,6}([A-Z][a-z0-9]{0,6}){0,3}", fullmatch=True)
class_names = st.one_of(
    st.none(),
    st.none(),
    camel,
    st.sampled_from(RESERVED["builtins"] + RESERVED["template_names"] + ["BasePipeline"]),
    natural,
    free_text,
)
path_component = st.from_regex(r"[a-z0-9]{1,5}((\.|_|__|-{1,2})[a-z0-9]{1,5}){0,2}", fullmatch=True)
registry = st.from_regex(
    r"(localhost|[a-z0-9]{1,6}(\.[a-z0-9]{1,6}){1,2})(:[0-9]{1,5})?", fullmatch=True
)
docker_images = st.one_of(
    st.none(),
    st.builds(
        lambda host, parts: "/".join(([host] if host else []) + parts),
        st.one_of(st.none(), registry),
        st.lists(path_component, min_size=1, max_size=3),
    ),
    st.sampled_from(["My-Org/Image", "org/image:latest", "a_b.c/x", "org//x", "-x/y", "x" * 256]),
    free_text,
)
ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
email_local = st.one_of(
    st.text(st.sampled_from(ATEXT), min_size=1, max_size=20),
    st.sampled_from(["{{x}}", "`id`", "o'neil", "a.b", "-rf", "$HOME", "a+tag", "{%x%}"]),
    free_text,
)
emails = st.one_of(
    st.builds(lambda local: f"{local}@example.com", email_local),
    st.sampled_from(["you@example.com", "a@b", "a@-x.com", "a..b@x.com", "zoë@x.com"]),
)
repo_part = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?", fullmatch=True)
hf_repo_ids = st.one_of(
    st.builds(lambda org, name: f"{org}/{name}", repo_part, repo_part),
    st.sampled_from(["madebyollin/taesd", "a--b/c", "org/name.git", "no-slash", "a/b/c"]),
    free_text,
)


valid_docker_images = st.builds(
    lambda host, parts: "/".join(([host] if host else []) + parts),
    st.one_of(st.none(), registry),
    st.lists(path_component, min_size=1, max_size=3),
)
valid_hf_repo_ids = st.builds(lambda org, name: f"{org}/{name}", repo_part, repo_part)
valid_base_images = st.builds(
    lambda image, tag: f"{image}:{tag}",
    valid_docker_images,
    st.from_regex(r"[a-z0-9.-]{1,12}", fullmatch=True),
)
hf_revisions = st.text(st.sampled_from("0123456789abcdef"), min_size=40, max_size=40)
# a folder name as a user may have it: any one line of text but quotes and backslashes
paths = st.one_of(
    st.just("../ai-runner/runner"),
    st.text(
        st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters='"\\'),
        min_size=1,
        max_size=20,
    ),
)

# --- the classes of answers that once broke a project (issue 20), a strategy each ---------------
# Each gives the answers of one class; the rest of the set stays shaped, so that the class alone
# decides whether the set is refused or rendered, and a rendered project is checked whole.

GO_LIVEPEER = answers.go_livepeer()
# Modules and distributions that only the lock brings in (transitively), and `test`.
LOCK_ONLY = ["idna", "aiosignal", "yarl", "multidict", "attr", "zmq", "nvidia", "certifi", "test"]
# What YAML 1.1 (PyYAML, GitHub Actions) reads as a boolean, a null or a number when bare.
YAML_AMBIGUOUS = [
    "yes", "no", "on", "off", "y", "n", "true", "false", "null", "0x10", "017", "1e3", "1_000",
    "0b101", "0o17", "12", "1e-3", "190:20:30",
]  # fmt: skip
LINE_BREAKS = ["\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\r", "\n", "\x9b", "\x1b"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", " ", "\u3164"]
TERMINAL_TRICKS = ["\x1b[2J", "\x1b]0;title\x07", "\u202e", "\r", "\x08", "\x9b31m", "\n"]


def slug_shaped(value: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", value) is not None


def one(question: str, values) -> st.SearchStrategy[dict[str, str]]:
    return st.builds(lambda value: {question: value}, values)


def with_one_of(strategy, pieces: list[str]) -> st.SearchStrategy[str]:
    """A value of `strategy` with one of `pieces` put at its start, middle or end."""
    return st.builds(
        lambda value, piece, where: (
            value[: where * len(value) // 2] + piece + value[where * len(value) // 2 :]
        ),
        strategy,
        st.sampled_from(pieces),
        st.integers(0, 2),
    )


CLASSES: dict[str, st.SearchStrategy[dict[str, str]]] = {
    # 1. names of a module or distribution the project's own environment installs
    "lock names": st.one_of(
        one("package_name", st.sampled_from(LOCK_ONLY + RESERVED["packages"])),
        one("pipeline_name", st.sampled_from(RESERVED["distributions"])),
        one("pipeline_name", st.sampled_from(LOCK_ONLY).map(lambda n: n.replace("_", "-"))),
    ),
    # 2. values that YAML reads as something else
    "yaml ambiguous": st.one_of(
        # the workflow that holds the image's name comes with the git source only
        st.builds(
            lambda image: {"docker_image": image, "ai_runner_source": "git"},
            st.sampled_from(YAML_AMBIGUOUS),
        ),
        one("pipeline_name", st.sampled_from([v for v in YAML_AMBIGUOUS if slug_shaped(v)])),
        one("package_name", st.sampled_from(["yes", "no", "on", "off", "null", "true", "y"])),
    ),
    # 3. what a regex ending in `$` lets through: a trailing newline
    "trailing newline": st.one_of(
        one("base_image", valid_base_images.map(lambda v: v + "\n")),
        st.builds(lambda r: {"model_source": "huggingface", "hf_revision": r + "\n"}, hf_revisions),
        st.builds(lambda r: {"model_source": "huggingface", "hf_revision": r}, hf_revisions),
        one("base_image", valid_base_images),
    ),
    # 4. class names the project's ruff refuses
    "ambiguous class": one("class_name", st.sampled_from(["I", "O", "l", "Il", "IO", "OPipeline"])),
    # 5. pipeline names go-livepeer already has
    "go-livepeer names": one(
        "pipeline_name",
        st.sampled_from(GO_LIVEPEER["live"] + GO_LIVEPEER["batch"] + GO_LIVEPEER["routes"]),
    ),
    # 6. control and line-separator characters in free text
    "line breaks": st.one_of(
        one("description", with_one_of(st.just("A pipeline"), LINE_BREAKS)),
        one("author_name", with_one_of(st.just("Zoë"), LINE_BREAKS)),
        st.builds(
            lambda path: {"ai_runner_source": "path", "ai_runner_path": path},
            with_one_of(st.just("../ai-runner/runner"), LINE_BREAKS),
        ),
        one("base_image", with_one_of(valid_base_images, LINE_BREAKS)),
    ),
    # 7. answers a refusal repeats: what reaches the terminal
    "refusal display": st.one_of(
        one("base_image", with_one_of(free_text, TERMINAL_TRICKS)),
        st.builds(
            lambda r: {"model_source": "huggingface", "hf_revision": r},
            with_one_of(free_text, TERMINAL_TRICKS),
        ),
        one("pipeline_name", st.sampled_from(["class", "async", "effect", "base-pipeline"])),
    ),
    # 8. text of only invisible characters
    "invisible only": st.one_of(
        one(
            "description", st.lists(st.sampled_from(INVISIBLE), min_size=1, max_size=4).map("".join)
        ),
        one(
            "author_name", st.lists(st.sampled_from(INVISIBLE), min_size=1, max_size=4).map("".join)
        ),
        one("description", with_one_of(st.just("x"), INVISIBLE)),
    ),
}


@st.composite
def answer_sets(draw, mode: str | None = None) -> dict[str, str]:
    """Half the sets have names of the right shape (most of them accepted: the projects to
    check), hostile free text and e-mail local parts; the others anything at all. With a mode
    of CLASSES, a shaped set with one answer of that class."""
    mode = mode or draw(st.sampled_from(["shaped", "shaped", "good pipeline name", "anything"]))
    shaped = mode not in ("good pipeline name", "anything")
    optional = st.one_of(st.none(), st.none(), st.none())
    chosen = {
        "pipeline_kind": draw(st.sampled_from(["live", "batch"])),
        "model_source": draw(st.sampled_from(["builtin", "huggingface"])),
        # a good pipeline name also where the rest may be anything: later questions get refused
        "pipeline_name": draw(pipeline_names if mode == "anything" else slug),
        "package_name": draw(optional | slug.map(lambda n: n.replace("-", "_")))
        if shaped
        else draw(package_names),
        "class_name": draw(optional | camel) if shaped else draw(class_names),
        "description": draw(st.one_of(free_text, st.just("A pipeline"))),
        "author_name": draw(st.one_of(free_text, st.just("Zoë O'Neil"))),
        "author_email": draw(
            st.builds(
                lambda local: f"{local}@example.com",
                st.text(st.sampled_from(ATEXT), min_size=1, max_size=20),
            )
            | st.sampled_from(["{{x}}@x.example", "`id`@x.example", "o'neil@x.example"])
            if shaped
            else emails
        ),
        "docker_image": draw(optional | valid_docker_images if shaped else docker_images),
    }
    if shaped:
        chosen["base_image"] = draw(optional | valid_base_images)
        if draw(st.integers(0, 3)) == 0:
            chosen |= {"ai_runner_source": "path", "ai_runner_path": draw(paths)}
    if mode in CLASSES:
        chosen |= draw(CLASSES[mode])
        if chosen.get("ai_runner_source") != "path":
            chosen.pop("ai_runner_path", None)  # not asked: copier would not record it
    if chosen["model_source"] == "huggingface":
        chosen["hf_repo_id"] = draw(valid_hf_repo_ids if shaped else hf_repo_ids)
        if shaped and "hf_revision" not in chosen:
            chosen["hf_revision"] = draw(optional | hf_revisions)
    return {key: value for key, value in chosen.items() if value is not None}


# --- what copier should do --------------------------------------------------------------------


def effective(given: dict[str, str]) -> dict[str, str]:
    """The answers copier ends up with: the given ones, and the defaults derived from them."""
    name = given["pipeline_name"]
    camel = "".join(word.capitalize() for word in name.split("-"))
    derived = {
        "package_name": name.replace("-", "_"),
        "class_name": camel if camel.endswith("Pipeline") else camel + "Pipeline",
        "docker_image": f"my-org/{name}",
        "hf_repo_id": "madebyollin/taesd",
        "hf_revision": answers.questions()["hf_revision"]["default"],
        "base_image": "",
        "ai_runner_source": "git",
        "ai_runner_version": NEWEST_RELEASE,
    }
    return derived | given


def first_refusal(given: dict[str, str]) -> tuple[str, str] | None:
    """(question, message) of the first answer copier's validators refuse, in its order."""
    final = effective(given)
    asked = {
        "hf_repo_id": final["model_source"] == "huggingface",
        "hf_revision": final["model_source"] == "huggingface",
        "ai_runner_path": final["ai_runner_source"] == "path",
    }
    for question, spec in answers.questions().items():
        if "validator" in spec and question in final and asked.get(question, True):
            message = answers.refusal(question, final[question], **final)
            if message:
                return question, message
    return None


# --- what a rendered project must be ----------------------------------------------------------


def run(*command: str, cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def check_files_parse_and_lint(project: Path) -> None:
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix in (".yml", ".yaml"):
            yaml.safe_load(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix == ".sh":
            run("bash", "-n", str(path), cwd=project)
            run(str(BIN / "shellcheck"), str(path), cwd=project)
    run(str(BIN / "ruff"), "check", "--no-cache", "--quiet", ".", cwd=project)
    run(str(BIN / "ruff"), "format", "--no-cache", "--check", "--quiet", ".", cwd=project)
    run(str(BIN / "hadolint"), "Dockerfile", cwd=project)


def core_metadata(project: Path) -> str:
    """The package metadata hatchling writes (what `uv build` and PyPI see)."""
    from hatchling.metadata.core import ProjectMetadata
    from hatchling.metadata.spec import get_core_metadata_constructors
    from hatchling.plugin.manager import PluginManager

    constructors = get_core_metadata_constructors()
    return constructors[max(constructors)](ProjectMetadata(str(project), PluginManager()))


def markdown_paragraph_text(readme: str) -> str:
    """The text of the README's first paragraph, as a Markdown renderer shows it; fails if any
    of it became markup (emphasis, code, a link, HTML, a heading, a list...)."""
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(readme)
    assert [t.type for t in tokens[:6]] == [
        "heading_open", "inline", "heading_close", "paragraph_open", "inline", "paragraph_close",
    ], [t.type for t in tokens[:8]]  # fmt: skip
    children = tokens[4].children
    assert {child.type for child in children} <= {"text", "text_special"}, children
    return "".join(child.content for child in children)


def check_answers_come_out_as_given(project: Path, final: dict[str, str]) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    # the summary and the author show something where PyPI and the README print them
    assert visible(final["description"]) and visible(final["author_name"])
    assert pyproject["description"] == final["description"]
    assert pyproject["authors"] == [{"name": final["author_name"], "email": final["author_email"]}]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for question in ("description", "author_name", "author_email", "docker_image"):
        assert recorded[question] == final[question], question
    # package metadata: the e-mail, the name and the summary unchanged by the header syntax
    metadata = core_metadata(project).split("\n\n", 1)[0]
    headers = dict(line.split(": ", 1) for line in metadata.splitlines() if ": " in line)
    author = email.headerregistry.HeaderRegistry()("to", headers["Author-email"]).addresses[0]
    assert author.addr_spec == final["author_email"]
    # hatchling leaves a name with runs of spaces unquoted, so readers collapse them
    assert author.display_name.split() == final["author_name"].split()
    assert headers["Summary"] == final["description"]
    assert (
        markdown_paragraph_text((project / "README.md").read_text()) == final["description"].strip()
    )
    overrides = json.loads((project / "integration" / "image-overrides.json").read_text())
    assert overrides[final["pipeline_kind"]] == {
        final["pipeline_name"]: f"{final['docker_image']}:latest"
    }
    if final["model_source"] == "huggingface":
        package = project / "src" / final["package_name"]
        backbone = ast.parse((package / "pipeline" / "backbone.py").read_text())
        assigned = {
            node.targets[0].id: node.value.value
            for node in backbone.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        }
        assert assigned["HF_REPO_ID"] == final["hf_repo_id"]
        assert assigned["HF_REVISION"] == final["hf_revision"]
    release_image = RELEASES[NEWEST_RELEASE][f"{final['pipeline_kind']}_base_image"]
    dockerfile = (project / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=(.*)$", dockerfile, re.MULTILINE).group(1) == (
        final["base_image"] or release_image
    )
    uv = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]
    if final["ai_runner_source"] == "path":
        assert uv["sources"]["ai-runner"]["path"] == final["ai_runner_path"]


def visible(text: str) -> bool:
    """Whether some character of `text` shows: not whitespace, not a format character (U+200B,
    U+FEFF... by Unicode's category), not a filler or a blank."""
    return any(
        not c.isspace()
        and unicodedata.category(c) != "Cf"
        and c not in "\u115f\u1160\u3164\uffa0\u2800"
        for c in text
    )


def check_answers_file_round_trips(project: Path, given: dict[str, str]) -> None:
    """What `copier update` reads back is every answer as given (YAML 1.1, as copier reads)."""
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for question, value in given.items():
        assert recorded[question] == value, (question, recorded[question], value)


def check_yaml_values(project: Path, final: dict[str, str]) -> None:
    """The workflow's values, read by a YAML 1.1 loader (GitHub Actions' kind), are the answers:
    a bare `yes` or `0x10` would be a boolean or a number."""
    workflow = project / ".github" / "workflows" / "image.yml"
    if final["ai_runner_source"] == "git":
        assert yaml.safe_load(workflow.read_text())["env"]["IMAGE"] == final["docker_image"]
    else:
        assert not workflow.exists()


def check_go_livepeer_diff(project: Path, final: dict[str, str]) -> None:
    """The diff adds one entry, the project's, under a key the release's map lacks: a Go map
    literal with a duplicate key does not compile."""
    diff = (project / "integration" / "docker.go.diff").read_text()
    added = re.findall(r'^\+\t"([^"]*)": "([^"]*)",$', diff, re.MULTILINE)
    assert added == [(final["pipeline_name"], final["docker_image"])]
    release_map = GO_LIVEPEER[final["pipeline_kind"]]
    assert final["pipeline_name"] not in release_map, f"{final['pipeline_name']} is in the map"


# Run by the test environment's Python with the project's src/ after site-packages: where a
# wheel installs the package, any module of the same name installed beside it, or in the
# standard library, is found first.
IMPORT_AS_INSTALLED = """
import importlib.util, sys
src, package = sys.argv[1], sys.argv[2]
sys.path.append(src)
for name in (package, package + ".main", package + ".pipeline"):
    spec = importlib.util.find_spec(name)
    origin = spec and spec.origin
    assert origin and origin.startswith(src), f"import {name} finds {origin}, not the project's"
"""


def check_package_imports_as_installed(project: Path, package: str) -> None:
    # -P: no script folder or cwd first on sys.path; find_spec runs only the packages' docstring
    # __init__ files, never the model
    run(sys.executable, "-P", "-c", IMPORT_AS_INSTALLED, str(project / "src"), package, cwd=project)


# --- the properties ---------------------------------------------------------------------------


def check_answer_set(template: Path, given_answers: dict[str, str]) -> str:
    """Renders the set and checks what copier did: "refused" (by the validator expected, with
    its message) or "clean" (a project that passes every check); anything else fails."""
    expected = first_refusal(given_answers)
    with tempfile.TemporaryDirectory() as scratch:
        destination = Path(scratch) / "project"
        if expected is not None:
            question, message = expected
            event(f"refused: {question}")
            with pytest.raises(ValueError) as refusal:
                render(template, destination, **given_answers)
            assert str(refusal.value) == PREFIX.format(question) + message
            assert len(message) <= answers.budget(question)
            # nothing of the answer reaches the terminal unescaped
            assert message.isascii() and message.isprintable(), message
            assert not destination.exists() or not any(destination.iterdir())
            return "refused"
        event("accepted")
        project = render(template, destination, **given_answers)
        final = effective(given_answers)
        check_files_parse_and_lint(project)
        check_answers_come_out_as_given(project, final)
        check_answers_file_round_trips(project, given_answers)
        check_yaml_values(project, final)
        check_go_livepeer_diff(project, final)
        check_package_imports_as_installed(project, final["package_name"])
    return "clean"


# Tried, refused and rendered clean per test, for the report at the end of a run (the rest of
# the sets failed the test).
TALLY: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_the_tally(request):
    yield
    if TALLY["tried"]:
        broken = TALLY["tried"] - TALLY["refused"] - TALLY["clean"]
        # past pytest's capture: the line shows in a plain run
        with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            print(
                f"\nanswer sets: {TALLY['tried']} tried, {TALLY['refused']} refused, "
                f"{TALLY['clean']} rendered clean, {broken} broken"
            )


@RENDER_SETTINGS
@given(given_answers=answer_sets())
def test_accepted_answers_render_a_clean_project_and_refused_ones_say_why(template, given_answers):
    TALLY["tried"] += 1
    TALLY[check_answer_set(template, given_answers)] += 1


@pytest.mark.parametrize("name", list(CLASSES))
def test_each_class_of_answers_that_once_broke_a_project_is_refused_or_renders_clean(
    template, name
):
    @settings(RENDER_SETTINGS, max_examples=CLASS_EXAMPLES)
    @given(given_answers=answer_sets(mode=name))
    def check(given_answers):
        TALLY["tried"] += 1
        TALLY[check_answer_set(template, given_answers)] += 1

    check()


def independent_verdict(question: str, answer: str) -> bool:
    """Whether an accepted answer really is usable, by a rule other than copier.yml's."""
    if question == "pipeline_name":
        module = answer.replace("-", "_")
        go_livepeer = GO_LIVEPEER["live"] + GO_LIVEPEER["batch"] + ["live-video-to-video"]
        return (
            re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", answer) is not None
            and len(answer) <= 28
            and module not in sys.stdlib_module_names
            and module != "test"
            and not keyword.iskeyword(module)
            and answer not in go_livepeer
        )
    if question == "package_name":
        return (
            answer.isidentifier()
            and answer.isascii()
            and not keyword.iskeyword(answer)
            and answer not in sys.stdlib_module_names
            and answer != "test"
            and not (answer.startswith("__") and answer.endswith("__"))
        )
    if question == "class_name":
        params = re.sub("Pipeline$", "", answer) + "Params"
        return (
            answer.isidentifier()
            and answer.isascii()
            and not hasattr(builtins, answer)
            and not hasattr(builtins, params)
            and answer not in ("I", "O", "l")  # ruff's E742
        )
    if question == "docker_image":
        parts = answers.docker_reference_parts(answer)
        return (
            parts is not None
            and parts[2] == ""
            and answers.docker_reference_parts(f"{answer}:latest") is not None
        )
    if question == "author_email":
        try:
            address = email.headerregistry.Address(addr_spec=answer)
        except (ValueError, IndexError):
            return False
        return address.addr_spec == answer and answer.isascii()
    if question == "hf_repo_id":
        from huggingface_hub.utils import HFValidationError, validate_repo_id

        try:
            validate_repo_id(answer)
        except HFValidationError:
            return False
        return answer.count("/") == 1
    if question == "hf_revision":
        return re.fullmatch(r"[0-9a-f]{40}", answer) is not None
    one_line = not any(unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"} for c in answer)
    if question == "base_image":  # an override: empty, or one word of printable ASCII
        return answer == "" or (answer.isascii() and answer.isprintable() and " " not in answer)
    if question == "ai_runner_path":
        return answer.strip() != "" and one_line and not ({'"', "\\"} & set(answer))
    # description, author_name: one line of text, whatever its script, not only invisible
    short = question != "description" or len(answer) <= 512  # PyPI's limit for a summary
    return visible(answer) and one_line and short


VALIDATED = {
    "pipeline_name": pipeline_names,
    "package_name": package_names.filter(lambda value: value is not None),
    "class_name": class_names.filter(lambda value: value is not None),
    "docker_image": docker_images.filter(lambda value: value is not None),
    "author_email": emails,
    "hf_repo_id": hf_repo_ids,
    "description": st.one_of(free_text, st.text(st.characters(), max_size=20)),
    "author_name": st.one_of(free_text, st.text(st.characters(), max_size=20)),
    "base_image": st.one_of(
        valid_base_images, with_one_of(valid_base_images, LINE_BREAKS + TERMINAL_TRICKS), free_text
    ),
    "hf_revision": st.one_of(
        hf_revisions, with_one_of(hf_revisions, LINE_BREAKS + TERMINAL_TRICKS), free_text
    ),
    "ai_runner_path": st.one_of(paths, with_one_of(paths, LINE_BREAKS), free_text),
}


@pytest.mark.parametrize("question", list(VALIDATED))
def test_each_validator_refuses_briefly_suggests_what_it_accepts_and_accepts_only_the_usable(
    question,
):
    context = {
        "pipeline_name": "my-pipeline",
        "pipeline_kind": "live",
        "ai_runner_version": NEWEST_RELEASE,
    }

    @settings(SETTINGS, max_examples=EXAMPLES * 10)
    @given(answer=VALIDATED[question])
    def check(answer):
        message = answers.refusal(question, answer, **context)
        if not message:
            event("accepted")
            assert independent_verdict(question, answer), f"{question} {answer!r} accepted"
            return
        event("refused")
        assert len(message) <= answers.budget(question), message
        assert message.isascii() and message.isprintable(), message
        suggested = answers.suggestion(message)
        if suggested is not None:
            assert answers.refusal(question, suggested, **context) == "", (answer, message)

    check()


def test_tasks_and_migrations_run_argument_lists_never_shell_strings():
    config = answers.config()
    steps = [*config["_tasks"], *config["_migrations"]]
    assert steps
    for step in steps:
        command = step["command"] if isinstance(step, dict) else step
        assert isinstance(command, list), f"a shell string: {command!r}"
        assert all(isinstance(argument, str) for argument in command)


def test_hooks_and_extensions_never_call_a_shell():
    sources = sorted((REPO / "hooks").glob("*.py")) + sorted((REPO / "extensions").glob("*.py"))
    assert sources
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, path
            if isinstance(node, ast.Attribute) and node.attr in {
                "system", "popen", "getoutput", "getstatusoutput", "spawnl", "spawnlp", "execlp",
            }:  # fmt: skip
                pytest.fail(f"{path.name} calls {ast.unparse(node)}")
