"""The `<name>-try` command: its options, and the exit code and lines it ends with."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..session.errors import EXIT_INTERRUPTED, EXIT_OK, ClientError
from ..session.frames import SAMPLE_SECONDS
from ..session.options import parse_params_options, program_name
from .options import OUTPUT_FOLDER, TryOptions
from .sources import is_image

if TYPE_CHECKING:  # the pipeline's modules load after the command line is checked
    from runner.live.pipelines import PipelineSpec


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or program_name(__package__),
        description="See what the pipeline does: run it on a video, images, a generated sample "
        "clip or a camera, as ai-runner would on the network, and save the result "
        f"(under {OUTPUT_FOLDER}/ unless --output) with a contact sheet of input and output.",
        epilog="Exit codes: 2 usage, 5 parameters refused, 6 input unreadable, 7 the pipeline "
        "gave no output, 130 interrupted. Ctrl-C once ends the input and still saves.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        metavar="SOURCE",
        help="a video file (anything FFmpeg reads), an image, or a folder of images",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help=f"a generated test clip instead of SOURCE ({SAMPLE_SECONDS:g} s unless --seconds)",
    )
    parser.add_argument(
        "--camera",
        nargs="?",
        const="",
        metavar="DEVICE",
        help="a camera instead of SOURCE: /dev/videoN on Linux, an index on macOS (default the "
        "first); runs until Ctrl-C or --seconds",
    )
    parser.add_argument(
        "--params",
        metavar="JSON_OR_@FILE",
        help="the stream's parameters: a JSON object, or @FILE to read one "
        "(default: the params class's defaults)",
    )
    parser.add_argument(
        "--params-at",
        action="append",
        default=[],
        metavar="SECONDS=JSON_OR_@FILE",
        help="at SECONDS into the stream, switch to this whole parameter set, as a control "
        "message would (repeatable; not for images)",
    )
    parser.add_argument("--width", type=int, help="the stream's width, unless the params set one")
    parser.add_argument("--height", type=int, help="the stream's height, unless the params set one")
    parser.add_argument("--seconds", type=float, help="stream at most this many seconds")
    parser.add_argument(
        "--side-by-side", action="store_true", help="save the input beside the output"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="the .mp4 to write, or for images the folder of PNGs "
        f"(default {OUTPUT_FOLDER}/<input name>[.mp4])",
    )
    parser.add_argument(
        "--contact-sheet",
        type=Path,
        metavar="PATH",
        help=f"the .png contact sheet (default {OUTPUT_FOLDER}/<input name>-contact-sheet.png)",
    )
    parser.add_argument(
        "--json", action="store_true", help="end with the summary as one JSON object on stdout"
    )
    parser.add_argument(
        "--no-prepare", action="store_true", help="skip prepare_models(): the models are there"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser


def parse_args(argv: Sequence[str] | None = None, prog: str | None = None) -> TryOptions:
    """Parse and check the command line; usage errors exit with code 2 (argparse's way)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    inputs = [args.source is not None, args.sample, args.camera is not None]
    if inputs.count(True) != 1:
        parser.error(
            "give one input: SOURCE (a video, an image or a folder of images), --sample or --camera"
        )
    source = Path(args.source) if args.source is not None else None
    images = source is not None and (source.is_dir() or is_image(source))
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        parser.error(f"--seconds must be a positive number, not {args.seconds}")
    if images and (args.seconds is not None or args.params_at):
        parser.error("--seconds and --params-at are for streams: images are each sent once")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name} must be a positive number of pixels, not {value}")
    if args.output is not None and not images and args.output.suffix.lower() != ".mp4":
        parser.error(f"--output must end in .mp4 for a video: {args.output}")
    if args.output is not None and images and args.output.suffix:
        parser.error(f"--output is a folder for images (PNGs go in it), not a file: {args.output}")
    if args.contact_sheet is not None and args.contact_sheet.suffix.lower() != ".png":
        parser.error(f"--contact-sheet must end in .png: {args.contact_sheet}")
    params, params_at = parse_params_options(parser, args.params, args.params_at)
    return TryOptions(
        source=source,
        camera=args.camera,
        params=params,
        params_at=tuple(params_at),
        width=args.width,
        height=args.height,
        seconds=args.seconds,
        side_by_side=args.side_by_side,
        output=args.output,
        contact_sheet=args.contact_sheet,
        json_summary=args.json,
        prepare=not args.no_prepare,
        quiet=args.quiet,
    )


def main(spec: PipelineSpec, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    options = parse_args(argv, prog)
    from .run import run_try  # torch and the pipeline load after the command line is checked

    def say(message: str) -> None:
        if not options.quiet:
            print(message, file=sys.stderr, flush=True)

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    try:
        report = asyncio.run(run_try(spec, options, say, warn))
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C twice
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print("\n".join(report.lines()), file=sys.stderr if options.json_summary else sys.stdout)
    if options.json_summary:
        print(json.dumps(report.as_json()))
    return EXIT_OK  # Ctrl-C is how a camera run ends: what came out is saved
