"""Write docs/questions.md, the reference of the template's questions, from copier.yml itself.

    python dev/questions_reference.py           # rewrite docs/questions.md
    python dev/questions_reference.py --check   # exit 1, with a diff, if the page is out of date

Help, type, default, choices and the condition come from copier.yml. Defaults and choices are
rendered as copier renders them, with every earlier answer at its default and no git identity,
so that the page is the same on every machine. The refusals are the validators' own messages
for the answers in dev/questions_reference.yml, which also says what each question decides: a
missing question, or an example that its validator accepts, stops the script.
A committed page (not one built by a site hook) reads the same on GitHub as on the site; the
template's tests run --check, so copier.yml and the page cannot drift apart.
"""

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from jinja2.sandbox import SandboxedEnvironment

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "questions.md"

# What the page says beyond copier.yml (what each question decides, refused answers to show).
NOTES_FILE = REPO / "dev" / "questions_reference.yml"
NOTES = yaml.safe_load(NOTES_FILE.read_text())
WHAT_IT_DECIDES: dict[str, str] = NOTES["decides"]
REFUSED_EXAMPLES: dict[str, list[str]] = NOTES["refused"]

PREFIX = "Validation error for question '{}': "
NO_GIT_IDENTITY = {"git_user_name": lambda: "", "git_user_email": lambda: ""}


class _Loader(yaml.SafeLoader):
    """copier.yml's YAML: `!include path` is replaced by that file's content."""


_Loader.add_constructor(
    "!include", lambda loader, node: yaml.safe_load((REPO / node.value).read_text())
)


def load_config() -> dict[str, Any]:
    """copier.yml's documents merged in order, as copier merges them."""
    merged: dict[str, Any] = {}
    for document in yaml.load_all((REPO / "copier.yml").read_text(), Loader=_Loader):
        merged.update(document or {})
    return merged


