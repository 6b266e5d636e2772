"""Moves a file you own to where a newer template release expects it.

A release that moves a user-owned file declares a versioned migration that runs this script
before the update (`_stage == 'before'`), and excludes both paths from updates (copier.yml's
`_exclude`), so that copier's merge neither deletes the old path nor recreates the new one: your
file, with your edits, simply changes place (with `git mv`, so its history follows it).

    move_user_file.py OLD NEW     (paths relative to the project)

Nothing to move (OLD absent): nothing happens. NEW already there: the script stops the update
before anything changed, since merging two versions of your file is yours to do.
"""

import shutil
import subprocess
import sys
from pathlib import Path


def is_tracked(path: Path) -> bool:
    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(path)], capture_output=True, text=True
    )
    return done.returncode == 0


def move(old: Path, new: Path) -> str:
    if not old.exists():
        return f"{old} is not here: nothing to move"
    if new.exists():
        raise FileExistsError(
            f"{new} already exists, and {old} is still here: keep the one you want at {new}, "
            f"delete {old}, commit, and run the update again"
        )
    new.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("git") and is_tracked(old):
        subprocess.run(["git", "mv", str(old), str(new)], check=True)
    else:
        old.rename(new)
    return f"moved {old} to {new}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(f"[ok] migration: {move(Path(argv[0]), Path(argv[1]))}")
    except (FileExistsError, OSError, subprocess.CalledProcessError) as error:
        print(f"[FAILED] migration: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
