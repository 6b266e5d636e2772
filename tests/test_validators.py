"""Each question's validator: the defaults pass, and a bad answer is refused with a message
that says what is allowed."""

import ast
import keyword
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment
from packaging.version import Version

from . import answers
from .answers import PREFIX, TERMINAL_COLUMNS
from .rendering import NEWEST_RELEASE, RELEASES, REPO, render, shell_environment

REFUSED = [
    ({"pipeline_kind": "stream"}, "Invalid choice for 'pipeline_kind'"),
    ({"pipeline_name": "My_Pipeline"}, "invalid; try `my-pipeline`"),
    ({"pipeline_name": "double--dash"}, "invalid; try `double-dash`"),
    ({"pipeline_name": "trailing-"}, "invalid; try `trailing`"),
    ({"pipeline_name": "9-lives"}, "must be like `my-pipeline`"),
    ({"pipeline_name": "name\n"}, "invalid; try `name`"),
    ({"pipeline_name": "a" * 29}, "at most 28 characters, not 29"),
    ({"pipeline_name": "json"}, "shadows a standard-library module"),
    ({"pipeline_name": "pytest"}, "shadows a module the project uses"),
    ({"pipeline_name": "ai-runner"}, "is the name of a dependency"),
    ({"pipeline_name": "python3"}, "its script overwrites a venv tool"),
    ({"pipeline_name": "torchrun"}, "its script overwrites a venv tool"),
    # the derived package and class names are checked where the answer was given
    ({"pipeline_name": "class"}, "is a Python keyword"),
    ({"pipeline_name": "effect"}, "makes a class name that is taken"),
    # a second key in go-livepeer's map, which then no longer compiles
    ({"pipeline_name": "noop"}, "taken by a go-livepeer pipeline"),
    ({"pipeline_name": "live-video-to-video"}, "taken by a go-livepeer pipeline"),
    # modules only the lock brings in (transitively), and the standard library's test package
    ({"pipeline_name": "idna"}, "shadows a module the project uses"),
    ({"package_name": "aiosignal"}, "shadows a module the project uses"),
    ({"package_name": "test"}, "shadows a module the project uses"),
    ({"package_name": "9lives"}, "must be like `my_pipeline`"),
    ({"package_name": "class"}, "is a Python keyword"),
    ({"package_name": "__main__"}, "must not be a __dunder__ name"),
    ({"package_name": "os"}, "shadows a standard-library module"),
    ({"package_name": "runner"}, "shadows a module the project uses"),
    ({"package_name": "torch"}, "shadows a module the project uses"),
    ({"package_name": "tests"}, "shadows a module the project uses"),
    ({"class_name": "my_pipeline"}, "not CamelCase; try `MyPipeline`"),
    ({"class_name": "Pipeline"}, "taken by the code; try `MyPipeline`"),
    ({"class_name": "None"}, "a Python builtin; try `MyNone`"),
    ({"class_name": "ValueError"}, "a Python builtin; try `MyValueError`"),
    ({"class_name": "Path"}, "taken by the code; try `MyPath`"),
    ({"class_name": "MissingWeightsError"}, "a name the generated code uses"),
    ({"class_name": "BasePipeline"}, "params class `BaseParams` is taken"),
    ({"class_name": "Effect"}, "taken by the code; try `MyEffect`"),
    ({"class_name": "I"}, "ambiguous to ruff (E742); try `MyI`"),
    ({"class_name": "O"}, "ambiguous to ruff (E742); try `MyO`"),
    ({"description": "two\nlines"}, "must be one line of printable text"),
    ({"description": "next\u2028line"}, "must be one line of printable text"),
    ({"description": "  "}, "must not be empty"),
    ({"description": "\u200b"}, "must not be empty"),
    ({"author_name": "\u2060 \ufeff"}, "must not be empty"),
    ({"description": "x" * 513}, "at most 512 characters, not 513"),
    ({"author_name": ""}, "must not be empty"),
    ({"author_name": "tab\there"}, "must be one line of printable text"),
    ({"author_email": "not-an-address"}, "must look like name@example.com"),
    ({"author_email": "back\\slash@example.com"}, "must look like name@example.com"),
    ({"author_email": "$(id)@example.com"}, "must look like name@example.com"),
    ({"author_email": "zoë@example.com"}, "must look like name@example.com"),
    ({"docker_image": "My-Org/Image"}, "lowercase only: try `my-org/image`"),
    ({"docker_image": "my-org/image:latest"}, "no tag: the project adds :latest"),
    ({"docker_image": "a_b.c/image"}, "must be like `org/name`; see help"),
    ({"base_image": "Not An Image"}, 'not an image reference: "Not ...age"'),
    # `$` would match before the newline; the message shows it escaped, cut in the middle
    ({"base_image": "org/image:tag\n"}, 'not an image reference: "org...ag\\n"'),
    ({"base_image": "X\x1b[2J" * 20}, 'not an image reference: "X...J"'),
    ({"ai_runner_version": "v0.0.1"}, "Invalid choice for 'ai_runner_version'"),
    ({"python_version": "3.9"}, "Invalid choice for 'python_version'"),
    ({"ai_runner_source": "svn"}, "Invalid choice for 'ai_runner_source'"),
    ({"ai_runner_source": "path", "ai_runner_path": " "}, "must not be empty"),
    ({"ai_runner_source": "path", "ai_runner_path": 'a"b'}, "must be a plain one-line path"),
    ({"ai_runner_source": "path", "ai_runner_path": "a\\b"}, "must be a plain one-line path"),
    # YAML reads U+0085 back from .copier-answers.yml as a line break
    ({"ai_runner_source": "path", "ai_runner_path": "a\x85b"}, "must be a plain one-line path"),
    ({"model_source": "s3"}, "Invalid choice for 'model_source'"),
    (
        {"model_source": "huggingface", "hf_repo_id": "no-slash"},
        "must look like `org/name`; see help",
    ),
    (
        {"model_source": "huggingface", "hf_repo_id": "org/x--y"},
        "must look like `org/name`; see help",
    ),
    ({"model_source": "huggingface", "hf_revision": "main"}, 'not a full commit hash: "main"'),
    (
        {"model_source": "huggingface", "hf_revision": f"{'a' * 40}\n"},
        'not a full commit hash: "aaa...a\\n"',
    ),
]
# The questions whose refusals are short enough for an 80-column prompt (tests/answers.py).
SHORT = {
    "pipeline_name", "package_name", "class_name", "description", "author_name",
    "author_email", "docker_image", "hf_repo_id", "base_image", "ai_runner_path", "hf_revision",
}  # fmt: skip


