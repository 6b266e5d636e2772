"""Moves a project generated before v0.2.0 onto the v0.2.0 layout, before `copier update` merges.

v0.2.0 split the package in two: `pipeline/` is yours, `runtime/` is the template's. For your
code that means three things, which this script does and reports:

- your Pipeline class moves from `pipeline/pipeline.py` to `pipeline/<kind>.py` (live.py or
  batch.py), where the new main.py names it (with `git mv`, so its history follows);
- your imports of the template's modules that moved follow them: `<package>.local_stream` and
  `<package>.pipeline.worker` are now under `<package>.runtime`;
- `pipeline/worker.py`, the template's until v0.1.0, is removed when it is still the v0.1.0 file
  (the same worker now lives in `runtime/`); when you changed it, it stays yours, and so do the
  imports of it.

    migrate_to_v0_2_0.py .copier-answers.yml     (run in the project)

Copier runs it once, when an update crosses v0.2.0. Running it again changes nothing.
"""

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

from move_user_file import is_tracked, move
from sorted_imports import sort_imports

# sha256 of v0.1.0's pipeline/worker.py: a file with this digest is the template's, unchanged.
V0_1_0_WORKER_SHA256 = "c35396e9626885e14a1a21c17ff88e04c56a2b71019ef163c6516f9ee8d9a522"


def import_rewrites(package: str, kind: str, worker_moved: bool) -> list[tuple[str, str]]:
    """(pattern, replacement) pairs for module paths, each matched as a whole dotted name."""
    rewrites = [
        (rf"\b{package}\.pipeline\.pipeline\b", f"{package}.pipeline.{kind}"),
        # `import pipeline as x` keeps its alias; a bare `import pipeline` keeps its name.
        (
            rf"\bfrom {package}\.pipeline import pipeline as\b",
            f"from {package}.pipeline import {kind} as",
        ),
        (
            rf"\bfrom {package}\.pipeline import pipeline$",
            f"from {package}.pipeline import {kind} as pipeline",
        ),
        (rf"\b{package}\.local_stream\b", f"{package}.runtime.local_stream"),
    ]
    if worker_moved:
        rewrites += [
            (rf"\b{package}\.pipeline\.worker\b", f"{package}.runtime.worker"),
            (r"^from \.worker import\b", "from ..runtime.worker import"),
        ]
    return rewrites


def parent_imports_first(text: str) -> str:
    """Puts `from ..x import` lines before the first `from .x import` line, where isort (and
    ruff's I rules) want them, so that a rewritten import keeps the file lint-clean."""
    lines = text.splitlines(keepends=True)
    sibling = next((i for i, line in enumerate(lines) if line.startswith("from .")), None)
    if sibling is None:
        return text
    parents = [line for line in lines[sibling:] if line.startswith("from ..")]
    rest = [line for line in lines[sibling:] if not line.startswith("from ..")]
    return "".join(lines[:sibling] + parents + rest)


def rewrite_imports(paths: list[Path], rewrites: list[tuple[str, str]]) -> list[Path]:
    changed = []
    for path in paths:
        before = path.read_text()
        after = before
        for pattern, replacement in rewrites:
            after = re.sub(pattern, replacement, after, flags=re.MULTILINE)
        if after != before:
            after = parent_imports_first(after)
            path.write_text(after)
            changed.append(path)
    return changed


def remove_unchanged_worker(worker: Path) -> bool:
    """True when the worker is gone: never there, or v0.1.0's own file, now removed."""
    if not worker.exists():
        return True
    if hashlib.sha256(worker.read_bytes()).hexdigest() != V0_1_0_WORKER_SHA256:
        return False
    if is_tracked(worker):
        subprocess.run(["git", "rm", "--quiet", str(worker)], check=True)
    else:
        worker.unlink()
    return True


def migrate(package: str, kind: str) -> list[str]:
    pipeline_dir = Path("src") / package / "pipeline"
    done = [move(pipeline_dir / "pipeline.py", pipeline_dir / f"{kind}.py")]
    worker = pipeline_dir / "worker.py"
    worker_moved = remove_unchanged_worker(worker)
    if not worker_moved:
        done.append(f"{worker} differs from v0.1.0's: kept as yours, with your imports of it")
    elif kind == "live":
        done.append(f"{worker} removed: runtime/worker.py is the same worker, kept current")
    yours = sorted(pipeline_dir.glob("*.py")) + sorted(Path("tests").rglob("*.py"))
    rewrites = import_rewrites(package, kind, worker_moved)
    changed = rewrite_imports(yours, rewrites)
    done += [f"imports updated in {path}" for path in changed]
    if not sort_imports(changed):  # a renamed module may belong elsewhere among the imports
        done.append("sort the imports it changed: `just format` (or ruff check --fix)")
    return done


def read_answers(path: Path) -> dict[str, str]:
    """The plain `key: value` lines of copier's answers file (migrations get no answers)."""
    answers = {}
    for line in path.read_text().splitlines():
        key, colon, value = line.partition(":")
        if colon and not line.startswith((" ", "#")):
            answers[key.strip()] = value.strip().strip("'\"")
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers_file", type=Path)
    args = parser.parse_args(argv)
    try:
        answers = read_answers(args.answers_file)
        for line in migrate(answers["package_name"], answers.get("pipeline_kind", "live")):
            print(f"[ok] migration v0.2.0: {line}")
    except (KeyError, FileExistsError, OSError, subprocess.CalledProcessError) as error:
        print(f"[FAILED] migration v0.2.0: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
