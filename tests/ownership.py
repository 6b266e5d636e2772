"""Who owns which file of a generated project, read from copier.yml (one fact, one place).

The paths that `copier update` excludes are the user's: it never renders, merges, creates or
deletes them. Every other file is the template's. The template's Python reaches the user's only
through ai-runner's contract; the user's may use the kit's public API (tests/test_ownership.py).
"""

import ast
import re
from pathlib import Path

from .rendering import REPO

EXCLUDED_ON_UPDATE = re.compile(r"\{% if _copier_operation == 'update' %\}(.+?)\{% endif %\}")
# Not the template's files: copier's own record, and what tools write into a project.
NOT_RENDERED = {".copier-answers.yml", "uv.lock"}


def user_owned_roots(package: str) -> list[str]:
    excluded = EXCLUDED_ON_UPDATE.findall((REPO / "copier.yml").read_text())
    return [path.replace("{{ package_name }}", package).lstrip("/") for path in excluded]


def package_of(project: Path) -> str:
    return next(path.name for path in (project / "src").iterdir() if path.is_dir())


def is_user_owned(project: Path, relative: Path) -> bool:
    return _under(relative, user_owned_roots(package_of(project)))


def _under(relative: Path, roots: list[str]) -> bool:
    return any(relative.as_posix() == root or relative.is_relative_to(root) for root in roots)


def files_by_owner(project: Path) -> tuple[list[Path], list[Path]]:
    """(user-owned, template-owned) files of a project, relative to it."""
    roots = user_owned_roots(package_of(project))  # read copier.yml once, not once a file
    user, template = [], []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if not path.is_file() or relative.parts[0] in {".git", ".venv", "models"}:
            continue
        if "__pycache__" in relative.parts or relative.as_posix() in NOT_RENDERED:
            continue
        (user if _under(relative, roots) else template).append(relative)
    return user, template


def imported_modules(path: Path, project: Path) -> list[tuple[str, str | None]]:
    """(absolute module, imported name or None) for every import in a module of the project."""
    relative = path.relative_to(project)
    parts = list(relative.with_suffix("").parts)
    if parts[0] == "src":
        parts = parts[1:]
    package_parts = parts[:-1]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package_parts[: len(package_parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                # `from pkg import mod` imports a module when mod is one: count both readings.
                found += [(module, alias.name), (f"{module}.{alias.name}", None)]
    return found