@pytest.mark.parametrize(("bad", "message"), REFUSED, ids=lambda value: str(value)[:40])
def test_bad_answer_is_refused_with_what_is_allowed(template, tmp_path, bad, message):
    with pytest.raises(ValueError) as refusal:
        render(template, tmp_path / "project", **bad)
    assert message in str(refusal.value)
    assert not (tmp_path / "project" / "pyproject.toml").exists()
    question = next(reversed(bad))  # the answer refused: the last one given
    if question in SHORT:
        # the whole line copier shows, on one row of an 80-column terminal
        assert str(refusal.value) == PREFIX.format(question) + message
        assert len(str(refusal.value)) <= TERMINAL_COLUMNS
        # and the harness that tries thousands of answers says the same as copier
        assert answers.refusal(question, bad[question], **DEFAULTS) == message


def test_help_lines_show_whole_on_an_80_column_prompt():
    # copier shows the help above the prompt, the first line after "🎤 ", in a window that cuts
    # each line at the terminal's width: a long help is written on several short lines
    for question in SHORT:
        for line in answers.questions()[question]["help"].splitlines():
            assert len(line) <= TERMINAL_COLUMNS - 4, (question, line)


DEFAULTS = {"pipeline_name": "my-pipeline", "pipeline_kind": "live"}


@pytest.mark.parametrize(
    ("question", "natural", "suggested"),
    [
        ("pipeline_name", "My Pipeline", "my-pipeline"),
        ("pipeline_name", "NeonGlowFX", "neon-glow-fx"),
        ("pipeline_name", "  Äpfel & Birnen!", "pfel-birnen"),
        ("package_name", "My Pipeline", "my_pipeline"),
        ("package_name", "my-pipeline", "my_pipeline"),
        ("class_name", "my pipeline", "MyPipeline"),
        ("class_name", "neon-glow-fx", "NeonGlowFx"),
        ("docker_image", "My-Org/My-Pipeline", "my-org/my-pipeline"),
    ],
)
def test_a_natural_answer_gets_a_suggestion_that_is_accepted(question, natural, suggested):
    message = answers.refusal(question, natural, **DEFAULTS)
    assert answers.suggestion(message) == suggested, message
    assert answers.refusal(question, suggested, **DEFAULTS) == ""


