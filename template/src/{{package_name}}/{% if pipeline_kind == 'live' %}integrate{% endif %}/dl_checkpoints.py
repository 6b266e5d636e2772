"""Adds the pipeline to ai-runner's runner/dl_checkpoints.sh, the script operators run to prepare
models (`PIPELINE=<name> ./dl_checkpoints.sh --live`). Each piece is added only when missing:

- `AI_RUNNER_<X>_IMAGE=${AI_RUNNER_<X>_IMAGE:-<image>}` after the image variables at the top;
- in display_help: a line for that variable, and the name among PIPELINE's options;
- in download_live_models: a `"<name>")` branch before `"all")`, the call in `"all")`, and the
  name on the `Valid values:` line of `*)`;
- in build_tensorrt_models: a `"<name>")` branch (preparing already built everything, as for
  scope), so that `--tensorrt` accepts the name, and the name on its `Valid values:` line;
- `prepare_<x>_models()` after the other prepare functions. It calls `run_pipeline_prepare`,
  which pulls the image, tags it and runs its default command with PREPARE_MODELS=1.
"""

import re
from collections.abc import Callable
from functools import partial

from .names import PipelineNames
from .patching import AnchorMissing, Conflict, first_line, indentation, last_line
from .shell_script import (
    CaseStatement,
    body_indentation,
    branch_terminator,
    function_span,
    is_defined,
    pipeline_case,
)

RELATIVE_PATH = "runner/dl_checkpoints.sh"

ANY_FUNCTION_START = r"^(function\s+)?[A-Za-z_]\w*\s*\(\)\s*\{"
ANY_IMAGE_VARIABLE = r"^AI_RUNNER_[A-Z0-9_]+_IMAGE="
ECHO_SHAPE = re.compile(r'(\s*)echo "(\s*)')  # indentation of the echo and inside its text


def patch(text: str, pipeline: PipelineNames) -> tuple[str, list[str]]:
    """The script with every missing piece added, and a line per piece added."""
    lines = text.split("\n")
    added = [piece(lines, pipeline) for piece in PIECES]
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
    text = f"{variable}  {pipeline.name} Docker image (default: {pipeline.image})"
    lines.insert(anchor + 1, f'{shape[1]}echo "{shape[2]}{text}"')
    return f"display_help: {variable}"


def add_help_for_pipeline_option(lines: list[str], pipeline: PipelineNames) -> str | None:
    start, end = function_span(lines, "display_help")
    option = f"- '{pipeline.name}'"
    if first_line(lines, re.escape(option), start, end) is not None:
        return None
    anchor = first_line(lines, r"""^\s*echo "\s*- 'all'""", start, end)
    if anchor is None:
        raise AnchorMissing("""the `echo "  - 'all': ..."` option line of `display_help()`""")
    shape = ECHO_SHAPE.match(lines[anchor])
    lines.insert(anchor, f'{shape[1]}echo "{shape[2]}{option}: custom live pipeline"')
    return f"display_help: PIPELINE option '{pipeline.name}'"


def insert_branch_before_all(
    lines: list[str], case: CaseStatement, label: str, commands: list[str]
) -> None:
    """Add `"label")` with `commands` just before the case's `"all")` branch, indented alike."""
    before = case.branch("all")
    body = body_indentation(lines, before, case)
    lines[before.start : before.start] = [
        f'{indentation(lines[before.start])}"{label}")',
        *(f"{body}{command}" for command in commands),
        f"{body};;",
    ]


def add_live_branch(lines: list[str], pipeline: PipelineNames) -> str | None:
    case = pipeline_case(lines, "download_live_models")
    if has_own_branch(lines, case, pipeline.name, calling=pipeline.prepare_function):
        return None
    announce = f'printf "\\nPreparing {pipeline.name} live models only...\\n"'
    insert_branch_before_all(lines, case, pipeline.name, [announce, pipeline.prepare_function])
    return f'download_live_models: "{pipeline.name}") branch'


def add_call_to_all(lines: list[str], pipeline: PipelineNames) -> str | None:
    case = pipeline_case(lines, "download_live_models")
    branch = case.branch("all")
    if any(line.strip() == pipeline.prepare_function for line in branch.body(lines)):
        return None
    body = body_indentation(lines, branch, case)
    lines.insert(branch_terminator(lines, branch, case), f"{body}{pipeline.prepare_function}")
    return f'download_live_models: {pipeline.prepare_function} in "all")'


def add_tensorrt_branch(lines: list[str], pipeline: PipelineNames) -> str | None:
    case = pipeline_case(lines, "build_tensorrt_models")
    if has_own_branch(lines, case, pipeline.name):
        return None
    announce = f'printf "\\n{pipeline.name} models already built on prepare...\\n"'
    insert_branch_before_all(lines, case, pipeline.name, [announce])
    return f'build_tensorrt_models: "{pipeline.name}") branch'


def add_to_valid_values(lines: list[str], pipeline: PipelineNames, function: str) -> str | None:
    case = pipeline_case(lines, function)
    catch_all = case.catch_all()
    index = first_line(lines, r"Valid values: ", catch_all.start + 1, catch_all.end)
    if index is None:
        raise AnchorMissing(f"the `Valid values:` line of the `*)` branch of {case.describe()}")
    listed = re.search(r"Valid values: (?P<values>[^\"'\\]*)", lines[index])
    values = [value.strip() for value in listed["values"].split(",")]
    if pipeline.name in values:
        return None
    # Keep `all` last, as it reads in the help.
    values = (
        [*values[:-1], pipeline.name, "all"] if values[-1] == "all" else [*values, pipeline.name]
    )
    line = lines[index]
    lines[index] = line[: listed.start("values")] + ", ".join(values) + line[listed.end("values") :]
    return f"{function}: {pipeline.name} in Valid values"


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


def has_own_branch(
    lines: list[str], case: CaseStatement, name: str, calling: str | None = None
) -> bool:
    """Whether the case already has this pipeline's `"<name>")` branch (calling `calling`, when
    given). Refuses when another branch would take the name first: bash runs the first match."""
    for branch in case.branches:
        if branch.is_catch_all or not branch.matches(name):
            continue
        body = [line.strip() for line in branch.body(lines)]
        if branch.is_exactly(name) and (calling is None or calling in body):
            return True
        raise Conflict(
            f"the `{branch.label})` branch of {case.describe()} already matches `{name}`: "
            "the pipeline needs a name of its own (it is go-livepeer's model_id too)"
        )
    return False


PIECES: tuple[Callable[[list[str], PipelineNames], str | None], ...] = (
    add_image_variable,
    add_help_for_image_variable,
    add_help_for_pipeline_option,
    add_live_branch,
    add_call_to_all,
    partial(add_to_valid_values, function="download_live_models"),
    add_tensorrt_branch,
    partial(add_to_valid_values, function="build_tensorrt_models"),
    add_prepare_function,
)
