"""copier.yml's validators without copier: the questions, the reserved names, and each validator
rendered the way copier renders it (a sandboxed Jinja environment with the Ansible filters),
in microseconds, so that tests can try thousands of answers. tests/test_validators.py checks
that this agrees with copier itself."""

import re
from functools import cache

import yaml
from jinja2.sandbox import SandboxedEnvironment

from .rendering import REPO

# copier prefixes every refusal with this; an interactive prompt shows the whole line on one
# row of the terminal (prompt_toolkit's validation toolbar is one line high) and cuts the rest.
PREFIX = "Validation error for question '{}': "
TERMINAL_COLUMNS = 80


def budget(question: str) -> int:
    """The characters a refusal of `question` may take to show whole on an 80-column prompt."""
    return TERMINAL_COLUMNS - len(PREFIX.format(question))


class _ConfigLoader(yaml.SafeLoader):
    """copier.yml as plain YAML: its `!include` documents are read separately."""


_ConfigLoader.add_constructor("!include", lambda loader, node: None)


@cache
def config() -> dict:
    """copier.yml's settings and questions, merged as copier merges its documents."""
    merged: dict = {}
    for document in yaml.load_all((REPO / "copier.yml").read_text(), Loader=_ConfigLoader):
        merged.update(document or {})
    return merged


def questions() -> dict:
    return {name: spec for name, spec in config().items() if not name.startswith("_")}


@cache
def reserved() -> dict[str, list[str]]:
    data = yaml.safe_load((REPO / "data" / "reserved_names.yml").read_text())
    return data["reserved_names"]["default"]


@cache
def go_livepeer() -> dict:
    """The pipeline names of go-livepeer's docker.go, with the release they come from."""
    data = yaml.safe_load((REPO / "data" / "go_livepeer_pipelines.yml").read_text())
    return data["go_livepeer_pipelines"]["default"]


@cache
def releases() -> dict:
    """The ai-runner release table (a validator's message may name a release's image)."""
    data = yaml.safe_load((REPO / "data" / "ai_runner_releases.yml").read_text())
    return data["ai_runner_releases"]["default"]


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


@cache
def _validator(question: str):
    return _environment().from_string(questions()[question]["validator"])


def refusal(question: str, answer: str, **context) -> str:
    """The validator's message for `answer` ("" when it accepts it), as copier strips it."""
    context = {
        "reserved_names": reserved(),
        "go_livepeer_pipelines": go_livepeer(),
        "ai_runner_releases": releases(),
        **context,
        question: answer,
    }
    return _validator(question).render(**context).strip()


def suggestion(message: str) -> str | None:
    """The answer a refusal suggests (`try X` or ``try `X` ``), if any."""
    found = re.search(r"try `?([^`\s]+)`?$", message)
    return found.group(1) if found else None


# Docker's reference grammar, transcribed from distribution/reference (regexp.go), independent
# of copier.yml's expression: a whole reference, with the optional tag and digest that
# docker_image must not have.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")
NAME_TOTAL_LENGTH_MAX = 255


def docker_reference_parts(reference: str) -> tuple[str, str, str] | None:
    """(registry, path, tag) as `docker build -t` reads `reference`, or None where it refuses
    it: the registry is the first component when it has a dot or a port or is localhost
    (splitDockerDomain), and must then be a valid host."""
    whole = REFERENCE.fullmatch(reference)
    if not whole or len(whole.group(1)) > NAME_TOTAL_LENGTH_MAX:
        return None
    name, tag = whole.group(1), whole.group(2) or ""
    first, _, rest = name.partition("/")
    if rest and (any(c in first for c in ".:") or first == "localhost"):
        if not re.fullmatch(_DOMAIN, first) or not re.fullmatch(
            rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", rest
        ):
            return None
        return first, rest, tag
    if not re.fullmatch(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*", name):
        return None
    return "", name, tag