def test_defaults_are_accepted(template, tmp_path):
    project = render(template, tmp_path / "project")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-pipeline"
    assert pyproject["project"]["scripts"] == {
        "my-pipeline": "my_pipeline.main:main",
        "my-pipeline-bench": "my_pipeline.main:commands.bench",
        "my-pipeline-session": "my_pipeline.main:commands.session",
        "my-pipeline-try": "my_pipeline.main:commands.try_it",
    }


def test_derived_names_follow_the_pipeline_name(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_name="neon-glow-fx")
    main = (project / "src" / "neon_glow_fx" / "main.py").read_text()
    assert 'name="neon-glow-fx"' in main
    assert "neon_glow_fx.pipeline.live:NeonGlowFxPipeline" in main
    assert "neon_glow_fx.pipeline.params:NeonGlowFxParams" in main
    weights = (project / "src" / "neon_glow_fx" / "pipeline" / "weights.py").read_text()
    assert 'MODEL_FOLDER = "NeonGlowFxPipeline--models"' in weights


def test_text_answers_survive_toml_escaping(template, tmp_path):
    tricky = 'Quotes " and \\ backslashes, accents é, emoji 😀, \\N{BULLET} and a tail \\'
    email = "o'neil+{{x}}`id`@example.com"
    project = render(
        template,
        tmp_path / "project",
        description=tricky,
        author_name='Zoë "Z" O\'Neil',
        author_email=email,
    )
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == tricky
    assert pyproject["project"]["authors"] == [{"name": 'Zoë "Z" O\'Neil', "email": email}]


def test_pyproject_escapes_text_answers_beyond_what_the_validators_allow():
    # pyproject.toml stays valid TOML, with the text unchanged, even for characters the
    # validators refuse today (a quote or backslash in an e-mail, a control character)
    environment = SandboxedEnvironment(
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]
    )
    environment.globals["template_source"] = lambda src_path: {"git": "https://example.com/t.git"}
    source = (REPO / "template" / "pyproject.toml.jinja").read_text()
    hostile = 'a "quoted" \\ back\\slash \\N{BULLET} \\u0041 \t\x01 \U0001f600 {{ x }} $(id)'
    release = RELEASES[NEWEST_RELEASE]
    text = environment.from_string(source).render(
        pipeline_name="my-pipeline",
        package_name="my_pipeline",
        pipeline_kind="live",
        model_source="builtin",
        ai_runner_source="git",
        ai_runner_version=NEWEST_RELEASE,
        python_version=release["python"][-1],
        python_below=release["python_below"],
        torch_version=release["torch"],
        torch_index=release["torch_index"],
        description=hostile,
        author_name=hostile,
        author_email=hostile,
        kit=yaml.safe_load((REPO / "data" / "kit.yml").read_text())["kit"]["default"],
        _copier_answers={},
    )
    project = tomllib.loads(text)["project"]
    assert project["description"] == hostile
    assert project["authors"] == [{"name": hostile, "email": hostile}]


def test_the_description_never_reaches_python_source(template, tmp_path):
    # a docstring would break on a quote or a trailing backslash, change on \N{...}, and fail
    # ruff on typographic characters (RUF001/RUF002): the description stays in pyproject.toml
    typographic = 'An \u201ceffect\u201d \u2013 with a """ and \\N{BULLET} \\'
    project = render(template, tmp_path / "project", description=typographic)
    for path in project.rglob("*.py"):
        assert "effect\u201d" not in path.read_text(), path
    docstring = ast.get_docstring(ast.parse((project / "src/my_pipeline/__init__.py").read_text()))
    assert docstring.startswith("The my-pipeline pipeline for Livepeer's ai-runner")


