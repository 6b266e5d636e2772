"""The `<name>-session` command: its options, and the exit code and lines it ends with."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_STREAM, ClientError
from .frames import MAX_RUNNER_FPS, SAMPLE_SECONDS
from .options import ClientOptions, parse_params_options, program_name
from .orchestrator import DEFAULT_ORCHESTRATOR, RUNNER_ENV
from .progress import Progress
from .run import run_session
from .summary import SessionSummary


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or program_name(__package__),
        description="Stream a video through a live-runner session on a go-livepeer "
        "orchestrator, in real time, and save the processed video.",
        epilog=f"The runner label may also come from ${RUNNER_ENV}. Exit codes: 2 usage, "
        "3 orchestrator unreachable, 4 runner unknown/busy/not ready, 5 parameters refused, "
        "6 input unreadable, 7 stream failed or no output, 130 interrupted.",
    )
    parser.add_argument("input", nargs="?", help="a video file (anything PyAV/FFmpeg opens)")
    parser.add_argument("output", help="where to save the result: .mp4, or .ts for raw segments")
    parser.add_argument(
        "--sample",
        action="store_true",
        help=f"send a synthetic test pattern instead of INPUT ({SAMPLE_SECONDS:g} s unless "
        "--max-seconds)",
    )
    parser.add_argument(
        "--orchestrator",
        default=DEFAULT_ORCHESTRATOR,
        metavar="URL",
        help=f"the orchestrator's service address (default {DEFAULT_ORCHESTRATOR})",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not check the orchestrator's TLS certificate (go-livepeer's HTTPS uses a "
        "self-signed one unless started with an http:// -httpAddr)",
    )
    parser.add_argument(
        "--runner",
        default=os.environ.get(RUNNER_ENV) or None,
        metavar="LABEL",
        help=f"the live runner's label or id (default ${RUNNER_ENV})",
    )
    parser.add_argument(
        "--params",
        metavar="JSON",
        help="the stream's initial parameters: a JSON object, or @FILE to read one from a file",
    )
    parser.add_argument(
        "--params-at",
        action="append",
        default=[],
        metavar="SECONDS=JSON_OR_@FILE",
        help="at SECONDS into the stream, send this whole parameter set (repeatable)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=512,
        help="frame width sent, and the stream's width unless the params set one "
        "(default 512); frames are scaled to cover the size and "
        "centre-cropped, never stretched",
    )
    parser.add_argument("--height", type=int, default=512, help="frame height sent (default 512)")
    parser.add_argument(
        "--fps",
        type=float,
        help=f"frame rate sent (default: the input's, at most {float(MAX_RUNNER_FPS):.3f}, "
        "which ai-runner takes without dropping frames)",
    )
    parser.add_argument("--max-seconds", type=float, help="send at most this much of the input")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="after the input ends, wait until no output came for this long (default 5)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=180.0,
        metavar="SECONDS",
        help="how long to wait for the runner to be free and ready (default 180)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object on stdout"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser


def check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("width", "height"):
        value = getattr(args, name)
        if not 16 <= value <= 4096 or value % 2:
            parser.error(f"--{name} must be an even number from 16 to 4096, not {value}")
    for name, value in (("fps", args.fps), ("max-seconds", args.max_seconds)):
        if value is not None and not (math.isfinite(value) and value > 0):
            parser.error(f"--{name} must be a positive number, not {value}")
    for name, value in (
        ("drain-timeout", args.drain_timeout),
        ("ready-timeout", args.ready_timeout),
    ):
        if not (math.isfinite(value) and value >= 0):
            parser.error(f"--{name} must be zero or more seconds, not {value}")


def parse_args(argv: Sequence[str] | None = None, prog: str | None = None) -> ClientOptions:
    """Parse and check the command line; usage errors exit with code 2 (argparse's way)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.sample == (args.input is not None):
        parser.error(
            "give an INPUT video or --sample, not both"
            if args.sample
            else "give an INPUT video, or --sample for a synthetic one"
        )
    if not args.runner:
        parser.error(f"--runner LABEL is required (or set ${RUNNER_ENV})")
    output = Path(args.output)
    if output.suffix.lower() not in {".mp4", ".ts"}:
        parser.error(f"OUTPUT must end in .mp4 or .ts: {args.output}")
    if not output.parent.is_dir():
        parser.error(f"the folder for OUTPUT does not exist: {output.parent}")
    check_numbers(parser, args)
    if not args.orchestrator.startswith(("http://", "https://")):
        parser.error(f"--orchestrator must be an http:// or https:// URL: {args.orchestrator}")
    params, params_at = parse_params_options(parser, args.params, args.params_at)
    # Each parameter set is whole, and ai-runner refuses a new size mid-stream: every set
    # carries the size that frames are sent at, unless it names one itself.
    size = {"width": args.width, "height": args.height}
    params = size | params
    params_at = [(seconds, size | later) for seconds, later in params_at]
    return ClientOptions(
        input=None if args.sample else Path(args.input),
        output=output,
        runner=args.runner,
        orchestrator=args.orchestrator.rstrip("/"),
        params=params,
        params_at=tuple(params_at),
        width=args.width,
        height=args.height,
        fps=Fraction(args.fps).limit_denominator(1001) if args.fps else None,
        max_seconds=args.max_seconds,
        drain_timeout=args.drain_timeout,
        ready_timeout=args.ready_timeout,
        insecure=args.insecure,
        json_summary=args.json,
        quiet=args.quiet,
    )


def exit_code_for(summary: SessionSummary) -> int:
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_STREAM if summary.error else EXIT_OK


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    options = parse_args(argv, prog)
    progress = Progress(options.quiet)
    try:
        summary = asyncio.run(run_session(options, progress))
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C twice: the session was stopped
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if summary.error:
        print(f"error: {summary.error}", file=sys.stderr)
    if options.json_summary:
        print(json.dumps(asdict(summary)))
    else:
        print("\n".join(summary.lines()))
    return exit_code_for(summary)
