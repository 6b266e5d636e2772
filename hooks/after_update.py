"""Runs after `copier update` has merged the new template into the project (an unversioned
migration: once, in the project, after your changes are merged back): re-lock, and point at
anything the merge left for you to resolve.

Never fails: the update itself is done by then, and a failed lock is one command to rerun.
"""

import sys
from pathlib import Path

from steps import Outcome, lock, report

# What copier writes with `--conflict inline` (a bare "<<<<<<< " could be documentation).
CONFLICT_MARKER = "<<<<<<< before updating"


def unresolved(project: Path) -> list[str]:
    """Files with copier's inline conflict markers, and .rej files from --conflict rej."""
    found = []
    for path in sorted(project.rglob("*")):
        if ".git" in path.parts or ".venv" in path.parts or not path.is_file():
            continue
        if path.suffix == ".rej":
            found.append(str(path.relative_to(project)))
            continue
        try:
            if CONFLICT_MARKER in path.read_text(errors="strict"):
                found.append(str(path.relative_to(project)))
        except (UnicodeDecodeError, OSError):
            continue  # binary or unreadable: not something copier merges
    return found


def main() -> int:
    project = Path.cwd()
    print()
    conflicts = unresolved(project)
    if conflicts:
        report(
            "merge",
            Outcome(
                False,
                "resolve these, then run `uv lock` (docs/update.md in the template says how):\n"
                "         " + "\n         ".join(conflicts),
            ),
        )
        return 0
    report("merge", Outcome(True, "no conflicts"))
    report("lock", lock(project))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the update is already applied: report, never undo it
        print(f"[FAILED] post-update steps stopped: {error!r}. Run `uv lock` yourself.")
        sys.exit(0)
