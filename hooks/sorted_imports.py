"""Sorts the imports of files a migration rewrote, so that the project stays lint-clean: a module
that moves changes where its import belongs (ruff's isort rules, which `just format` applies).
"""

import shutil
import subprocess
from pathlib import Path


def ruff_command() -> list[str] | None:
    """The project's own ruff (its dev group), else one on PATH."""
    for candidate in (Path(".venv/bin/ruff"), Path(".venv/Scripts/ruff.exe")):
        if candidate.is_file():
            return [str(candidate)]
    found = shutil.which("ruff")
    return [found] if found else None


def sort_imports(paths: list[Path]) -> bool:
    """True when the imports are sorted (or there was nothing to sort); False when no ruff
    could do it, and the caller says what to run."""
    paths = [path for path in paths if path.exists()]
    if not paths:
        return True
    ruff = ruff_command()
    if ruff is None:
        return False
    command = [*ruff, "check", "--select", "I", "--fix", "--quiet", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True).returncode == 0
