"""`ai-runner-kit`: the kit's tools for any ai-runner pipeline, named by `--spec`.

    ai-runner-kit bench --spec noop --json
    ai-runner-kit try --spec runner.live.pipelines.noop:Noop --sample
    ai-runner-kit try --spec my_pipeline.main:pipeline_spec clip.mp4
    ai-runner-kit live-runner --spec my_pipeline.main:pipeline_spec
    ai-runner-kit session --sample out.mp4 --runner my-runner
    ai-runner-kit params-schema --spec my_pipeline.main:pipeline_spec

Everything after the subcommand, except `--spec`, goes to the command itself: `ai-runner-kit
bench --spec S --help` shows the benchmark's options. A generated project's `<name>-bench`,
`<name>-try`, `<name>-session` and `<name> --live-runner` are these commands, bound to its spec.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from ai_runner_kit import __version__

PROG = "ai-runner-kit"
SPEC_HELP = (
    "SPEC is a builtin ai-runner pipeline (noop), module:attribute naming a PipelineSpec or a "
    "BatchSpec (my_pipeline.main:pipeline_spec), or a pipeline class path as ai-runner's specs "
    "write it (runner.live.pipelines.noop:Noop)."
)
COMMANDS = {
    "try": "run the pipeline on a video, images, a sample clip or a camera; save what it makes",
    "bench": "time the model alone, the pipeline streaming frames, and the path without a model",
    "live-runner": "serve the pipeline as a go-livepeer live runner (live pipelines)",
    "session": "stream a video through a live-runner session on a go-livepeer orchestrator",
    "params-schema": "print the JSON Schema of the pipeline's parameters",
}


def usage() -> str:
    lines = [f"usage: {PROG} COMMAND --spec SPEC [OPTIONS...]", "", "commands:"]
    lines += [f"  {name:<14} {what}" for name, what in COMMANDS.items()]
    lines += ["", SPEC_HELP, f"`{PROG} COMMAND --spec SPEC --help` lists a command's options."]
    return "\n".join(lines)


def split_spec(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """(the value of --spec, every other argument in order)."""
    spec, rest = None, []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--spec":
            spec = next(arguments, "")
        elif argument.startswith("--spec="):
            spec = argument.removeprefix("--spec=")
        else:
            rest.append(argument)
    return spec, rest


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        from ai_runner_kit.serve import print_for_a_pipe

        print_for_a_pipe(usage())
        return 0
    if argv[0] == "--version":
        print(f"{PROG} {__version__}")
        return 0
    command, (spec_text, rest) = argv[0], split_spec(argv[1:])
    if command not in COMMANDS:
        return fail(f"unknown command {command!r}: choose from {', '.join(COMMANDS)}")
    prog = f"{PROG} {command}"
    if command == "session":
        from ai_runner_kit.live.session import cli as session_cli

        return session_cli.main(rest, prog)
    if not spec_text or spec_text.startswith("-"):
        return fail(f"{command} needs --spec SPEC. {SPEC_HELP}")
    from ai_runner_kit.specs import SpecError, is_live, resolve_spec

    try:
        spec = resolve_spec(spec_text)
    except SpecError as error:
        return fail(str(error))
    if command == "params-schema":
        from ai_runner_kit.serve import params_schema, print_for_a_pipe

        print_for_a_pipe(json.dumps(params_schema(spec), indent=2))
        return 0
    if command == "live-runner":
        if not is_live(spec):
            return fail(f"{spec_text} is a batch pipeline: a live runner serves live pipelines")
        from ai_runner_kit import serve

        return serve.main(spec, prog, ["--live-runner", *rest])
    from ai_runner_kit.commands import run_bench, run_try

    return (run_bench if command == "bench" else run_try)(spec, rest, prog)
