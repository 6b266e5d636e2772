"""The live pieces of dl_checkpoints.sh: operators prepare one live pipeline with
`PIPELINE=<name> ./dl_checkpoints.sh --live` (or `--tensorrt`), every one with `PIPELINE=all`.

- in display_help: the name among PIPELINE's options;
- in download_live_models: a `"<name>")` branch before `"all")`, the call in `"all")`, and the
  name on the `Valid values:` line of `*)`;
- in build_tensorrt_models: a `"<name>")` branch (preparing already built everything, as for
  scope), so that `--tensorrt` accepts the name, and the name on its `Valid values:` line.
"""

import re
from functools import partial

from .names import PipelineNames
from .patching import AnchorMissing, Conflict, first_line, indentation
from .shell_script import (
    ECHO_SHAPE,
    CaseStatement,
    body_indentation,
    branch_terminator,
    function_span,
    pipeline_case,
)


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


# Between the image variable and its help (first) and prepare_<x>_models() (last).
PIECES = (
    add_help_for_pipeline_option,
    add_live_branch,
    add_call_to_all,
    partial(add_to_valid_values, function="download_live_models"),
    add_tensorrt_branch,
    partial(add_to_valid_values, function="build_tensorrt_models"),
)
