"""What one run is asked to do: the command line, parsed and checked (cli.py), and the parameter
parsing that this client and the `<name>-try` command (live/tryit/) share."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .orchestrator import DEFAULT_ORCHESTRATOR


def program_name(package: str | None) -> str:
    """The command as installed (`<name>-session`, `<name>-try`), or `python -m <package>`."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return f"python -m {package}" if name in ("", "__main__.py") else name


@dataclass(frozen=True)
class ClientOptions:
    input: Path | None  # None: the sample pattern
    output: Path
    runner: str
    orchestrator: str = DEFAULT_ORCHESTRATOR
    params: dict[str, Any] = field(default_factory=dict)
    params_at: tuple[tuple[float, dict[str, Any]], ...] = ()
    width: int = 512
    height: int = 512
    fps: Fraction | None = None  # None: the input's, capped (frames.sending_fps)
    max_seconds: float | None = None
    drain_timeout: float = 5.0
    ready_timeout: float = 180.0
    insecure: bool = False  # skip TLS certificate checks
    json_summary: bool = False
    quiet: bool = False


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object from the command line, or from a file when `text` is `@path`; ValueError
    says what is wrong."""
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ValueError(f"{what}: cannot read {path} ({reason})") from None
        what = f"{what} ({path})"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{what} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    if not isinstance(value, dict):
        example = '{"prompt": "..."}'
        raise ValueError(f"{what} must be a JSON object, for example '{example}'")
    return value


def parse_params_options(
    parser: argparse.ArgumentParser, params: str | None, params_at: Sequence[str]
) -> tuple[dict[str, Any], list[tuple[float, dict[str, Any]]]]:
    """--params and --params-at, parsed as every command that takes them parses them; a bad one
    ends in the parser's usage error (exit 2), saying what is wrong."""
    try:
        initial = parse_json_object(params, "--params") if params else {}
        return initial, parse_params_at(params_at)
    except ValueError as error:
        parser.error(str(error))


def parse_params_at(values: Sequence[str]) -> list[tuple[float, dict[str, Any]]]:
    """--params-at SECONDS=JSON values (JSON may be @FILE), in time order; ValueError says
    what is wrong. One argument each, the same in every command that takes it."""
    schedule = []
    for value in values:
        seconds_text, equals, json_text = value.partition("=")
        if not equals:
            example = """'5={"style": "noir"}'"""
            raise ValueError(f"--params-at takes SECONDS=JSON, e.g. {example}, not {value!r}")
        seconds_text = seconds_text.strip()
        try:
            seconds = float(seconds_text)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"--params-at SECONDS must be zero or more, not {seconds_text!r}")
        schedule.append((seconds, parse_json_object(json_text, "--params-at JSON")))
    return sorted(schedule, key=lambda item: item[0])
