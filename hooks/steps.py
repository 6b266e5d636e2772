"""What the post-generation and post-update hooks share: reporting, and locking with uv.

Standard library only: the hooks run on copier's own Python.
"""

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LOCK_TIMEOUT_S = 600


@dataclass
class Outcome:
    ok: bool
    summary: str
    later: str = ""  # the command that does this step by hand


def report(step: str, outcome: Outcome) -> None:
    green, red, plain = ("\033[32m", "\033[31m", "\033[0m") if sys.stdout.isatty() else ("",) * 3
    mark = f"{green}ok{plain}" if outcome.ok else f"{red}FAILED{plain}"
    print(f"[{mark}] {step}: {outcome.summary}")
    if outcome.later:
        print(f"       run it later with: {outcome.later}")


def uv_environment() -> dict[str, str]:
    """uv as the project will see it: not copier's virtualenv, no interpreter downloads."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    return env | {"UV_PYTHON_DOWNLOADS": "never"}


def last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n         ".join(lines[-count:])


def lock(project: Path) -> Outcome:
    later = f"cd {shlex.quote(str(project))} && uv lock"
    uv = shutil.which("uv")
    if uv is None:
        return Outcome(False, "uv is not installed (https://docs.astral.sh/uv/)", later)
    try:
        done = subprocess.run(
            [uv, "lock"],
            cwd=project,
            env=uv_environment(),
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, f"uv lock took over {LOCK_TIMEOUT_S} s and was stopped", later)
    if done.returncode != 0:
        return Outcome(False, f"uv lock failed:\n         {last_lines(done.stderr)}", later)
    return Outcome(True, "uv.lock written")
