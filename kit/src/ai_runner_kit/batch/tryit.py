"""The `<name>-try` command: see what the pipeline does to your images, on this machine, with no
go-livepeer and no network.

    <name>-try photo.jpg                  # -> try-output/photo/photo.png
    <name>-try photos/ --params '{"style": "noir"}'
    <name>-try --sample                   # a generated test image
    ai-runner-kit try --spec SPEC ...     # the same, for any ai-runner batch pipeline

Each image goes to the project's own app (ai-runner's create_app over the class the spec names,
in this process) as the same request the benchmark makes: the pipeline's optional
`benchmark_request` hook, else a PNG upload to its router's first POST route. --params go along
as form fields (or JSON fields, for a JSON request). Answers are saved as PNGs, with a contact
sheet of inputs above outputs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
from PIL import Image, UnidentifiedImageError
from runner.app import create_app

from ai_runner_kit.contact_sheet import ContactSheet
from ai_runner_kit.measure import percentile_ms, quiet_request_logs
from ai_runner_kit.model_dir import model_dir_root
from ai_runner_kit.prepare import prepare
from ai_runner_kit.specs import BatchSpec, import_object

from .bench import benchmark_request, sample_png

OUTPUT_FOLDER = Path("try-output")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
LOAD_TIMEOUT_S = 600
SAMPLE_SIZE = 512
EXIT_USAGE, EXIT_REFUSED, EXIT_INPUT, EXIT_FAILED = 2, 5, 6, 7


class TryError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def input_images(source: Path | None) -> tuple[str, list[tuple[str, Path | None]]]:
    """(a name for the outputs, [(output file name, image path or None for the sample)]);
    TryError says what is wrong."""
    if source is None:
        return "sample", [("sample.png", None)]
    if source.is_dir():
        files = sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise TryError(
                f"no images in {source} (looked for {', '.join(IMAGE_SUFFIXES)}): add some, "
                "or give one image or --sample",
                EXIT_INPUT,
            )
        name = source.resolve().name or "images"
    elif source.is_file():
        files, name = [source], source.stem
    else:
        raise TryError(f"{source} not found: give an image or a folder of images", EXIT_INPUT)
    for file in files:  # headers only: a file that is no image fails now, not halfway
        with opened_image(file):
            pass
    stems = [file.stem for file in files]
    unique = len(set(stems)) == len(stems)  # a.jpg and a.png keep their suffixes apart
    return name, [(f"{f.stem if unique else f.name}.png", f) for f in files]


def png_of(path: Path | None) -> bytes:
    """The image as PNG, what the benchmark's request carries; the sample when no path."""
    if path is None:
        return sample_png(SAMPLE_SIZE, SAMPLE_SIZE)
    out = io.BytesIO()
    with opened_image(path) as image:
        try:
            image.convert("RGB").save(out, format="PNG")
        except OSError as error:  # truncated or damaged pixel data
            raise TryError(f"cannot read {path} as an image: {error}", EXIT_INPUT) from error
    return out.getvalue()


@contextlib.contextmanager
def opened_image(path: Path) -> Iterator[Image.Image]:
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError) as error:
        raise TryError(f"cannot read {path} as an image: {error}", EXIT_INPUT) from error
    with image:
        yield image


def refusal(answer: httpx.Response) -> str:
    """What the app said, in a line: FastAPI's validation errors field by field."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        return answer.text[:500]
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', [])[1:]) or 'request'}: "
            f"{item.get('msg')} (got {item.get('input')!r})"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail)[:500]


def with_params(request: dict, params: dict) -> dict:
    """The benchmark's request, carrying --params: form fields beside an upload, else JSON."""
    if not params:
        return request
    if "json" in request:
        return request | {"json": {**request["json"], **params}}
    fields = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()
    }
    return request | {"data": {**request.get("data", {}), **fields}}


def rgb_of(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("RGB"))


async def wait_until_loaded(client: httpx.AsyncClient) -> None:
    """Poll /health as go-livepeer does until the pipeline is no longer LOADING."""
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while (status := (await client.get("/health")).json()["status"]) == "LOADING":
        if time.monotonic() > deadline:
            raise TryError(f"the pipeline was still LOADING after {LOAD_TIMEOUT_S} s", EXIT_FAILED)
        await asyncio.sleep(0.05)
    if status != "OK":
        raise TryError(f"the pipeline is {status} after loading: see the log above", EXIT_FAILED)


