"""The pipeline's own command (`<name>` in a generated project): serve it with ai-runner, serve
it as a go-livepeer live runner, prepare its models, or print its parameters' JSON Schema.

- live: ai-runner's `start_app(spec)` on $HOST:$PORT, for go-livepeer's docker worker; or, with
  `--live-runner` or LIVE_RUNNER=1, the live runner (`ai_runner_kit.live.runner`).
- batch: ai-runner's `create_app(pipeline)` plus `GET /ready`, with uvicorn. ai-runner has no
  model-preparation step for batch pipelines; this one behaves like its live pipelines, so
  dl_checkpoints.sh-style tooling treats both kinds alike.
- both: `--prepare-models` or PREPARE_MODELS=1 prepares the models and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from ai_runner_kit.model_dir import model_dir_root
from ai_runner_kit.prepare import prepare
from ai_runner_kit.specs import Spec, import_object, is_live


def wants_prepare(argv: Sequence[str]) -> bool:
    return os.getenv("PREPARE_MODELS") == "1" or "--prepare-models" in argv


def wants_live_runner(argv: Sequence[str]) -> bool:
    return os.getenv("LIVE_RUNNER") == "1" or "--live-runner" in argv


def params_schema(spec: Spec) -> dict:
    """The JSON Schema of the spec's params class, as pydantic writes it (ai-runner's
    BaseParams for a live spec without one; an empty object for a batch spec without one)."""
    if spec.params_cls is not None:
        return import_object(spec.params_cls).model_json_schema()  # type: ignore[attr-defined]
    if is_live(spec):
        from runner.live.pipelines import BaseParams

        return BaseParams.model_json_schema()
    return {"type": "object", "properties": {}}


def print_for_a_pipe(text: str) -> None:
    """print(), quiet when the reader has gone (`--params-schema | head`): not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would raise it again when it flushes stdout at exit: point stdout at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def build_parser(spec: Spec, prog: str) -> argparse.ArgumentParser:
    if is_live(spec):
        description = (
            f"Serve the {spec.name} pipeline with ai-runner on $HOST:$PORT (default "
            "0.0.0.0:8000), for go-livepeer's docker worker or as a live runner."
        )
    else:
        description = (
            f"Serve the {spec.name} pipeline's HTTP API on $HOST:$PORT (default 0.0.0.0:8000), "
            "with GET /ready for go-livepeer's live runner."
        )
    parser = argparse.ArgumentParser(
        allow_abbrev=False,  # ai-runner looks for the exact --prepare-models itself
        prog=prog,
        description=description,
        epilog="Environment: HOST, PORT, MODEL_DIR (where prepared weights live), "
        "PREPARE_MODELS=1 (as --prepare-models)"
        + (", LIVE_RUNNER=1 (as --live-runner)." if is_live(spec) else "."),
    )
    parser.add_argument(
        "--prepare-models",
        action="store_true",
        help="create or download the weights into $MODEL_DIR and exit (what ai-runner's "
        "dl_checkpoints.sh does)",
    )
    if is_live(spec):
        parser.add_argument(
            "--live-runner",
            action="store_true",
            help="serve as a go-livepeer live runner (GET /ready, POST /stream/start, ...) "
            "instead of ai-runner's own API",
        )
    parser.add_argument(
        "--params-schema",
        action="store_true",
        help="print the JSON Schema of the parameters (live: the whole set each control "
        "message holds; batch: what a request sets besides its inputs) and exit",
    )
    return parser


def main(spec: Spec, prog: str, argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = build_parser(spec, prog).parse_args(argv)  # --help ends here, before imports
    if arguments.params_schema:
        print_for_a_pipe(json.dumps(params_schema(spec), indent=2))
        return 0
    if is_live(spec):
        serve_live(spec, argv)  # type: ignore[arg-type]
    else:
        serve_batch(spec, argv)  # type: ignore[arg-type]
    return 0


def serve_live(spec, argv: Sequence[str]) -> None:
    if wants_live_runner(argv) and not wants_prepare(argv):
        from ai_runner_kit.live.runner import serve

        serve(spec)
        return
    from runner.app import start_app

    # ai-runner's start_app reads --prepare-models from sys.argv itself.
    if "--prepare-models" in argv and "--prepare-models" not in sys.argv:
        sys.argv.append("--prepare-models")
    start_app(spec)


def serve_batch(spec, argv: Sequence[str]) -> None:
    pipeline_class = import_object(spec.pipeline_cls)
    if wants_prepare(argv):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        if not prepare(pipeline_class):  # type: ignore[arg-type]
            logging.info("%s has no prepare_models: nothing to prepare", spec.name)
        return
    import uvicorn
    from runner.app import create_app

    from ai_runner_kit.readiness import readiness_router

    # ai-runner's /health answers 200 even while the pipeline is not ready: /ready is the
    # health_url go-livepeer's live runner needs.
    pipeline = pipeline_class(spec.name, str(model_dir_root()))  # type: ignore[operator]
    app = create_app(pipeline)
    app.include_router(readiness_router(pipeline))
    uvicorn.run(app, host=os.getenv("HOST", "0.0.0.0"), port=int(os.getenv("PORT", "8000")))
