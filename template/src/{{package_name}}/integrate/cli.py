"""`python -m <package>.integrate --ai-runner PATH --go-livepeer PATH [--check]`.

Both files are read and both edits computed before anything is written: when either file is
refused, neither is touched.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import dl_checkpoints, docker_go
from .names import PipelineNames
from .patching import AnchorMissing, FileEdit, Refusal, read_text, write_text_atomically
from .project import DOCKER_IMAGE, PIPELINE_KIND, PIPELINE_NAME

EXIT_DONE = 0  # applied, or already applied
EXIT_CHANGES_NEEDED = 1  # --check: something is missing
EXIT_REFUSED = 2  # a file is not as expected (argparse also exits 2 on usage errors)


@dataclass(frozen=True)
class Upstream:
    repository: str
    option: str
    relative_path: str
    patch: Callable[[str, PipelineNames], tuple[str, list[str]]]

    @property
    def dest(self) -> str:
        return self.option.removeprefix("--").replace("-", "_")

    @property
    def reviewed_diff(self) -> str:
        """The same edit as a diff in this project, to apply by hand when upstream moved."""
        return f"integration/{Path(self.relative_path).name}.diff"


UPSTREAMS = (
    Upstream("ai-runner", "--ai-runner", dl_checkpoints.RELATIVE_PATH, dl_checkpoints.patch),
    Upstream("go-livepeer", "--go-livepeer", docker_go.RELATIVE_PATH, docker_go.patch),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    checkouts = {
        upstream: checkout
        for upstream in UPSTREAMS
        if (checkout := getattr(arguments, upstream.dest)) is not None
    }
    if not checkouts:
        parser.error("give --ai-runner PATH, --go-livepeer PATH, or both")

    try:
        pipeline = PipelineNames(PIPELINE_NAME, DOCKER_IMAGE, PIPELINE_KIND)
    except ValueError as error:
        return refuse(parser, str(error))
    try:
        edits = [plan(upstream, checkout, pipeline) for upstream, checkout in checkouts.items()]
    except Refusal as refusal:
        return refuse(parser, str(refusal))

    pending = [edit for edit in edits if edit.needed]
    for edit in edits:
        if not edit.needed:
            print(f"{edit.path}: {pipeline.name} is already in, nothing to do", file=sys.stderr)
    if arguments.check:
        sys.stdout.write("".join(edit.diff() for edit in pending))
        return EXIT_CHANGES_NEEDED if pending else EXIT_DONE

    for edit in pending:
        write_text_atomically(edit.path, edit.after)
        print(f"{edit.path}: added")
        for piece in edit.added:
            print(f"  {piece}")
    return EXIT_DONE


def refuse(parser: argparse.ArgumentParser, reason: str) -> int:
    print(f"{parser.prog}: {reason}", file=sys.stderr)
    print(f"{parser.prog}: nothing was written.", file=sys.stderr)
    return EXIT_REFUSED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PIPELINE_NAME}-integrate",
        description=(
            f"Add the {PIPELINE_NAME} {PIPELINE_KIND} pipeline to local checkouts of ai-runner "
            "(runner/dl_checkpoints.sh) and go-livepeer (ai/worker/docker.go). "
            "A second run changes nothing."
        ),
        epilog=(
            "Exit status: 0 applied or already applied; 1 with --check when changes are "
            "needed; 2 when a file is not as expected (nothing is written then)."
        ),
    )
    for upstream in UPSTREAMS:
        parser.add_argument(
            upstream.option,
            dest=upstream.dest,
            type=Path,
            metavar="PATH",
            help=f"root of your {upstream.repository} checkout, to patch {upstream.relative_path}",
        )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; print the diff and exit 1 when changes are needed, else exit 0",
    )
    return parser


def plan(upstream: Upstream, checkout: Path, pipeline: PipelineNames) -> FileEdit:
    """Reads the file and computes its edit; writes nothing."""
    path = checkout / upstream.relative_path
    if not path.is_file():
        raise Refusal(
            f"{path} not found: {upstream.option} takes the root of your {upstream.repository} "
            f"checkout, the folder that holds {upstream.relative_path}"
        )
    try:
        before = read_text(path)
        after, added = upstream.patch(before, pipeline)
    except UnicodeDecodeError:
        raise Refusal(f"{path} is not UTF-8 text") from None
    except AnchorMissing as missing:
        raise Refusal(
            f"{path}: {missing}. Upstream may have changed this file: make the edit by hand as "
            f"{upstream.reviewed_diff} in this project shows"
        ) from None
    except Refusal as refusal:
        raise Refusal(f"{path}: {refusal}") from None
    return FileEdit(path, upstream.relative_path, before, after, added)