class Renderer:
    """copier's sandboxed Jinja (with the Ansible filters it enables), over the answers so far."""

    def __init__(self) -> None:
        self.environment = SandboxedEnvironment(
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]
        )
        self.environment.globals.update(NO_GIT_IDENTITY)
        self.context: dict[str, Any] = {}

    def render(self, value: Any, **extra: Any) -> Any:
        if not isinstance(value, str):
            return value
        return self.environment.from_string(value).render({**self.context, **extra})

    def default(self, spec: dict[str, Any]) -> Any:
        rendered = self.render(spec.get("default"))
        if spec.get("type") == "yaml" and isinstance(rendered, str):
            return yaml.safe_load(rendered)
        if spec.get("type") == "bool" and isinstance(rendered, str):
            return rendered.strip().lower() in ("true", "yes", "1")
        return rendered

    def choices(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Label -> value, as the prompt lists them."""
        choices = spec.get("choices")
        if isinstance(choices, str):
            choices = yaml.safe_load(self.render(choices))
        if isinstance(choices, dict):
            return choices
        return {str(value): value for value in choices or []}

    def refusal(self, name: str, validator: str, answer: str) -> str:
        return self.render(validator, **{name: answer}).strip()


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def code(value: Any) -> str:
    """A value as inline code: printable text as is, anything else as a JSON string."""
    text = value if isinstance(value, str) else json.dumps(value)
    if text == "" or not text.isprintable() or text != text.strip():
        text = json.dumps(text, ensure_ascii=False)
    return f"``{text}``" if "`" in text else f"`{text}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def one_line(text: str) -> str:
    return " ".join(text.split())


def plain(text: str) -> str:
    """Text shown as written: Markdown's and HTML's characters escaped (`<ClassName>` is no tag)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


def with_code_spans(text: str) -> str:
    """A validator's message: its `quoted` parts stay code, the rest is plain text."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else plain(part) for part in parts)


def condition(spec: dict[str, Any]) -> str:
    when = spec.get("when", True)
    if when is True:
        return "always"
    expression = str(when).strip().removeprefix("{{").removesuffix("}}").strip()
    return f"only when {code(expression)}"


def default_line(spec: dict[str, Any], value: Any) -> str:
    if not is_template(spec.get("default")):
        return code(value)
    expression = one_line(str(spec["default"]))
    shown = f": {code(expression)}" if len(expression) <= 90 and "`" not in expression else ""
    return f"{code(value)} with the other defaults (computed{shown})"


def question_section(name: str, spec: dict[str, Any], renderer: Renderer) -> list[str]:
    value = renderer.default(spec)
    lines = [f"## `{name}`", "", f"> {plain(one_line(spec.get('help', '')))}", ""]
    lines += [WHAT_IT_DECIDES[name], ""]
    lines += [f"- Type: `{spec.get('type', 'str')}`", f"- Default: {default_line(spec, value)}"]
    choices = renderer.choices(spec)
    if choices:
        listed = ", ".join(
            code(choice) if label == str(choice) else f"{code(choice)} ({label.split(': ', 1)[-1]})"
            for label, choice in choices.items()
        )
        lines.append(f"- Choices: {listed}")
    lines += [f"- Asked: {condition(spec)}", ""]
    validator = spec.get("validator")
    if validator:
        lines += [
            f"Refused, for example (each message follows `{PREFIX.format(name)}`):",
            "",
            "| answer | message |",
            "| --- | --- |",
        ]
        for answer in REFUSED_EXAMPLES[name]:
            message = renderer.refusal(name, validator, answer)
            if not message:
                raise SystemExit(f"{NOTES_FILE}: refused {name}: {answer!r} is accepted; remove it")
            lines.append(f"| {cell(code(answer))} | {cell(with_code_spans(one_line(message)))} |")
        lines.append("")
    renderer.context[name] = value
    return lines


def derived_section(entries: dict[str, dict[str, Any]], renderer: Renderer) -> list[str]:
    lines = [
        "## Computed, never asked",
        "",
        "Recomputed on every `copier copy` and `copier update` and never stored in "
        "`.copier-answers.yml`, so they follow the release table. Values with the defaults:",
        "",
        "| name | value |",
        "| --- | --- |",
    ]
    for name, spec in entries.items():
        value = renderer.default(spec)
        renderer.context[name] = value
        lines.append(f"| `{name}` | {cell(code(value))} |")
    return [*lines, ""]


def render_page() -> str:
    config = load_config()
    entries = {name: spec for name, spec in config.items() if not name.startswith("_")}
    renderer = Renderer()
    data = {
        n: s
        for n, s in entries.items()
        if s.get("when") is False and s.get("type") == "yaml" and not is_template(s.get("default"))
    }
    for name, spec in data.items():
        renderer.context[name] = spec["default"]
    asked = {n: s for n, s in entries.items() if s.get("when") is not False}
    derived = {n: s for n, s in entries.items() if n not in asked and n not in data}
    missing = sorted(set(asked) - set(WHAT_IT_DECIDES))
    if missing:
        raise SystemExit(f"copier.yml asks {missing}: add them to `decides` in {NOTES_FILE}")
    unchecked = sorted(
        n for n, s in asked.items() if s.get("validator") and n not in REFUSED_EXAMPLES
    )
    if unchecked:
        raise SystemExit(f"{unchecked} have validators: add answers to `refused` in {NOTES_FILE}")

    lines = [
        "# The questions",
        "",
        "<!-- Generated by dev/questions_reference.py from copier.yml and",
        "     dev/questions_reference.yml: edit those, then run",
        "     `python dev/questions_reference.py`. tests/test_docs_site.py fails when this page",
        "     is out of date. -->",
        "",
        f"`copier copy` asks these {len(asked)} questions in this order. `--defaults` takes every "
        "default; `-d name=value` answers one on the command line. Defaults are shown as they "
        "come out with every other answer at its default and no git identity. Every answer is "
        "checked; how a refusal looks, and the names the template refuses, are in "
        "[Generate a pipeline](generate.md#when-an-answer-is-refused). Data that the questions "
        f"read ({', '.join(f'`{n}`' for n in data)}) comes from `data/`.",
        "",
    ]
    for name, spec in asked.items():
        lines += question_section(name, spec, renderer)
    lines += derived_section(derived, renderer)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 with a diff if the page is out of date"
    )
    arguments = parser.parse_args()
    wanted = render_page()
    if not arguments.check:
        PAGE.write_text(wanted)
        print(f"wrote {PAGE.relative_to(REPO)}")
        return 0
    current = PAGE.read_text() if PAGE.exists() else ""
    if current == wanted:
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        wanted.splitlines(keepends=True),
        f"{PAGE.relative_to(REPO)} (committed)",
        "copier.yml now",
    )
    sys.stdout.writelines(diff)
    print(f"\n{PAGE.relative_to(REPO)} is out of date: run `python dev/questions_reference.py`.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
