"""Property-based tests over the answers (hypothesis): every answer set the validators accept
renders a project whose every file parses and passes its linters, with the answers in it as
given; every answer set they refuse gets the message of the question at fault, whole on an
80-column prompt.

Answers are hostile on purpose: quotes, backslashes, `$(...)`, backticks, Jinja syntax (which
must come out literally), characters outside the BMP, right-to-left text, combining marks,
typographic punctuation, very long strings, leading dashes, names of the standard library.

Rendering costs about half a second per project, so CI tries ANSWERS_EXAMPLES answer sets (40
by default, always the same ones); for a longer run by hand: ANSWERS_EXAMPLES=300 pytest ...
The validators alone (tests/answers.py, no rendering) try ten times as many.
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
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from . import answers
from .answers import PREFIX
from .rendering import REPO, render

EXAMPLES = int(os.environ.get("ANSWERS_EXAMPLES", "40"))
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


@st.composite
def answer_sets(draw) -> dict[str, str]:
    """Half the sets have names of the right shape (most of them accepted: the projects to
    check), hostile free text and e-mail local parts; the others anything at all."""
    mode = draw(st.sampled_from(["shaped", "shaped", "good pipeline name", "anything"]))
    shaped = mode == "shaped"
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
    if chosen["model_source"] == "huggingface":
        chosen["hf_repo_id"] = draw(valid_hf_repo_ids if shaped else hf_repo_ids)
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
    }
    return derived | given


def first_refusal(given: dict[str, str]) -> tuple[str, str] | None:
    """(question, message) of the first answer copier's validators refuse, in its order."""
    final = effective(given)
    for question in answers.questions():
        if question in final and question not in ("pipeline_kind", "model_source"):
            if question == "hf_repo_id" and final["model_source"] != "huggingface":
                continue
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


# --- the properties ---------------------------------------------------------------------------


@RENDER_SETTINGS
@given(given_answers=answer_sets())
def test_accepted_answers_render_a_clean_project_and_refused_ones_say_why(template, given_answers):
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
            assert not destination.exists() or not any(destination.iterdir())
            return
        event("accepted")
        project = render(template, destination, **given_answers)
        check_files_parse_and_lint(project)
        check_answers_come_out_as_given(project, effective(given_answers))


def independent_verdict(question: str, answer: str) -> bool:
    """Whether an accepted answer really is usable, by a rule other than copier.yml's."""
    if question == "pipeline_name":
        module = answer.replace("-", "_")
        return (
            re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", answer) is not None
            and len(answer) <= 28
            and module not in sys.stdlib_module_names
        )
    if question == "package_name":
        return (
            answer.isidentifier()
            and answer.isascii()
            and not keyword.iskeyword(answer)
            and answer not in sys.stdlib_module_names
            and not (answer.startswith("__") and answer.endswith("__"))
        )
    if question == "class_name":
        params = re.sub("Pipeline$", "", answer) + "Params"
        return (
            answer.isidentifier()
            and answer.isascii()
            and not hasattr(builtins, answer)
            and not hasattr(builtins, params)
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
    # description, author_name: one line of text, whatever its script
    one_line = not any(unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"} for c in answer)
    short = question != "description" or len(answer) <= 512  # PyPI's limit for a summary
    return answer.strip() != "" and one_line and short


VALIDATED = {
    "pipeline_name": pipeline_names,
    "package_name": package_names.filter(lambda value: value is not None),
    "class_name": class_names.filter(lambda value: value is not None),
    "docker_image": docker_images.filter(lambda value: value is not None),
    "author_email": emails,
    "hf_repo_id": hf_repo_ids,
    "description": st.one_of(free_text, st.text(st.characters(), max_size=20)),
    "author_name": st.one_of(free_text, st.text(st.characters(), max_size=20)),
}


@pytest.mark.parametrize("question", list(VALIDATED))
def test_each_validator_refuses_briefly_suggests_what_it_accepts_and_accepts_only_the_usable(
    question,
):
    context = {"pipeline_name": "my-pipeline", "pipeline_kind": "live"}

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
