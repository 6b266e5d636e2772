"""The template's own code passes the checks it asks of generated projects."""

import subprocess
import sys
from pathlib import Path

from .rendering import REPO

BIN = Path(sys.executable).parent
SHELL_SCRIPTS = [REPO / ".ci" / "run", *sorted((REPO / "dev").glob("*.sh"))]


def run(*command: str) -> None:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def test_ruff_lint_passes():
    run(str(BIN / "ruff"), "check", "--no-cache", "hooks", "tests", "extensions", "dev")


def test_ruff_format_is_clean():
    run(str(BIN / "ruff"), "format", "--no-cache", "--check", "hooks", "tests", "extensions", "dev")


def test_shell_scripts_pass_shellcheck():
    assert SHELL_SCRIPTS
    run(str(BIN / "shellcheck"), "--external-sources", *map(str, SHELL_SCRIPTS))
