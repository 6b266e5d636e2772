"""Adds the pipeline to go-livepeer's ai/worker/docker.go, whose getContainerImageName picks the
image the orchestrator starts when -aiRunnerImageOverrides names none: from
`livePipelineToImage` by model_id for a live pipeline, from `pipelineToImage` by pipeline name
for a batch one.

The entry goes last in its map, after a comment line of its own. gofmt aligns the values of
consecutive entries, and a comment line ends such a run, so the new entry is gofmt-clean whatever
the length of the keys above it, and those keys keep their alignment.
"""

import re

from .names import PipelineNames
from .patching import AnchorMissing, Conflict, first_line, indentation

RELATIVE_PATH = "ai/worker/docker.go"

IMAGE_MAPS = {"live": "livePipelineToImage", "batch": "pipelineToImage"}
MAP_ENTRY = re.compile(r'\s*"(?P<key>[^"]*)":\s*"(?P<value>[^"]*)",\s*(//.*)?')


def patch(text: str, pipeline: PipelineNames) -> tuple[str, list[str]]:
    """The file with the pipeline's map entry added when missing, and a line per piece added."""
    image_map = IMAGE_MAPS[pipeline.kind]
    lines = text.split("\n")
    # Braces concatenated, not doubled in an f-string: doubled braces in a generated file read
    # as leftover template syntax.
    declaration = f"var {image_map} = map[string]string" + "{"
    opening = first_line(lines, "^" + re.escape(declaration) + r"\s*$")
    if opening is None:
        raise AnchorMissing(f"the map `{declaration}`")
    closing = first_line(lines, r"^\}\s*$", opening + 1)
    if closing is None:
        raise AnchorMissing(f"the closing brace in column 0 of the map `{image_map}`")

    entries = [MAP_ENTRY.fullmatch(line) for line in lines[opening + 1 : closing]]
    for entry in filter(None, entries):
        if entry["key"] != pipeline.name:
            continue
        if entry["value"] == pipeline.image:
            return text, []
        raise Conflict(
            f'{image_map} already maps "{pipeline.name}" to "{entry["value"]}", but this '
            f"project's image is {pipeline.image}: fix or remove that entry, then run again"
        )

    first_entry = next((entry for entry in entries if entry), None)
    indent = indentation(first_entry.string) if first_entry else "\t"
    lines[closing:closing] = [
        f"{indent}// {pipeline.name} is a custom {pipeline.kind} pipeline, built from its own "
        "repository",
        f'{indent}"{pipeline.name}": "{pipeline.image}",',
    ]
    return "\n".join(lines), [f'{image_map}: "{pipeline.name}": "{pipeline.image}"']
