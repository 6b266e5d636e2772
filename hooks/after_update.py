"""Runs after `copier update` has merged the new template into the project (an unversioned
migration: once, in the project, after your changes are merged back): re-lock, and point at
anything the merge left for you to resolve.

Never fails: the update itself is done by then, and a failed lock is one command to rerun.
"""

import subprocess
import sys
from pathlib import Path

from steps import Outcome, lock, report

# What copier writes with `--conflict inline`. Not `git diff --check`: that flags any line of
# seven `<`, `=` or `>` that the update added (the example git conflict the integration README
# shows, a setext heading) and every trailing space, and never sees the untracked .rej files.
CONFLICT_MARKER = "<<<<<<< before updating"


def project_files(project: Path) -> list[str]:
    """Tracked files and new ones, minus what .gitignore leaves out (.venv, models/): copier
    only merges files it renders, and reading gigabytes of weights would find nothing."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=project,
        capture_output=True,
        check=True,
    )
    return sorted({name for name in listed.stdout.decode().split("\0") if name})


def unresolved(project: Path) -> list[str]:
    """Files with copier's inline conflict markers, and .rej files from --conflict rej."""
    found = []
    for name in project_files(project):
        path = project / name
        if path.suffix == ".rej":
            found.append(name)
            continue
        try:
            if CONFLICT_MARKER in path.read_text(errors="strict"):
                found.append(name)
        except (UnicodeDecodeError, OSError):
            continue  # binary, unreadable or deleted: not something copier merges
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
