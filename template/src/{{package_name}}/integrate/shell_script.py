"""The shell structures dl_checkpoints.sh is edited around: functions and `case` statements.

Not a shell parser: it reads the layout that ai-runner's script keeps (functions that close with
`}` in column 0, each case label on a line of its own) and refuses when that layout is not there.
"""

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .patching import AnchorMissing, first_line, indentation

CASE_LABEL = re.compile(r"\(?(?P<patterns>[^()#;]+)\)")
# An `echo "..."` line of display_help: the indentation of the echo, and inside its text.
ECHO_SHAPE = re.compile(r'(\s*)echo "(\s*)')


def function_start_pattern(name: str) -> str:
    return rf"^(function\s+)?{re.escape(name)}\s*\(\)\s*" + r"\{\s*$"


def is_defined(lines: list[str], function: str) -> bool:
    return first_line(lines, function_start_pattern(function)) is not None


def function_span(lines: list[str], function: str) -> tuple[int, int]:
    """Indexes of the line that opens the function and of the `}` that closes it."""
    start = first_line(lines, function_start_pattern(function))
    if start is None:
        raise AnchorMissing(f"the function `{function}()`")
    end = first_line(lines, r"^\}\s*$", start + 1)
    if end is None:
        raise AnchorMissing(f"the closing brace in column 0 of the function `{function}()`")
    return start, end


@dataclass(frozen=True)
class Branch:
    """One branch of a case statement: its label line up to (not including) the next label."""

    label: str  # as written, without indentation and `)`: `"all"`, `streamdiffusion-*|"x"`
    start: int
    end: int

    def patterns(self) -> list[tuple[str, bool]]:
        """(text, is_glob) for each `|`-separated pattern; a quoted pattern is a literal."""
        found = []
        for pattern in (part.strip() for part in self.label.split("|")):
            quoted = len(pattern) >= 2 and pattern[0] == pattern[-1] and pattern[0] in "\"'"
            found.append((pattern[1:-1], False) if quoted else (pattern.replace('"', ""), True))
        return found

    @property
    def is_catch_all(self) -> bool:
        return self.label == "*"

    def matches(self, value: str) -> bool:
        return any(
            fnmatchcase(value, text) if is_glob else value == text
            for text, is_glob in self.patterns()
        )

    def is_exactly(self, value: str) -> bool:
        return self.patterns() in ([(value, False)], [(value, True)])

    def body(self, lines: list[str]) -> list[str]:
        return lines[self.start + 1 : self.end]


@dataclass(frozen=True)
class CaseStatement:
    function: str
    start: int  # the `case ... in` line
    end: int  # its `esac`
    branches: tuple[Branch, ...]

    def describe(self) -> str:
        return f'the `case "$PIPELINE" in` statement of `{self.function}()`'

    def branch(self, value: str) -> Branch:
        """The branch labelled exactly `"value")`."""
        for branch in self.branches:
            if branch.is_exactly(value):
                return branch
        raise AnchorMissing(f'the `"{value}")` branch of {self.describe()}')

    def catch_all(self) -> Branch:
        for branch in self.branches:
            if branch.is_catch_all:
                return branch
        raise AnchorMissing(f"the `*)` branch of {self.describe()}")


def pipeline_case(lines: list[str], function: str) -> CaseStatement:
    """The `case "$PIPELINE" in ... esac` inside the function, with its branches."""
    function_start, function_end = function_span(lines, function)
    opening = r'^\s*case\s+"\$PIPELINE"\s+in\s*$'
    start = first_line(lines, opening, function_start + 1, function_end)
    if start is None:
        raise AnchorMissing(f'a `case "$PIPELINE" in` statement in `{function}()`')
    end = _matching_esac(lines, start, function_end)
    if end is None:
        raise AnchorMissing(f'the `esac` that closes `case "$PIPELINE" in` in `{function}()`')

    # Labels sit at one indentation (shfmt puts them level with `case`), their bodies deeper.
    contents = [index for index in range(start + 1, end) if lines[index].strip()]
    label_indentation = indentation(lines[contents[0]]) if contents else ""
    label_lines = [
        index
        for index in contents
        if indentation(lines[index]) == label_indentation
        and CASE_LABEL.fullmatch(lines[index].strip())
    ]
    branches = tuple(
        Branch(lines[index].strip().lstrip("(")[:-1].strip(), index, following)
        for index, following in zip(label_lines, [*label_lines[1:], end], strict=True)
    )
    return CaseStatement(function, start, end, branches)


def _matching_esac(lines: list[str], case_line: int, stop: int) -> int | None:
    depth = 0
    for index in range(case_line + 1, stop):
        words = lines[index].split()
        if words[:1] == ["case"] and words[-1:] == ["in"]:
            depth += 1
        elif words[:1] == ["esac"]:
            if depth == 0:
                return index
            depth -= 1
    return None


def branch_terminator(lines: list[str], branch: Branch, case: CaseStatement) -> int:
    """Index of the `;;` that ends the branch."""
    for index in range(branch.end - 1, branch.start, -1):
        if lines[index].strip() == ";;":
            return index
    raise AnchorMissing(f"the `;;` that ends the `{branch.label})` branch of {case.describe()}")


def body_indentation(lines: list[str], branch: Branch, case: CaseStatement) -> str:
    for line in branch.body(lines):
        if line.strip():
            return indentation(line)
    raise AnchorMissing(f"a body in the `{branch.label})` branch of {case.describe()}")