def test_batch_answers_render_a_batch_project_on_the_batch_base_image(template, tmp_path):
    project = render(template, tmp_path / "project", pipeline_kind="batch")
    package = project / "src" / "my_pipeline"
    assert (package / "pipeline" / "batch.py").is_file()
    assert not (package / "pipeline" / "worker.py").exists()
    # The integration kit is generated for both kinds; aiModels.json only for live (go-livepeer
    # refuses a custom batch pipeline in -aiModels).
    assert (project / "integration" / "image-overrides.json").is_file()
    assert not (project / "integration" / "aiModels.local.json").exists()
    assert not (package / "integrate").exists()
    assert "FROM ${BASE_IMAGE}" in (project / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=livepeer/ai-runner:v0.14.1" in (project / "Dockerfile").read_text()
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert "ai-runner[realtime-base]" in dependencies
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {
        "my-pipeline": "my_pipeline.main:main",
        "my-pipeline-bench": "my_pipeline.main:commands.bench",
        "my-pipeline-try": "my_pipeline.main:commands.try_it",
    }


def test_the_keyword_list_is_exactly_pythons_lowercase_keywords():
    assert answers.reserved()["keywords"] == [k for k in keyword.kwlist if k.islower()]


def test_no_regex_in_copier_yml_ends_in_a_dollar():
    # `$` also matches before a trailing newline: `value\n` would pass; `\Z` is the end
    validators = (REPO / "copier.yml").read_text()
    assert not re.findall(r"\$'\)|\$\)", validators), "end a regex with \\Z, not $"


@pytest.mark.parametrize("question", ["base_image", "hf_revision"])
@pytest.mark.parametrize(
    "bad", ["x\n", "\x1b[2J\x1b]0;owned\x07" * 9, "\u202e" * 40, "\U0001f600" * 99, "a b" * 300]
)
def test_a_refusal_that_shows_the_answer_shows_it_escaped_and_cut(question, bad):
    context = DEFAULTS | {"ai_runner_version": NEWEST_RELEASE}
    message = answers.refusal(question, bad, **context)
    assert message and len(message) <= answers.budget(question), message
    assert message.isascii() and message.isprintable(), message
    shown = message.split(": ", 1)[1]
    assert shown.startswith('"') and shown.endswith('"'), message


@pytest.mark.parametrize("name", ["true", "false", "none", "match", "case", "type"])
def test_names_that_are_not_keywords_are_accepted(template, tmp_path, name):
    # True/False/None are keywords only capitalised; soft keywords are importable names.
    project = render(template, tmp_path / "project", package_name=name)
    assert (project / "src" / name / "__init__.py").is_file()


def test_min_copier_version_validates_defaults_and_the_docs_say_why():
    # copier 9.6-9.7 skipped the validators of default answers under --defaults (fixed in 9.8.0)
    config = (REPO / "copier.yml").read_text()
    pinned = re.search(r'^_min_copier_version: "?([0-9.]+)"?$', config, re.MULTILINE)
    assert pinned and Version(pinned.group(1)) >= Version("9.8.0")
    assert f"copier {pinned.group(1)} or newer" in (REPO / "docs" / "generate.md").read_text()


def test_the_command_line_names_the_answer_a_bad_derived_default_comes_from(template, tmp_path):
    # package_name is not given: its default, derived from pipeline_name, is checked where the
    # user can change it, in pipeline_name's validator
    destination = tmp_path / "project"
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults"]
    done = subprocess.run(
        [*command, "-d", "pipeline_name=async", str(template), str(destination)],
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    # copier ends a traceback with the refusal, as docs/generate.md shows
    last_line = (done.stdout + done.stderr).strip().splitlines()[-1]
    expected = "Validation error for question 'pipeline_name': is a Python keyword"
    assert last_line == f"ValueError: {expected}"
    assert f"ValueError: {expected}" in (REPO / "docs" / "generate.md").read_text()
    assert not destination.exists()


def test_every_pipeline_name_go_livepeer_has_is_refused():
    # data/go_livepeer_pipelines.yml: a second key in docker.go's map stops go-livepeer compiling
    names = answers.go_livepeer()
    for name in {*names["live"], *names["batch"], *names["routes"], "live-video-to-video"}:
        assert answers.refusal("pipeline_name", name, **DEFAULTS), name


def test_the_integration_fixture_holds_only_keys_of_the_release():
    # tests/fixtures/upstream/docker.go has upstream's layout; its keys must be the release's
    fixture = (REPO / "tests" / "fixtures" / "upstream" / "docker.go").read_text()
    keys = set(re.findall(r'^\t"([^"]+)":', fixture, re.MULTILINE))
    names = answers.go_livepeer()
    assert keys and keys <= {*names["live"], *names["batch"]}
