"""Adds the pipeline to ai-runner's runner/dl_checkpoints.sh, the script operators prepare models
with. Each piece is added only when missing. Both kinds get:

- `AI_RUNNER_<X>_IMAGE=${AI_RUNNER_<X>_IMAGE:-<image>}` after the image variables at the top,
  and a line for it in display_help;
- `prepare_<x>_models()` after the other prepare functions. It calls `run_pipeline_prepare`,
  which pulls the image, tags it and runs its default command with PREPARE_MODELS=1;

and calls to that function where the script prepares their kind: `--live` and `--tensorrt` for a
live pipeline (dl_checkpoints_live.py), `--batch` for a batch one (dl_checkpoints_batch.py).
"""

import re
from collections.abc import Callable

from . import dl_checkpoints_batch, dl_checkpoints_live
from .names import PipelineNames
from .patching import AnchorMissing, Conflict, first_line, indentation, last_line
from .shell_script import ECHO_SHAPE, function_span, is_defined

RELATIVE_PATH = "runner/dl_checkpoints.sh"

ANY_FUNCTION_START = r"^(function\s+)?[A-Za-z_]\w*\s*\(\)\s*\{"
ANY_IMAGE_VARIABLE = r"^AI_RUNNER_[A-Z0-9_]+_IMAGE="

# What display_help says of the image variable: a batch image is prepared by `--batch` only.
IMAGE_HELP = {
    "live": "{name} Docker image (default: {image})",
    "batch": "{name} batch Docker image, prepared by --batch (default: {image})",
}


def patch(text: str, pipeline: PipelineNames) -> tuple[str, list[str]]:
    """The script with every missing piece added, and a line per piece added."""
    lines = text.split("\n")
    added = [piece(lines, pipeline) for piece in PIECES[pipeline.kind]]
    return "\n".join(lines), [description for description in added if description]


def add_image_variable(lines: list[str], pipeline: PipelineNames) -> str | None:
    variable = pipeline.image_variable
    # As upstream's: the image from the environment when set there, else this project's.
    wanted = f"{variable}=" + "${" + f"{variable}:-{pipeline.image}" + "}"
    existing = first_line(lines, rf"^{variable}=")
    if existing is not None:
        if lines[existing].strip() == wanted:
            return None
        raise Conflict(
            f"line {existing + 1} reads `{lines[existing].strip()}`, but this project's image is "
            f"{pipeline.image}: fix or remove that line, then run again"
        )
    first_function = first_line(lines, ANY_FUNCTION_START)
    last = last_line(lines, ANY_IMAGE_VARIABLE, 0, first_function)
    if last is None:
        raise AnchorMissing(
            "the image variables above the first function (lines such as "
            "`AI_RUNNER_SCOPE_IMAGE=${AI_RUNNER_SCOPE_IMAGE:-...}`)"
        )
    lines.insert(last + 1, wanted)
    return f"{variable} (default {pipeline.image})"


def add_help_for_image_variable(lines: list[str], pipeline: PipelineNames) -> str | None:
    start, end = function_span(lines, "display_help")
    variable = pipeline.image_variable
    if first_line(lines, rf'echo "\s*{variable}\s', start, end) is not None:
        return None
    anchor = last_line(lines, r'^\s*echo "\s*AI_RUNNER_[A-Z0-9_]+_IMAGE\s', start, end)
    if anchor is None:
        raise AnchorMissing('the `echo "  AI_RUNNER_..._IMAGE ..."` lines of `display_help()`')
    shape = ECHO_SHAPE.match(lines[anchor])
    text = f"{variable}  " + IMAGE_HELP[pipeline.kind].format(
        name=pipeline.name, image=pipeline.image
    )
    lines.insert(anchor + 1, f'{shape[1]}echo "{shape[2]}{text}"')
    return f"display_help: {variable}"


def add_prepare_function(lines: list[str], pipeline: PipelineNames) -> str | None:
    if is_defined(lines, pipeline.prepare_function):
        return None
    function_span(lines, "run_pipeline_prepare")  # the function ours calls must be there
    last = last_line(lines, r"^(function\s+)?prepare_\w+_models\s*\(\)\s*\{")
    if last is None:
        raise AnchorMissing("a `prepare_<pipeline>_models()` function to add this one after")
    _, end = function_span(lines, re.search(r"prepare_\w+_models", lines[last])[0])
    body = indentation(lines[last + 1]) or "  "
    lines[end + 1 : end + 1] = [
        "",
        f"function {pipeline.prepare_function}() " + "{",
        f'{body}printf "\\nPreparing {pipeline.name} models...\\n"',
        f'{body}run_pipeline_prepare "{pipeline.name}" "${pipeline.image_variable}"',
        "}",
    ]
    return f"{pipeline.prepare_function}()"


Piece = Callable[[list[str], PipelineNames], str | None]

# In the order the script reads, so that what a run prints follows the file.
PIECES: dict[str, tuple[Piece, ...]] = {
    "live": (
        add_image_variable,
        add_help_for_image_variable,
        *dl_checkpoints_live.PIECES,
        add_prepare_function,
    ),
    "batch": (
        add_image_variable,
        add_help_for_image_variable,
        add_prepare_function,
        *dl_checkpoints_batch.PIECES,
    ),
}
