"""What the two patchers share: refusing clearly, finding lines, diffs and safe writes.

A patcher takes a file's text and returns the new text and a list of what it added. It finds
every place it edits by the structure around it (a function, a case branch, a map literal),
never by line number, and adds only the pieces that are missing, so that a second run is a
no-op. When a structure is not where it expects it, it raises Refusal and nothing is written.
"""

import difflib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


class Refusal(Exception):
    """The file is not shaped as the patcher expects: upstream moved something, or an entry
    already there contradicts this project. The message says what was looked for."""


class AnchorMissing(Refusal):
    def __init__(self, looked_for: str) -> None:
        super().__init__(f"cannot find {looked_for}")


class Conflict(Refusal):
    pass


@dataclass
class FileEdit:
    """One upstream file: its text before and after, and what was added."""

    path: Path
    shown_as: str  # the path inside its checkout, as diffs name it
    before: str
    after: str
    added: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.shown_as}",
                tofile=f"b/{self.shown_as}",
            )
        )


def read_text(path: Path) -> str:
    # Bytes, not read_text(): universal newlines would silently rewrite the file's line endings.
    return path.read_bytes().decode("utf-8")


def write_text_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its mode (dl_checkpoints.sh is executable), so an
    interrupted run never leaves a half-written file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def matching_lines(
    lines: list[str], pattern: str, start: int = 0, stop: int | None = None
) -> Iterator[int]:
    """Indexes of the lines in [start, stop) that the regular expression matches (re.search)."""
    compiled = re.compile(pattern)
    for index in range(start, len(lines) if stop is None else stop):
        if compiled.search(lines[index]):
            yield index


def first_line(
    lines: list[str], pattern: str, start: int = 0, stop: int | None = None
) -> int | None:
    return next(matching_lines(lines, pattern, start, stop), None)


def last_line(
    lines: list[str], pattern: str, start: int = 0, stop: int | None = None
) -> int | None:
    found = list(matching_lines(lines, pattern, start, stop))
    return found[-1] if found else None