async def try_images(spec: BatchSpec, args: argparse.Namespace, params: dict) -> dict:
    name, images = input_images(args.source)
    output = args.output or OUTPUT_FOLDER / name
    sheet_path = args.contact_sheet or OUTPUT_FOLDER / f"{name}-contact-sheet.png"
    pipeline_class = import_object(spec.pipeline_cls)
    if not args.no_prepare:
        await asyncio.to_thread(prepare, pipeline_class)
    pipeline = pipeline_class(spec.name, str(model_dir_root()))
    app = create_app(pipeline)
    transport = httpx.ASGITransport(app=app)
    sheet, latencies = ContactSheet(), []
    output.mkdir(parents=True, exist_ok=True)
    # ai-runner mounts the pipeline's routes when the app starts: run its lifespan, as a server
    # would (httpx's ASGITransport sends requests only).
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://try", timeout=None) as client,
    ):
        await wait_until_loaded(client)
        started = time.perf_counter()
        for file_name, path in images:
            png = png_of(path)
            sent = time.perf_counter()
            answer = await client.request(**with_params(benchmark_request(pipeline, png), params))
            latencies.append(time.perf_counter() - sent)
            if answer.status_code != 200:
                raise TryError(
                    f"{file_name}: the app answered {answer.status_code}: {refusal(answer)}",
                    EXIT_REFUSED if answer.status_code < 500 else EXIT_FAILED,
                )
            if not answer.headers.get("content-type", "").startswith("image/"):
                raise TryError(
                    f"{file_name}: the answer is {answer.headers.get('content-type')}, not an "
                    "image: the try command saves image answers",
                    EXIT_FAILED,
                )
            result = rgb_of(answer.content)
            Image.fromarray(result).save(output / file_name)
            sheet.add(file_name, rgb_of(png), result)
            if not args.quiet:
                print(f"{file_name}: {latencies[-1] * 1000:.0f} ms", file=sys.stderr, flush=True)
        elapsed = time.perf_counter() - started
    return {
        "source": str(args.source) if args.source else "sample",
        "kind": "images",
        "output": str(output),
        "contact_sheet": str(sheet_path) if sheet.save(sheet_path) else None,
        "frames_in": len(images),
        "frames_out": len(latencies),
        "images_per_s": len(latencies) / elapsed if elapsed else 0.0,
        "latency_ms": {f"p{p}": percentile_ms(latencies, p) for p in (50, 95, 99)},
    }


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="See what the pipeline does to your images: each goes through the "
        f"project's own app, in this process; the answers are saved under {OUTPUT_FOLDER}/ "
        "with a contact sheet of inputs above outputs.",
        epilog="Exit codes: 2 usage, 5 request refused, 6 input unreadable, 7 pipeline failed.",
    )
    parser.add_argument("source", nargs="?", type=Path, metavar="IMAGE_OR_FOLDER")
    parser.add_argument("--sample", action="store_true", help="a generated test image instead")
    parser.add_argument(
        "--params", metavar="JSON_OR_@FILE", help="request parameters: a JSON object, or @FILE"
    )
    parser.add_argument("--output", type=Path, metavar="FOLDER", help="where the PNGs go")
    parser.add_argument("--contact-sheet", type=Path, metavar="PATH", help="the .png contact sheet")
    parser.add_argument("--json", action="store_true", help="end with one JSON object on stdout")
    parser.add_argument("--no-prepare", action="store_true", help="skip prepare_models()")
    parser.add_argument("-q", "--quiet", action="store_true", help="no line per image")
    return parser


def parse_params(text: str | None) -> dict:
    if not text:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"--params: cannot read {text[1:]} ({error.strerror})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--params is not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise ValueError("--params must be a JSON object, for example '{\"strength\": 0.5}'")
    return value


def main(spec: BatchSpec, argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    quiet_request_logs()
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if (args.source is None) == (not args.sample):
        parser.error("give one input: IMAGE_OR_FOLDER or --sample")
    if args.contact_sheet is not None and args.contact_sheet.suffix.lower() != ".png":
        parser.error(f"--contact-sheet must end in .png: {args.contact_sheet}")
    try:
        params = parse_params(args.params)
    except ValueError as error:
        parser.error(str(error))
    try:
        report = asyncio.run(try_images(spec, args, params))
    except TryError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    latency = ", ".join(f"{k} {v:.0f} ms" for k, v in report["latency_ms"].items())
    lines = [
        f"images       : {report['frames_out']} at {report['images_per_s']:.1f}/s; {latency}",
        f"output       : {report['output']}",
        f"contact sheet: {report['contact_sheet']} (input above, output below)",
    ]
    print("\n".join(lines), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(report))
    return 0
